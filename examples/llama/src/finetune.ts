/**
 * `frugal-train finetune`: sentiment classification of `sentiment@5.0.2`'s
 * labelled review sentences with a classification head on the pre-trained
 * decoder (mean of the final hidden states over the sentence's bytes), tuned
 * with FRUGAL at ρ = 0 (signSGD on every attention/MLP linear, scaled by
 * `stateFreeScale` 0.1, Adam on embeddings, norms and the head) and with the
 * paper's recipe `frugalFinetune` (`frugal-ft`: rank-8 columns of the query
 * and value matrices with Adam, the other linears permanently state-free,
 * T = 500, state-free scale 0.1), against Adam and GaLore, over `--seeds` seeds.
 */
import { join } from 'node:path'
import type { Tensor } from '@frugal-ts/core'
import { Key, Tree, argmax, dispose, cast, div, equal, expandDims, fromArray, keep, mul, scope, sum } from '@frugal-ts/core'
import { jit, nn } from '@frugal-ts/autodiff'
import type { GradientTransformation } from '@frugal-ts/frugal'
import { frugalFinetune, stateBytes, trainStep } from '@frugal-ts/frugal'
import { learningRate } from './optimizers'
import { meanSd } from './compare'
import type { Flags } from './args'
import { loadRun, writeAtomic } from './checkpoint'
import type { Labelled } from './data'
import { checkCorpus, loadCorpus, loadSentiment } from './data'
import { UsageError } from './errors'
import type { Backbone, LlamaParams } from './model'
import { hiddenStates, initParams } from './model'
import type { OptimizerConfig } from './optimizers'
import { autoUpdateGap, makeOptimizer } from './optimizers'
import { progress } from './progress'
import { encode } from './tokenizer'
import { createTrainer, disposeRun, runTraining } from './train'
import type { Io } from './config'
import { buildConfig, writableDir } from './config'

/** A classifier: the decoder below its LM head, and a new head [D, 2] (not projected: its path contains `head`). */
export interface ClassifierParams {
  readonly model: Backbone
  readonly head: Tensor
}

/**
 * Sentences as a batch: bytes truncated to `context`, right-padded with 0, a
 * float mask of the real bytes (causal attention never lets them see the padding).
 * @example encodeSentences([{ text: 'great', label: 1 }], 8)
 */
export const encodeSentences = (items: readonly Labelled[], context: number) => {
  const ids = new Int32Array(items.length * context)
  const mask = new Float32Array(items.length * context)
  items.forEach((it, b) => {
    const bytes = encode(it.text).subarray(0, context)
    ids.set(bytes, b * context)
    mask.fill(1, b * context, b * context + Math.max(1, bytes.length))
  })
  const n = items.length
  return (): [Tensor, Tensor, Tensor] => [
    fromArray(ids, [n, context], 'int32'),
    fromArray(mask, [n, context]),
    fromArray(Int32Array.from(items, (i) => i.label), [n], 'int32'),
  ]
}

/**
 * Class logits [B, 2]: the head applied to the mask-weighted mean of the final hidden states.
 * @example classify(params, ids, mask, 4)
 */
export const classify = (p: ClassifierParams, ids: Tensor, mask: Tensor, heads: number): Tensor => {
  const m = expandDims(mask, -1)
  const pooled = div(sum(mul(hiddenStates(p.model, ids, heads), m), 1), sum(m, 1))
  return nn.linear(pooled, p.head)
}

const clone = <T>(tree: T): T => Tree.map(tree as Tree.Tree<Tensor>, (t: Tensor) => fromArray(t.dataSync().slice(), t.shape, t.dtype)) as T

/** The rank of `frugal-ft`'s query/value subspaces: the paper's 8 (of the model's width here; of 768 in the paper). */
export const FINETUNE_RANK = 8

/** A fine-tuning run: its name, its configuration as recorded, and the optimizer when it is not a `makeOptimizer` preset. */
type Method = readonly [string, OptimizerConfig & { readonly preset?: string; readonly rank?: number }, ((s: Parameters<typeof makeOptimizer>[1]) => GradientTransformation<any>)?]

/**
 * The fine-tuning runs: Adam, GaLore ρ .25, FRUGAL ρ 0 with the state-free
 * part scaled by `stateFreeScale`, and `frugal-ft`, the paper's recipe
 * (`frugalFinetune`: T = 500, scale 0.1, ρ = rank / width on wq and wv).
 */
