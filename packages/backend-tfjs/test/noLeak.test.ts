/**
 * Deterministic release over a long run: 1,000 jitted training steps of a small
 * MLP (forward, backward and SGD update in one program, params donated, each
 * step in a `scope`) leave tfjs's tensor count and bytes, and this backend's
 * own accounting, exactly where they were after the first steps.
 */
import * as tf from '@tensorflow/tfjs-core'
import { jit, nn, valueAndGrad } from '@frugal-ts/autodiff'
import { Tree, add, dispose, fromArray, getBackend, keep, matmul, mul, scope, sub, withBackend } from '@frugal-ts/core'
import type { Tensor } from '@frugal-ts/core'
import { beforeAll, describe, expect, it } from 'vitest'
import { names, startBoth } from './setup'

beforeAll(async () => {
  await startBoth()
})

type Params = { w1: Tensor; b1: Tensor; w2: Tensor; b2: Tensor }
const [IN, HIDDEN, OUT, BATCH] = [8, 16, 3, 16]

const values = (n: number, seed: number, scale: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * 12.9898 + seed) * scale)
const init = (): Params => ({
  w1: fromArray(values(IN * HIDDEN, 1, 0.4), [IN, HIDDEN]),
  b1: fromArray(new Float32Array(HIDDEN), [HIDDEN]),
  w2: fromArray(values(HIDDEN * OUT, 2, 0.4), [HIDDEN, OUT]),
  b2: fromArray(new Float32Array(OUT), [OUT]),
})
const loss = (p: Params, x: Tensor, y: Tensor): Tensor => nn.crossEntropy(add(matmul(nn.relu(add(matmul(x, p.w1), p.b1)), p.w2), p.b2), y)

describe.each(names)('%s', (name) => {
  it('1,000 jitted MLP training steps keep tf.memory() and memory() constant', () =>
    withBackend(name, () => {
      const step = jit(
        (p: Params, x: Tensor, y: Tensor) => {
          const [l, g] = valueAndGrad(loss)(p, x, y)
          return { loss: l, params: Tree.zipWith([p, g], (w: Tensor, d: Tensor) => sub(w, mul(d, 0.1))) as Params }
        },
        { donate: [0] },
      )
      const x = keep(fromArray(values(BATCH * IN, 3, 1), [BATCH, IN]))
      const y = keep(fromArray(Int32Array.from({ length: BATCH }, (_, i) => i % OUT), [BATCH], 'int32'))
      let params = keep(init())
      const train = (): number => {
        const out = scope(() => step(params, x, y))
        params = out.params
        const l = out.loss.item()
        dispose(out.loss)
        return l
      }
      const first = [train(), train()][0]
      const [tfBefore, oursBefore] = [tf.memory(), getBackend(name).memory()]
      let last = first
      for (let i = 0; i < 1000; i++) last = train()
      const [tfAfter, oursAfter] = [tf.memory(), getBackend(name).memory()]
      expect(tfAfter.numTensors).toBe(tfBefore.numTensors)
      expect(tfAfter.numBytes).toBe(tfBefore.numBytes)
      expect(oursAfter).toEqual(oursBefore)
      expect(last).toBeLessThan(first * 0.75) // and it trained
      dispose([params, x, y])
    }))
})
