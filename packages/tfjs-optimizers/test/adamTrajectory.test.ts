/**
 * Our `adam` through the adapter follows `tf.train.adam` on a tfjs-layers
 * model: same initial weights, same 50 batches (`trainOnBatch` and `fit`),
 * every weight within float32 round-off of tfjs's after every step.
 */
import * as tf from '@tensorflow/tfjs-core'
import { beforeAll, describe, expect, it } from 'vitest'
import { adam } from '../src/index'
import { batch, maxDiff, mlp, weightsOf } from './models'

const shape = { inputs: 12, hidden: 16, classes: 3 }
const hyper = { learningRate: 0.01, b1: 0.9, b2: 0.999, eps: 1e-7 }
// float32 round-off: the two compute the same formula in a different order (bias
// corrections as 1 − β^t here, as a running product of β there): 6e-8 after steps 1–2, and the
// training dynamics amplify it to 1.4e-5 over 50 steps (weights of size ~0.3 moving by ~0.1)
const TOL = 2e-5

const trajectory = async (optimizer: tf.Optimizer, steps = 50) => {
  const model = mlp({ ...shape, seed: 7 })
  model.compile({ optimizer, loss: 'categoricalCrossentropy' })
  const out: { loss: number; weights: Float32Array[] }[] = []
  for (let k = 0; k < steps; k++) {
    const { x, y } = batch(shape, 32, k % 10)
    const loss = (await model.trainOnBatch(x, y)) as number
    tf.dispose([x, y])
    out.push({ loss, weights: weightsOf(model) })
  }
  model.dispose()
  return out
}

describe("adam through the adapter vs tf.train.adam", () => {
  beforeAll(async () => {
    await tf.setBackend('cpu')
  })

  it('50 steps of trainOnBatch: every weight within float32 round-off after every step, and the loss falls', async () => {
    const theirs = await trajectory(tf.train.adam(hyper.learningRate, hyper.b1, hyper.b2, hyper.eps))
    const ours = await trajectory(adam(hyper))
    let worst = 0
    ours.forEach((s, k) => (worst = Math.max(worst, maxDiff(s.weights, theirs[k].weights))))
    console.info(`adam vs tf.train.adam: max |Δw| after steps 1, 2, 5, 10, 25, 50: ${[0, 1, 4, 9, 24, 49].map((k) => maxDiff(ours[k].weights, theirs[k].weights).toExponential(1)).join(", ")}; overall ${worst.toExponential(2)}, loss ${theirs[0].loss.toFixed(4)} -> ${theirs[49].loss.toFixed(4)} (tfjs) / ${ours[49].loss.toFixed(4)} (ours)`)
    expect(worst).toBeLessThan(TOL)
    // op by op (jit off) too
    const eagerOpt = adam(hyper)
    eagerOpt.jit = false
    const eager = await trajectory(eagerOpt)
    expect(Math.max(...eager.map((s, k) => maxDiff(s.weights, theirs[k].weights)))).toBeLessThan(TOL)
    expect(theirs[49].loss).toBeLessThan(theirs[0].loss * 0.9)
    // and the weights moved far more than the tolerance (the comparison means something)
    expect(maxDiff(ours[49].weights, ours[0].weights)).toBeGreaterThan(1000 * TOL)
  })

  it('a different β2 (0.99) is told apart: the comparison can fail', async () => {
    const theirs = await trajectory(tf.train.adam(hyper.learningRate, hyper.b1, hyper.b2, hyper.eps), 20)
    const ours = await trajectory(adam({ ...hyper, b2: 0.99 }), 20)
    expect(maxDiff(ours[19].weights, theirs[19].weights)).toBeGreaterThan(10 * TOL)
  })

  it('model.fit over 50 batches (no shuffle) ends within round-off of tf.train.adam', async () => {
    const run = async (optimizer: tf.Optimizer) => {
      const model = mlp({ ...shape, seed: 3 })
      model.compile({ optimizer, loss: 'categoricalCrossentropy' })
      const xs = tf.concat(Array.from({ length: 10 }, (_, k) => batch(shape, 16, k).x))
      const ys = tf.concat(Array.from({ length: 10 }, (_, k) => batch(shape, 16, k).y))
      const h = await model.fit(xs, ys, { batchSize: 16, epochs: 5, shuffle: false, verbose: 0 })
      const w = weightsOf(model)
      tf.dispose([xs, ys])
      model.dispose()
      return { w, loss: h.history.loss as number[] }
    }
    const a = await run(tf.train.adam(hyper.learningRate, hyper.b1, hyper.b2, hyper.eps))
    const b = await run(adam(hyper))
    console.info(`fit, 50 batches: max |Δw| = ${maxDiff(a.w, b.w).toExponential(2)}; epoch losses ${a.loss.map((l) => l.toFixed(4)).join(' ')}`)
    expect(maxDiff(a.w, b.w)).toBeLessThan(TOL)
    b.loss.forEach((l, i) => expect(Math.abs(l - a.loss[i])).toBeLessThan(1e-4))
  })
})
