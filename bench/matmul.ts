/**
 * Matrix multiplication throughput, float32 n×n · n×n for n = 256, 512, 1024,
 * every contender on one thread: frugal-ts on its default `cpu` backend
 * (WebAssembly SIMD) limited to 1 thread (`cpu-1t`, eager and jitted), tfjs on
 * tfjs-backend-cpu and tfjs-backend-wasm, and jax-js on its wasm device
 * (jitted); then ours on all of the machine's threads, in a separate table.
 * Timing is interleaved (round by round, rotating order); GFLOP/s = 2n³ /
 * median time; every call reads its result back to the host. The check
 * column compares every product with a float64 triple loop: a row off by
 * more than 1e-4 (relative, of 1 + |x|) FAILs, and the script exits 1.
 *
 * Run: pnpm --filter @frugal-ts/bench run matmul
 */
import { cpus, loadavg } from 'node:os'
import type { Tensor } from '@frugal-ts/core'
import type { Contender, Maker } from './src/contenders'
import { loadJax, loadOurs, randomFloats, tfjsContender, useTfBackend } from './src/contenders'
import type { Column } from './src/table'
import { fmt, interleaved, printTable, ratioOf } from './src/table'

/** fewer rounds as n grows, so the whole script stays around a minute or two */
const rounds: Record<number, number> = { 256: 15, 512: 9, 1024: 3 }
const TOLERANCE = 1e-4

/** The float64 reference product, as a contender (timed too, for scale). */
const reference = (n: number, a: Float32Array, b: Float32Array): Contender => {
  let out: Float32Array | undefined
  return {
    step: () => {
      const c = new Float64Array(n * n)
      for (let i = 0; i < n; i++)
        for (let l = 0; l < n; l++) {
          const x = a[i * n + l]
          for (let j = 0; j < n; j++) c[i * n + j] += x * b[l * n + j]
        }
      out = Float32Array.from(c)
    },
    output: () => out!,
    dispose: () => {},
  }
}

const ours = async (n: number, a: Float32Array, b: Float32Array, backend: string, jitted: boolean): Promise<Contender> => {
  const { core, ad } = await loadOurs()
  const [A, B] = core.withBackend(backend, () => [core.fromArray(a, [n, n]), core.fromArray(b, [n, n])])
  const mm = jitted ? ad.jit((x: Tensor, y: Tensor) => core.matmul(x, y)) : (x: Tensor, y: Tensor) => core.matmul(x, y)
  const be = core.getBackend(backend)
  let out: Float32Array | undefined
  let leaked = 0
  let calls = 0
  return {
    // after the first call (a jit traces, compiles and keeps its constants), live tensors must not move across a step
    step: () => {
      const live = be.memory().tensors
      core.withBackend(backend, () => core.scope(() => void (out = mm(A, B).dataSync() as Float32Array)))
      if (calls++ > 0) leaked += be.memory().tensors - live
    },
    output: () => out!.slice(),
    dispose: () => {
      core.dispose([A, B])
      if (leaked !== 0) throw new Error(`${backend}: ${leaked} tensors leaked across steps`)
    },
  }
}

const tfjs = async (n: number, a: Float32Array, b: Float32Array, backend: 'cpu' | 'wasm'): Promise<Contender> => {
  const tf = await useTfBackend(backend)
  const [A, B] = [tf.tensor2d(a, [n, n]), tf.tensor2d(b, [n, n])]
  return tfjsContender(tf, backend, () => tf.matMul(A, B).dataSync() as Float32Array, [A, B])
}

const jaxJit = async (n: number, a: Float32Array, b: Float32Array): Promise<Contender> => {
  const jax = await loadJax()
  const np = jax.numpy
  // jax-js arrays are reference-counted: every call consumes its arguments, so pass `.ref`s and dispose at the end
  const [A, B] = [np.array(a).reshape([n, n]), np.array(b).reshape([n, n])]
  const mm = jax.jit((x: typeof A, y: typeof A) => np.matmul(x, y))
  let out: Float32Array | undefined
  return {
    step: () => void (out = mm(A.ref, B.ref).dataSync() as Float32Array), // dataSync consumes the result
    output: () => out!.slice(),
    dispose: () => (A.dispose(), B.dispose(), mm.dispose()),
  }
}

const started = performance.now()
const { core } = await loadOurs()
const threads = (core.getBackend('cpu') as ReturnType<typeof core.cpu>).path.match(/(\d+) threads?/)?.[1] ?? '1'
console.log(
  `matmul float32, n×n · n×n; Node ${process.version}, ${process.platform}/${process.arch}, ${cpus().length} cores, ` +
    `load average ${loadavg().map((x) => x.toFixed(1)).join(' ')}; interleaved, median of the rounds after warm-up`,
)
let ours512: number | undefined
for (const n of [256, 512, 1024]) {
  const a = randomFloats(n * n, 1)
  const b = randomFloats(n * n, 2)
  const REF = 'float64 triple loop (reference), 1 thread'
  const single: Maker[] = [
    [REF, () => reference(n, a, b)],
    ['frugal cpu eager, 1 thread', () => ours(n, a, b, 'cpu-1t', false)],
    ['frugal cpu jit, 1 thread', () => ours(n, a, b, 'cpu-1t', true)],
    ['tfjs-cpu, 1 thread', () => tfjs(n, a, b, 'cpu')],
    ['tfjs-wasm, 1 thread', () => tfjs(n, a, b, 'wasm')],
    ['jax-js wasm jit, 1 thread', () => jaxJit(n, a, b)],
  ]
  const gflops: Column = { header: 'GFLOP/s', value: (t) => fmt((2 * n ** 3) / (t.median * 1e6)) }
  const rows = await interleaved(single, rounds[n], n === 1024 ? 1 : 3)
  printTable(`matmul ${n}×${n}, single thread`, rows, { baseline: 'tfjs-cpu, 1 thread', ratio: 'speed', columns: [gflops], check: { reference: REF, tolerance: TOLERANCE } })
  if (n === 512) {
    const r = rows.find((x) => x.name === 'frugal cpu eager, 1 thread')?.result
    ours512 = r && 'median' in r ? (2 * n ** 3) / (r.median * 1e6) : undefined
    const vs = ratioOf(rows, 'frugal cpu eager, 1 thread', { baseline: 'tfjs-cpu, 1 thread', ratio: 'speed' })
    if (vs !== undefined) console.log(`(frugal cpu eager, 1 thread, is ${fmt(vs)}× tfjs-cpu's speed at 512²)`)
  }
  const multi: Maker[] = [
    [REF, () => reference(n, a, b)],
    ['frugal cpu jit, 1 thread', () => ours(n, a, b, 'cpu-1t', true)],
    [`frugal cpu jit, ${threads} threads`, () => ours(n, a, b, 'cpu', true)],
  ]
  printTable(`matmul ${n}×${n}, ours on ${threads} threads (Node's tfjs-wasm and jax-js have no threaded mode; see bench/browser.ts)`, await interleaved(multi, rounds[n], n === 1024 ? 1 : 3), {
    baseline: 'frugal cpu jit, 1 thread',
    ratio: 'speed',
    columns: [gflops],
    check: { reference: REF, tolerance: TOLERANCE },
  })
}
console.log(
  `\ntarget: frugal cpu matmul 512², 1 thread, ≥ 2 GFLOP/s (median): ${ours512 === undefined ? 'NOT MEASURED (frugal did not run)' : `${fmt(ours512)} GFLOP/s, ${ours512 >= 2 ? 'PASS' : 'FAIL'}`}`,
)
console.log(`total ${fmt((performance.now() - started) / 1000)} s`)