const methods = (f: Flags, steps: number, width: number): Method[] => {
  const base = { updateGap: (f['update-gap'] as number) ?? autoUpdateGap(steps), stateful: 'adam', weightDecay: (f['weight-decay'] as number) ?? 0 } as const
  const rank = Math.min(FINETUNE_RANK, width)
  return [
    ['adam', { ...base, optimizer: 'adam', density: 1, projection: 'blocks', stateFree: 'none', stateFreeScale: 1 }],
    ['galore', { ...base, optimizer: 'galore', density: 0.25, projection: 'svd', stateFree: 'none', stateFreeScale: 1 }],
    ['frugal-0', { ...base, optimizer: 'frugal', density: 0, projection: 'blocks', stateFree: 'signsgd', stateFreeScale: (f['state-free-scale'] as number) ?? 0.1 }],
    [
      'frugal-ft',
      { ...base, optimizer: 'frugal', preset: 'frugalFinetune', rank, density: rank / width, updateGap: 500, projection: 'columns', stateFree: 'signsgd', stateFreeScale: 0.1 },
      (s) => frugalFinetune({ learningRate: learningRate(s), rank, width, weightDecay: base.weightDecay }),
    ],
  ]
}

/** The pre-trained decoder: from `--resume`, or a brief Adam pre-training on the corpus. */
const pretrained = (f: Flags, io: Io): { params: LlamaParams; heads: number; context: number } => {
  if (f.resume !== undefined) {
    const bad = ['layers', 'width', 'heads', 'pretrain-steps', 'pretrain-lr', 'corpus'].find((k) => f[k as keyof Flags] !== undefined)
    if (bad) throw new UsageError(`--${bad} cannot be used with --resume (the checkpoint holds the model)`)
    const { config, state } = loadRun(f.resume as string)
    dispose(state.opt)
    return { params: state.params, heads: config.model.heads, context: (f.context as number) ?? config.model.context }
  }
  const steps = (f['pretrain-steps'] as number) ?? 600
  const config = buildConfig({ ...f, optimizer: 'adam', steps: Math.max(2, steps), lr: f['pretrain-lr'] ?? 3e-3, context: f.context ?? 64, batch: 8 })
  const corpus = loadCorpus(config.corpus)
  checkCorpus(corpus, config.model.context)
  const trainer = createTrainer(config, corpus)
  const bar = progress('pretrain', io.stderr)
  const { state } = runTraining(trainer, { stopAfter: steps, onStep: (i) => bar.update(i) })
  bar.done(steps > 0 ? `${steps} Adam steps on ${corpus.source}, train loss ${state.trainLoss.at(-1)?.toFixed(3)}` : 'skipped (random init)')
  dispose([state.opt, state.dataKey])
  return { params: state.params, heads: config.model.heads, context: config.model.context }
}

/**
 * Runs the fine-tuning comparison and prints its accuracy table.
 * @returns the exit status
 */
