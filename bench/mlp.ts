/**
 * One forward+backward step of an MLP 784-256-10 (relu hidden layer, softmax
 * cross-entropy with int labels, mean over a batch of 64): the loss and the
 * gradients of all four parameters, read back to the host every step.
 * frugal-ts eager (`valueAndGrad`) and jitted (`jit(valueAndGrad(loss))`) on
 * its `cpu` backend; tfjs (`tf.valueAndGrads`, the `tf.grads` machinery that
 * also returns the loss) on tfjs-backend-cpu and tfjs-backend-wasm; jax-js
 * `jit(valueAndGrad(loss))` on its wasm device.
 *
 * Run: pnpm --filter @frugal-ts/bench run mlp
 */
import type { Tensor } from '@frugal-ts/core'
import { loadJax, loadOurs, useTfBackend } from './src/contenders'
import type { Measured, Row, TimeOptions } from './src/table'
import { attempt, fmt, printTable, ratioOf, time } from './src/table'
import { BATCH, HIDDEN, IN, OUT, flat, jaxMlp, mlpData } from './src/mlp'

const plan: TimeOptions = { warmup: 5, runs: 30, budgetMs: 5000 }

const data = mlpData


const ours = (jitted: boolean) => async (): Promise<Measured> => {
  const { core, ad } = await loadOurs()
  const { add, fromArray, matmul, scope, dispose } = core
  type Params = { w1: Tensor; b1: Tensor; w2: Tensor; b2: Tensor }
  const params: Params = {
    w1: fromArray(data.w1, [IN, HIDDEN]),
    b1: fromArray(data.b1, [HIDDEN]),
    w2: fromArray(data.w2, [HIDDEN, OUT]),
    b2: fromArray(data.b2, [OUT]),
  }
  const x = fromArray(data.x, [BATCH, IN])
  const y = fromArray(data.labels, [BATCH], 'int32')
  const loss = (p: Params, x: Tensor, y: Tensor): Tensor =>
    ad.nn.crossEntropy(add(matmul(ad.nn.relu(add(matmul(x, p.w1), p.b1)), p.w2), p.b2), y)
  const vg = ad.valueAndGrad(loss)
  const step = jitted ? ad.jit(vg) : vg
  try {
    const run = () =>
      scope(() => {
        const [l, g] = step(params, x, y) as [Tensor, Params]
        return flat([l.dataSync(), g.w1.dataSync(), g.b1.dataSync(), g.w2.dataSync(), g.b2.dataSync()])
      })
    return { output: run(), timing: time(run, plan) }
  } finally {
    dispose([params, x, y])
  }
}

const tfjs = (backend: 'cpu' | 'wasm') => async (): Promise<Measured> => {
  const tf = await useTfBackend(backend)
  const params = [
    tf.tensor2d(data.w1, [IN, HIDDEN]),
    tf.tensor1d(data.b1),
    tf.tensor2d(data.w2, [HIDDEN, OUT]),
    tf.tensor1d(data.b2),
  ]
  const x = tf.tensor2d(data.x, [BATCH, IN])
  const y = tf.tensor1d(data.labels, 'int32')
  const loss = (w1: any, b1: any, w2: any, b2: any) =>
    tf.losses.softmaxCrossEntropy(tf.oneHot(y, OUT), tf.add(tf.matMul(tf.relu(tf.add(tf.matMul(x, w1), b1)), w2), b2)) as any
  const vg = tf.valueAndGrads(loss)
  try {
    const run = () =>
      tf.tidy(() => {
        const { value, grads } = vg(params)
        return flat([value.dataSync(), ...grads.map((g) => g.dataSync())])
      })
    const out = { output: run(), timing: time(run, plan) }
    const live = tf.memory().numTensors
    const again = run()
    if (tf.memory().numTensors !== live || again.length === 0) throw new Error(`tfjs-${backend}: tensors leak across steps`)
    return out
  } finally {
    tf.dispose([...params, x, y])
  }
}

const jaxJit = async (): Promise<Measured> => {
  const m = jaxMlp(await loadJax())
  try {
    return { output: m.run(), timing: time(m.run, plan) }
  } finally {
    m.dispose()
  }
}

const started = performance.now()
console.log(
  `MLP ${IN}-${HIDDEN}-${OUT}, batch ${BATCH}, forward+backward (loss + 4 gradients, read back); Node ${process.version}, ${process.platform}/${process.arch}`,
)
const rows: Row[] = []
rows.push(await attempt('frugal cpu eager', ours(false)))
rows.push(await attempt('frugal cpu jit', ours(true)))
rows.push(await attempt('tfjs-cpu', tfjs('cpu')))
rows.push(await attempt('tfjs-wasm', tfjs('wasm')))
rows.push(await attempt('jax-js wasm jit', jaxJit))
printTable('MLP step (ms per step)', rows, { baseline: 'tfjs-cpu', ratio: 'time' })
const r = ratioOf(rows, 'frugal cpu jit', { baseline: 'tfjs-cpu', ratio: 'time' })
const best = (name: string): number | undefined => {
  const t = rows.find((x) => x.name === name)?.result
  return t && 'min' in t ? t.min : undefined
}
const [oursBest, tfBest] = [best('frugal cpu jit'), best('tfjs-cpu')]
const bestRatio = oursBest !== undefined && tfBest !== undefined ? `; best runs ${fmt(oursBest / tfBest)}×` : ''
console.log(
  `\ntarget: frugal jitted step ≤ 0.5× tfjs-cpu's time: ${r === undefined ? 'not measured (a contender did not run)' : `${fmt(r)}× (medians), ${r <= 0.5 ? 'MET' : 'NOT MET'}${bestRatio}`}`,
)
console.log(`total ${fmt((performance.now() - started) / 1000)} s`)
