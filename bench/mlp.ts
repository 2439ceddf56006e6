/**
 * One MLP training step's forward and backward pass (784-256-10, batch 64,
 * loss and the four gradients read back), every contender on one thread and
 * timed interleaved (round by round, rotating order): frugal-ts
 * `jit(valueAndGrad)` on its default `cpu` backend limited to 1 thread
 * (`cpu-1t`) and on the JS path (`cpu-js`), `tf.valueAndGrads` on tfjs-cpu
 * and tfjs-wasm, and jax-js `jit(valueAndGrad)` on its wasm device. The check
 * column compares every row's loss and gradients with tfjs-cpu's (plain JS
 * float32 kernels, another implementation): beyond 1e-4 a row FAILs and the
 * script exits 1. A contender that leaks tensors across steps FAILs too.
 *
 * Run: pnpm --filter @frugal-ts/bench run mlp
 */
import { cpus, loadavg } from 'node:os'
import type { Contender, Maker } from './src/contenders'
import { loadJax, loadOurs, tfjsContender, useTfBackend } from './src/contenders'
import { fmt, interleaved, printTable, ratioOf } from './src/table'
import { BATCH, HIDDEN, IN, OUT, flat, jaxMlpContender, mlpData as data, oursMlp } from './src/mlp'

const ROUNDS = 30

/** `oursMlp` with a leak check: after the first call (which traces, compiles and keeps its constants), live tensors must not move across a step. */
const ours = async (backend: string): Promise<Contender> => {
  const lib = await loadOurs()
  const c = oursMlp(lib, backend)
  const b = lib.core.getBackend(backend)
  let leaked = 0
  let calls = 0
  return {
    ...c,
    step: () => {
      const live = b.memory().tensors
      c.step()
      if (calls++ > 0) leaked += b.memory().tensors - live
    },
    dispose: () => {
      c.dispose()
      if (leaked !== 0) throw new Error(`${backend}: ${leaked} tensors leaked across steps`)
    },
  }
}

const tfjs = async (backend: 'cpu' | 'wasm'): Promise<Contender> => {
  const tf = await useTfBackend(backend)
  const params = [tf.tensor2d(data.w1, [IN, HIDDEN]), tf.tensor1d(data.b1), tf.tensor2d(data.w2, [HIDDEN, OUT]), tf.tensor1d(data.b2)]
  const x = tf.tensor2d(data.x, [BATCH, IN])
  const y = tf.tensor1d(data.labels, 'int32')
  const loss = (w1: any, b1: any, w2: any, b2: any) =>
    tf.losses.softmaxCrossEntropy(tf.oneHot(y, OUT), tf.add(tf.matMul(tf.relu(tf.add(tf.matMul(x, w1), b1)), w2), b2)) as any
  const vg = tf.valueAndGrads(loss)
  return tfjsContender(
    tf,
    backend,
    () => {
      const { value, grads } = vg(params)
      return flat([value.dataSync(), ...grads.map((g) => g.dataSync())])
    },
    [...params, x, y],
  )
}

const started = performance.now()
console.log(
  `MLP ${IN}-${HIDDEN}-${OUT}, batch ${BATCH}, forward+backward (loss + 4 gradients, read back); Node ${process.version}, ` +
    `${process.platform}/${process.arch}, ${cpus().length} cores, load average ${loadavg().map((x) => x.toFixed(1)).join(' ')}; interleaved, ${ROUNDS} rounds`,
)
const TF = 'tfjs-cpu, 1 thread'
const OURS = 'frugal jit(valueAndGrad) cpu-1t, 1 thread'
const makers: Maker[] = [
  [OURS, () => ours('cpu-1t')],
  ['frugal jit(valueAndGrad) cpu-js, 1 thread', () => ours('cpu-js')],
  [TF, () => tfjs('cpu')],
  ['tfjs-wasm, 1 thread', () => tfjs('wasm')],
  ['jax-js wasm jit, 1 thread', async () => jaxMlpContender(await loadJax(), 'sync')],
]
const rows = await interleaved(makers, ROUNDS, 5)
printTable('MLP step, single thread (ms per step)', rows, { baseline: TF, ratio: 'time', check: { reference: TF, tolerance: 1e-4 } })
const r = ratioOf(rows, OURS, { baseline: TF, ratio: 'time' })
console.log(`\ntarget: frugal jitted step, 1 thread, ≤ 0.5× tfjs-cpu's time (median): ${r === undefined ? 'NOT MEASURED (a contender did not run)' : `${fmt(r)}×, ${r <= 0.5 ? 'PASS' : 'FAIL'}`}`)
console.log(`total ${fmt((performance.now() - started) / 1000)} s`)
