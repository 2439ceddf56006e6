/**
 * FRUGAL through thousands of refreshes: the main job's model (tiny LLaMA
 * 4×64, batch 8, context 64) trained by `trainStep` for 2,000 steps with the
 * subspace refreshed every T = 5 steps (400 refreshes), one child process per
 * method so that its RSS is the run's own, on one thread. Per method: the
 * median time of a steady step and of a refresh step (same run, interleaved by
 * the schedule itself), the cost of one refresh, that cost amortized at
 * T = 200, RSS at steps 0 / 500 / 1,000 / 2,000, and how many programs were
 * compiled. A row FAILs when its RSS grows by 32 MiB or more from step 200 to
 * 2,000, when its compiled programs grow after step 200, or when its loss is
 * not finite or did not fall.
 *
 * Run: `pnpm --filter @frugal-ts/bench run refresh` (STEPS=… to shorten).
 */
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import type { Tensor } from '@frugal-ts/core'
import { Key, cpu, currentBackend, dispose, fromArray, keep, memory, registerBackend, scope, setBackend } from '@frugal-ts/core'
import type { GradientTransformation } from '@frugal-ts/frugal'
import { adamw, badam, frugal, galore, trainStep } from '@frugal-ts/frugal'
import { initParams, lmLoss } from '@frugal-ts/example-llama/src/model'
import type { LlamaParams, ModelConfig } from '@frugal-ts/example-llama/src/model'
import { loadCorpus, sampleBatch } from '@frugal-ts/example-llama/src/data'
import { median } from './src/table'

const STEPS = Number(process.env.STEPS ?? 2000)
const GAP = 5
const THREADS = 1
const AT = [0, 200, 500, 1000, 2000].filter((s) => s <= STEPS)
const model: ModelConfig = { layers: 4, width: 64, heads: 4, context: 64, vocab: 256 }
const LR = 1e-3

const methods: Record<string, () => GradientTransformation<any>> = {
  adam: () => adamw({ learningRate: LR }),
  'frugal blocks (random)': () => frugal({ learningRate: LR, updateGap: GAP }),
  'badam (descending)': () => badam({ learningRate: LR, updateGap: GAP }),
  'galore (svd)': () => galore({ learningRate: LR, updateGap: GAP }),
  'frugal randk': () => frugal({ learningRate: LR, updateGap: GAP, projector: 'randk' }),
}

interface Report {
  readonly steady: number
  /** null when no refresh ran (Adam) */
  readonly refresh: number | null
  readonly refreshes: number
  readonly rss: Record<number, number>
  readonly traces: Record<number, number>
  readonly tensors: Record<number, number>
  readonly firstLoss: number
  readonly lastLoss: number
  readonly mode: string
}

/** one method's run, in this (child) process */
const child = (name: string): Report => {
  registerBackend('cpu-1', () => cpu({ wasm: true, threads: THREADS }))
  setBackend('cpu-1')
  const corpus = loadCorpus('sotu')
  const opt = methods[name]()
  const step = trainStep((p: LlamaParams, tokens: Tensor) => lmLoss(p, tokens, model.heads), opt)
  const [paramKey, dataKey] = Key.splitKeys(Key.key(0), 2)
  let params = keep(initParams(model, paramKey))
  let state = keep(scope(() => opt.init(params as never)))
  const rss: Record<number, number> = { 0: process.memoryUsage().rss }
  const traces: Record<number, number> = { 0: 0 }
  const tensors: Record<number, number> = { 0: memory(currentBackend()).tensors }
  const steady: number[] = []
  const refresh: number[] = []
  const losses: number[] = []
  for (let i = 0; i < STEPS; i++) {
    const tokens = fromArray(sampleBatch(corpus.train, dataKey, i, 8, model.context), [8, model.context + 1], 'int32')
    const t0 = performance.now()
    const r = step(params, state, tokens)
    const ms = performance.now() - t0
    dispose(tokens)
    ;({ params, state } = r)
    losses.push(r.loss)
    // the first steps compile; after that, each step is a steady or a refresh step
    if (i >= 20) (r.refreshed ? refresh : steady).push(ms)
    if (AT.includes(i + 1)) {
      rss[i + 1] = process.memoryUsage().rss
      traces[i + 1] = step.traceCount
      tensors[i + 1] = memory(currentBackend()).tensors
    }
  }
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length
  return {
    steady: median(steady),
    refresh: refresh.length > 0 ? median(refresh) : null,
    refreshes: step.refreshes,
    rss,
    traces,
    tensors,
    firstLoss: mean(losses.slice(0, 10)),
    lastLoss: mean(losses.slice(-10)),
    mode: step.mode,
  }
}

