/**
 * Matrix multiplication throughput, float32 n×n · n×n for n = 256, 512, 1024:
 * frugal-ts on its pure-TS `cpu` backend (eager and jitted), tfjs on
 * tfjs-backend-cpu and tfjs-backend-wasm, and jax-js on its wasm device
 * (jitted). GFLOP/s = 2n³ / time; every call reads its result back to the host.
 *
 * Run: pnpm --filter @frugal-ts/bench run matmul
 */
import { loadJax, loadOurs, randomFloats, useTfBackend } from './src/contenders'
import type { Column, Measured, Row, TimeOptions } from './src/table'
import { attempt, fmt, printTable, ratioOf, time } from './src/table'

/** fewer runs as n grows, so the whole script stays around a minute */
const plans: Record<number, TimeOptions> = {
  256: { warmup: 3, runs: 15, budgetMs: 4000 },
  512: { warmup: 3, runs: 15, budgetMs: 6000 },
  1024: { warmup: 1, runs: 3, budgetMs: 8000 },
}

const oursEager = async (n: number, a: Float32Array, b: Float32Array, plan: TimeOptions): Promise<Measured> => {
  const { core } = await loadOurs()
  const [A, B] = [core.fromArray(a, [n, n]), core.fromArray(b, [n, n])]
  try {
    const run = () => core.scope(() => core.matmul(A, B).dataSync() as Float32Array)
    return { output: run(), timing: time(run, plan) }
  } finally {
    core.dispose([A, B])
  }
}

const oursJit = async (n: number, a: Float32Array, b: Float32Array, plan: TimeOptions): Promise<Measured> => {
  const { core, ad } = await loadOurs()
  const [A, B] = [core.fromArray(a, [n, n]), core.fromArray(b, [n, n])]
  try {
    const mm = ad.jit((x: typeof A, y: typeof A) => core.matmul(x, y))
    const run = () => core.scope(() => mm(A, B).dataSync() as Float32Array)
    return { output: run(), timing: time(run, plan) }
  } finally {
    core.dispose([A, B])
  }
}

const tfjs = (backend: 'cpu' | 'wasm') => async (n: number, a: Float32Array, b: Float32Array, plan: TimeOptions): Promise<Measured> => {
  const tf = await useTfBackend(backend)
  const [A, B] = [tf.tensor2d(a, [n, n]), tf.tensor2d(b, [n, n])]
  try {
    const run = () => tf.tidy(() => tf.matMul(A, B).dataSync() as Float32Array)
    return { output: run(), timing: time(run, plan) }
  } finally {
    tf.dispose([A, B])
  }
}

const jaxJit = async (n: number, a: Float32Array, b: Float32Array, plan: TimeOptions): Promise<Measured> => {
  const jax = await loadJax()
  const np = jax.numpy
  // jax-js arrays are reference-counted: every call consumes its arguments, so pass `.ref`s and dispose at the end
  const [A, B] = [np.array(a).reshape([n, n]), np.array(b).reshape([n, n])]
  const mm = jax.jit((x: typeof A, y: typeof A) => np.matmul(x, y))
  try {
    const run = () => mm(A.ref, B.ref).dataSync() as Float32Array // dataSync consumes the result
    return { output: run(), timing: time(run, plan) }
  } finally {
    A.dispose()
    B.dispose()
    mm.dispose()
  }
}

type Contender = (n: number, a: Float32Array, b: Float32Array, plan: TimeOptions) => Promise<Measured>

const contenders: [string, Contender][] = [
  ['frugal cpu eager', oursEager],
  ['frugal cpu jit', oursJit],
  ['tfjs-cpu', tfjs('cpu')],
  ['tfjs-wasm', tfjs('wasm')],
  ['jax-js wasm jit', jaxJit],
]

const started = performance.now()
console.log(`matmul float32, n×n · n×n; Node ${process.version}, ${process.platform}/${process.arch}; median of timed runs after warm-up`)
let ours512: { median: number; best: number } | undefined
for (const n of [256, 512, 1024]) {
  const a = randomFloats(n * n, 1)
  const b = randomFloats(n * n, 2)
  const rows: Row[] = []
  for (const [name, run] of contenders) rows.push(await attempt(name, () => run(n, a, b, plans[n])))
  const gflops: Column = { header: 'GFLOP/s', value: (t) => fmt((2 * n ** 3) / (t.median * 1e6)) }
  printTable(`matmul ${n}×${n}`, rows, { baseline: 'tfjs-cpu', ratio: 'speed', columns: [gflops] })
  if (n === 512) {
    const r = rows.find((x) => x.name === 'frugal cpu eager')?.result
    ours512 = r && 'median' in r ? { median: (2 * n ** 3) / (r.median * 1e6), best: (2 * n ** 3) / (r.min * 1e6) } : undefined
    const vs = ratioOf(rows, 'frugal cpu eager', { baseline: 'tfjs-cpu', ratio: 'speed' })
    if (vs !== undefined) console.log(`(frugal cpu eager is ${fmt(vs)}× tfjs-cpu's speed at 512²)`)
  }
}
console.log(
  `\ntarget: frugal cpu matmul 512² ≥ 2 GFLOP/s: ${ours512 === undefined ? 'not measured (frugal did not run)' : `${fmt(ours512.median)} GFLOP/s (median run), ${ours512.median >= 2 ? 'MET' : 'NOT MET'}; best run ${fmt(ours512.best)} GFLOP/s`}`,
)
console.log(`total ${fmt((performance.now() - started) / 1000)} s`)