export const finetune = (f: Flags, io: Io): number => {
  const bad = ['compare', 'optimizer', 'density', 'projection', 'state-free', 'stateful', 'save', 'save-every', 'stop-after', 'lr-grid'].find((k) => f[k as keyof Flags] !== undefined)
  if (bad) throw new UsageError(`--${bad} does not apply to finetune (it compares adam, galore ρ=0.25, frugal ρ=0 and frugal-ft)`)
  const seeds = (f.seeds as number | undefined) ?? 1
  const seed0 = (f.seed as number) ?? 0
  const steps = (f.steps as number) ?? 300
  const batch = (f.batch as number) ?? 16
  const lr = (f.lr as number) ?? 1e-3
  const out = writableDir((f.out as string) ?? 'out')
  const schedule = { lr, steps, warmup: (f.warmup as number) ?? 0.1, endFraction: 0.1 }
  for (const [, c] of methods(f, steps, 64)) makeOptimizer(c, schedule)
  const data = loadSentiment(seed0)
  const { params: base, heads, context } = pretrained(f, io)
  const width = base.embed.shape[1]
  const backbone = keep({ embed: base.embed, layers: base.layers, final_norm: base.final_norm })
  io.stderr.write(`sentiment@5.0.2: ${data.train.length} training and ${data.test.length} test sentences (first ${context} bytes of each)\n`)
  const loss = (p: ClassifierParams, ids: Tensor, mask: Tensor, labels: Tensor) => nn.crossEntropy(classify(p, ids, mask, heads), labels)
  const scores = jit((p: ClassifierParams, ids: Tensor, mask: Tensor, labels: Tensor) => ({
    loss: mul(loss(p, ids, mask, labels), labels.shape[0]),
    correct: sum(cast(equal(argmax(classify(p, ids, mask, heads), -1), labels), 'float32')),
  }))
  const evaluate = (p: ClassifierParams) => {
    let l = 0
    let c = 0
    for (let i = 0; i < data.test.length; i += 64) {
      const [ids, mask, labels] = encodeSentences(data.test.slice(i, i + 64), context)()
      scope(() => {
        const r = scores(p, ids, mask, labels)
        l += r.loss.item()
        c += r.correct.item()
      })
    }
    return { accuracy: c / data.test.length, loss: l / data.test.length }
  }
  const rows: { name: string; seed: number; accuracy: number; loss: number; stateBytes: number; msPerStep: number; config: OptimizerConfig }[] = []
  for (let k = 0; k < seeds; k++)
  for (const [name, config, make] of methods(f, steps, width)) {
    const seed = seed0 + k
    const opt = make ? make(schedule) : makeOptimizer(config, schedule)
    const step = trainStep(loss, opt)
    let params: ClassifierParams = keep({ model: clone(backbone), head: scope(() => mul(Key.normal(Key.key(seed), [backbone.embed.shape[1], 2]), 0.02)) })
    let state = keep(scope(() => opt.init(params as never)))
    let peak = stateBytes(state)
    const key = Key.key(seed + 1)
    const bar = progress(seeds > 1 ? `${name} seed ${seed}` : name, io.stderr)
    let timed = 0
    for (let s = 0; s < steps; s++) {
      const t0 = performance.now()
      const pick = scope(() => Key.bits(Key.foldIn(key, s), [batch]))
      const items = Array.from(pick, (b) => data.train[b % data.train.length])
      const xs = encodeSentences(items, context)()
      const r = step(params, state, ...xs)
      dispose(xs)
      params = r.params
      state = r.state
      if (r.refreshed || s === 0) peak = Math.max(peak, stateBytes(state))
      const ms = performance.now() - t0
      if (s > 0) timed += ms
      bar.update({ step: s + 1, steps, loss: r.loss, ms })
    }
    const score = evaluate(params)
    bar.done(`test accuracy ${(100 * score.accuracy).toFixed(1)}%`)
    rows.push({ name, seed, ...score, stateBytes: peak, msPerStep: timed / Math.max(1, steps - 1), config })
    disposeRun({ params: params as never, opt: state, dataKey: key } as never)
  }
  const table = finetuneTable(rows)
  const seedsNote = seeds > 1 ? `; ${seeds} fine-tuning seeds from ${seed0}, mean ± sd` : ''
  io.stdout.write(`\nfine-tuning on sentiment@5.0.2 (${steps} steps, batch ${batch}, lr ${lr}, context ${context}; majority class ${(100 * Math.max(...[0, 1].map((c) => data.test.filter((d) => d.label === c).length)) / data.test.length).toFixed(1)}%${seedsNote})\n\n${table}\n`)
  writeAtomic(join(out, 'finetune.json'), new TextEncoder().encode(`${JSON.stringify({ steps, batch, lr, context, seeds, runs: rows }, null, 1)}\n`))
  io.stderr.write(`wrote ${join(out, 'finetune.json')}\n`)
  return 0
}

/**
 * The fine-tuning table (Markdown): per method, test accuracy (mean ± sample sd
 * over seeds when there are several), test loss, optimizer state and its share
 * of Adam's (the first method), ms per step.
 * @example console.log(finetuneTable(JSON.parse(readFileSync('out/finetune.json', 'utf8')).runs))
 */
export const finetuneTable = (rows: readonly { name: string; accuracy: number; loss: number; stateBytes: number; msPerStep: number }[]): string => {
  const names = [...new Set(rows.map((r) => r.name))]
  const base = rows[0]?.stateBytes || 1
  const lines = names.map((n) => {
    const rs = rows.filter((r) => r.name === n)
    const acc = meanSd(rs.map((r) => 100 * r.accuracy))
    const accuracy = rs.length > 1 ? `${acc.mean.toFixed(1)}% ± ${acc.sd.toFixed(1)} (${rs.length})` : `${acc.mean.toFixed(1)}%`
    const bytes = Math.max(...rs.map((r) => r.stateBytes))
    return `| ${n} | ${accuracy} | ${meanSd(rs.map((r) => r.loss)).mean.toFixed(4)} | ${(bytes / 1024).toFixed(1)} KiB (${bytes.toLocaleString('en-US')} B) | ${((100 * bytes) / base).toFixed(1)}% | ${meanSd(rs.map((r) => r.msPerStep)).mean.toFixed(1)} |`
  })
  return ['| run | test accuracy | test loss | optimizer state | vs adam | ms/step |', '|:--|--:|--:|--:|--:|--:|', ...lines].join('\n')
}