const mib = (b: number) => (b / 2 ** 20).toFixed(0)

const main = () => {
  const load = (spawnSync('cat', ['/proc/loadavg'], { encoding: 'utf8' }).stdout || '').split(' ').slice(0, 3).join(' ')
  console.log(`FRUGAL refreshes: tiny LLaMA ${model.layers}×${model.width}, batch 8, context 64, ${STEPS} steps, refresh every T = ${GAP} steps, lr ${LR}`)
  console.log(`cpu backend (wasm SIMD), ${THREADS} thread per run, one child process per method (RSS is the run's own); load average ${load}\n`)
  const rows: string[][] = []
  let failed = false
  for (const name of Object.keys(methods)) {
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--conditions=source', fileURLToPath(import.meta.url), '--child', name], {
      encoding: 'utf8',
      env: process.env,
      maxBuffer: 1 << 24,
    })
    if (r.status !== 0) {
      rows.push([name, String(THREADS), 'FAIL: the run crashed', r.stderr.trim().split('\n').pop() ?? ''])
      failed = true
      continue
    }
    const rep = JSON.parse(r.stdout.trim().split('\n').pop()!) as Report
    const last = AT[AT.length - 1]
    const growth = (rep.rss[last] - rep.rss[Math.min(200, last)]) / 2 ** 20
    const checks = [
      growth < 32 ? '' : `RSS +${growth.toFixed(0)} MiB`,
      rep.traces[last] === rep.traces[Math.min(200, last)] ? '' : `compiles ${rep.traces[200]} -> ${rep.traces[last]}`,
      rep.tensors[last] === rep.tensors[Math.min(200, last)] ? '' : `tensors ${rep.tensors[200]} -> ${rep.tensors[last]}`,
      Number.isFinite(rep.lastLoss) && rep.lastLoss < rep.firstLoss ? '' : `loss ${rep.firstLoss.toFixed(3)} -> ${rep.lastLoss.toFixed(3)}`,
    ].filter(Boolean)
    failed ||= checks.length > 0
    const cost = rep.refresh === null ? NaN : rep.refresh - rep.steady
    rows.push([
      name,
      String(THREADS),
      rep.mode,
      String(rep.refreshes),
      rep.steady.toFixed(2),
      rep.refresh === null ? '—' : rep.refresh.toFixed(2),
      Number.isFinite(cost) ? cost.toFixed(2) : '—',
      Number.isFinite(cost) ? (cost / 200).toFixed(4) : '—',
      AT.map((s) => mib(rep.rss[s])).join(' / '),
      String(rep.traces[last]),
      `${rep.firstLoss.toFixed(3)} -> ${rep.lastLoss.toFixed(3)}`,
      checks.length ? `FAIL: ${checks.join(', ')}` : 'PASS',
    ])
  }
  const head = ['method', 'threads', 'mode', 'refreshes', 'steady ms', 'refresh-step ms', 'one refresh ms', 'amortized ms/step at T=200', `RSS MiB at ${AT.join('/')}`, 'programs', 'loss (first 10 -> last 10)', 'check']
  console.log(`| ${head.join(' | ')} |\n|${head.map(() => ' --- ').join('|')}|`)
  for (const r of rows) console.log(`| ${r.join(' | ')} |`)
  console.log('\nmedians; "one refresh" = refresh-step median − steady-step median; checks: RSS growth < 32 MiB and programs and live tensors unchanged from step 200 on, loss finite and falling')
  if (failed) process.exitCode = 1
}

if (process.argv[2] === '--child') process.stdout.write(`${JSON.stringify(child(process.argv[3]))}\n`)
else main()
