/**
 * One training run in the page: a tiny LLaMA (the model of
 * `examples/llama`) trained on the bundled corpus with one optimizer on one
 * backend. Every call runs on the run's backend (`withBackend`) and inside a
 * `scope`; replaced parameters and optimizer states are released at once
 * (donated to the jitted step, or disposed), so the backend's memory stays flat
 * while the run trains. A run is stepped one step at a time by the page's
 * scheduler, which yields to the browser between steps.
 */
import type { Tensor } from '@frugal-ts/core'
import { Key, Tree, dispose, fromArray, keep, scope, slice, toBackend, withBackend } from '@frugal-ts/core'
import { jit } from '@frugal-ts/autodiff'
import type { GradientTransformation, Params } from '@frugal-ts/frugal'
import { adamw, badam, frugal, galore, stateBytes, trainStep, warmupCosineDecaySchedule } from '@frugal-ts/frugal'
import type { LlamaParams, ModelConfig } from '@frugal-ts/example-llama/src/model'
import { initParams, lmLoss, logits, parameterCount } from '@frugal-ts/example-llama/src/model'
import type { BackendChoice, OptimizerChoice } from './choices'
import type { Corpus } from './data'
import { evenWindows, rng, windows } from './data'

/** What the form asks for. */
export interface RunSpec {
  readonly optimizer: OptimizerChoice
  /** ρ: the fraction of the linear layers' parameters the stateful optimizer updates (GaLore, BAdam, FRUGAL) */
  readonly density: number
  readonly backend: BackendChoice
  readonly steps: number
  /** peak learning rate */
  readonly lr: number
  readonly seed: number
}

/** The model trained in the page: 2 blocks × 32 wide, 2 heads, context 32 (about 30 K parameters). */
export const modelConfig = (vocab: number): ModelConfig => ({ vocab, layers: 2, width: 32, heads: 2, context: 32 })

/** Windows per training batch. */
export const BATCH = 8
const EVAL_WINDOWS = 16

/**
 * Steps between FRUGAL-family subspace refreshes: the paper's T = 200 is for
 * runs of thousands of steps, so short runs scale it down (about 12 refreshes a run).
 * @example updateGap(200) // 17
 */
export const updateGap = (steps: number): number => Math.max(1, Math.min(200, Math.round((200 * steps) / 2400)))

/**
 * The optimizer of a spec: AdamW, or GaLore / BAdam / FRUGAL at density ρ with
 * their paper defaults (FRUGAL: Adam on random blocks, signSGD on the rest),
 * all with 10 % linear warmup and cosine decay to a tenth of the peak.
 * @throws FrugalError for an option out of range, e.g. `density must be in [0, 1], got 1.5 (at frugal.density)`
 * @example makeOptimizer({ optimizer: 'frugal', density: 0.25, backend: 'cpu', steps: 200, lr: 3e-3, seed: 0 })
 */
export const makeOptimizer = (s: RunSpec): GradientTransformation<any> => {
  const warmupSteps = Math.min(Math.round(0.1 * s.steps), s.steps - 1)
  const learningRate = warmupCosineDecaySchedule({ init: 0, peak: s.lr, warmupSteps, decaySteps: Math.max(s.steps, warmupSteps + 1), end: s.lr / 10 })
  if (s.optimizer === 'adam') return adamw({ learningRate, weightDecay: 0 })
  const common = { learningRate, density: s.density, updateGap: updateGap(s.steps), seed: s.seed }
  if (s.optimizer === 'galore') return galore(common)
  if (s.optimizer === 'badam') return badam(common)
  return frugal(common)
}

/** A run in the page. */
export interface Run {
  readonly spec: RunSpec
  readonly parameters: number
  /** steps done */
  readonly step: number
  /** training loss of every step done */
  readonly losses: readonly number[]
  /** validation loss at the evaluated steps */
  readonly validation: readonly { readonly step: number; readonly loss: number }[]
  /** bytes of the optimizer state now (`stateBytes`) */
  readonly stateBytes: number
  /** milliseconds of the last step */
  readonly lastMs: number
  /** one training step */
  advance(): number
  /** mean loss on the fixed held-out windows */
  evaluate(): number
  /** logits of the next token after the last `context` tokens of `ids` (left-padded with `pad`) */
  nextLogits(ids: readonly number[], pad: number): Float32Array
  /** releases every tensor the run holds */
  dispose(): void
}

