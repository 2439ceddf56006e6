/**
 * The README's example, run as written (with tfjs-cpu), plus its claims:
 * the loss goes down and the step is compiled by this backend.
 */
import '@tensorflow/tfjs-backend-cpu'
import { Tree, add, dispose, fromArray, keep, matmul, mul, registerBackend, scope, setBackend, sub } from '@frugal-ts/core'
import type { Tensor } from '@frugal-ts/core'
import { jit, nn, valueAndGrad } from '@frugal-ts/autodiff'
import { expect, it } from 'vitest'
import { tfjsBackend, useTfjsBackend } from '../src/index'

it('the README example trains a softmax regression on tfjs', async () => {
  // --- README example, from here ---
  await useTfjsBackend('cpu') // or 'wasm' in Node, 'webgl' / 'webgpu' in browsers
  registerBackend('tfjs', () => tfjsBackend())
  setBackend('tfjs')

  type Params = { w: Tensor; b: Tensor }
  const loss = (p: Params, x: Tensor, y: Tensor) => nn.crossEntropy(add(matmul(x, p.w), p.b), y)
  const step = jit(
    (p: Params, x: Tensor, y: Tensor) => {
      const [l, g] = valueAndGrad(loss)(p, x, y)
      return { loss: l, params: Tree.zipWith([p, g], (w: Tensor, d: Tensor) => sub(w, mul(d, 0.5))) as Params }
    },
    { donate: [0] }, // the old params are released by the step itself
  )

  let params: Params = keep({ w: fromArray(new Float32Array(4 * 3), [4, 3]), b: fromArray(new Float32Array(3), [3]) })
  const x = keep(fromArray(Float32Array.from({ length: 8 * 4 }, (_, i) => Math.sin(i)), [8, 4]))
  const y = keep(fromArray(Int32Array.from({ length: 8 }, (_, i) => i % 3), [8], 'int32'))
  const losses: number[] = []
  for (let i = 0; i < 100; i++) {
    const out = scope(() => step(params, x, y))
    params = out.params
    losses.push(out.loss.item())
    dispose(out.loss)
  }
  console.log(losses[0], losses[99]) // 1.0986… (log 3), then about 0.03
  console.log(step.describe(params, x, y)) // tfjs(cpu): … equations -> … tfjs steps in one tf.tidy; fused: 1 matmul+bias; …
  // --- to here ---
  expect(losses[0]).toBeCloseTo(Math.log(3), 5)
  expect(losses[99]).toBeLessThan(0.6 * losses[0])
  expect(step.describe(params, x, y)).toMatch(/^tfjs\(cpu\): \d+ equations -> \d+ tfjs steps in one tf.tidy; fused: 1 matmul\+bias/)
  dispose([params, x, y])
})