/**
 * Builds a run: parameters drawn on the cpu backend (the same at every
 * backend for a seed) and copied to the run's backend, the optimizer state,
 * and the jitted step, evaluation and next-token functions.
 * @param spec the form's choices
 * @param corpus the tokenized corpus
 * @throws FrugalError for bad optimizer options (before anything is allocated)
 * @example const run = createRun(spec, corpus); run.advance()
 */
export const createRun = (spec: RunSpec, corpus: Corpus): Run => {
  const opt = makeOptimizer(spec)
  const config = modelConfig(corpus.vocab.length)
  const { heads, context } = config
  const on = <R>(f: () => R): R => withBackend(spec.backend, () => scope(f))

  const loss = (p: LlamaParams, tokens: Tensor) => lmLoss(p, tokens, heads)
  // the library's training step: forward, backward, update and applyUpdates compiled with
  // params and state donated; FRUGAL's and BAdam's refreshes (which move their Adam state
  // to other blocks) compile nothing new, so the page's memory stays flat on every backend
  const train = trainStep(loss, opt)
  const evalLoss = jit(loss)
  const lastLogits = jit((p: LlamaParams, ids: Tensor) => slice(logits(p, ids, heads), [0, context - 1, 0], [1, 1, config.vocab]))

  // drawn on the cpu backend: the same initial weights on every backend
  const host = withBackend('cpu', () => scope(() => initParams(config, Key.key(spec.seed))))
  let params = keep(on(() => Tree.map(host as unknown as Params, (t: Tensor) => toBackend(t, spec.backend)) as unknown as LlamaParams))
  if (spec.backend !== 'cpu') dispose(host)
  let state: unknown = keep(on(() => opt.init(params as unknown as Params)))
  const random = rng(spec.seed + 1)
  const held = evenWindows(corpus.validation, EVAL_WINDOWS, context)

  const run: Run & { step: number; losses: number[]; validation: { step: number; loss: number }[]; stateBytes: number; lastMs: number } = {
    spec,
    parameters: parameterCount(params),
    step: 0,
    losses: [],
    validation: [],
    stateBytes: stateBytes(state),
    lastMs: 0,
    advance() {
      const t0 = performance.now()
      const tokens = windows(corpus.train, BATCH, context, random)
      const input = on(() => keep(fromArray(tokens, [BATCH, context + 1], 'int32')))
      const r = withBackend(spec.backend, () => train(params, state as never, input))
      dispose(input)
      params = r.params
      state = r.state
      const value = r.loss
      run.step++
      run.losses.push(value)
      run.stateBytes = stateBytes(state)
      run.lastMs = performance.now() - t0
      return value
    },
    evaluate() {
      const value = on(() => evalLoss(params, fromArray(held, [EVAL_WINDOWS, context + 1], 'int32')).item())
      run.validation.push({ step: run.step, loss: value })
      return value
    },
    nextLogits(ids, pad) {
      const window = new Int32Array(context).fill(pad)
      const tail = ids.slice(-context)
      window.set(tail, context - tail.length)
      return on(() => lastLogits(params, fromArray(window, [1, context], 'int32')).dataSync() as Float32Array)
    },
    dispose() {
      dispose([params, state])
    },
  }
  return run
}

/**
 * Samples one token from logits at a temperature.
 * @example sampleToken(new Float32Array([0, 10, 0]), 0.5, Math.random) // 1, almost surely
 */
export const sampleToken = (logitsRow: Float32Array, temperature: number, random: () => number): number => {
  const t = Math.max(temperature, 1e-3)
  const max = Math.max(...logitsRow)
  const w = Array.from(logitsRow, (l) => Math.exp((l - max) / t))
  let r = random() * w.reduce((a, b) => a + b, 0)
  for (let i = 0; i < w.length; i++) if ((r -= w[i]) <= 0) return i
  return w.length - 1
}
