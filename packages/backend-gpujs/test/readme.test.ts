import type { Tensor } from '@frugal-ts/core'
import { matmul, mean, mul, registerBackend, square, sub, tensor, withBackend } from '@frugal-ts/core'
import { grad, jit } from '@frugal-ts/autodiff'
import { expect, it } from 'vitest'
import { availableModes, gpujsBackend } from '../src'

// mirrors the Example of packages/backend-gpujs/README.md (withBackend instead of setBackend)
it('the README example runs on the best mode and converges to [[1], [2]]', () => {
  const gpu = gpujsBackend()
  registerBackend('gpujs', () => gpu)
  expect(gpu.mode).toBe(availableModes()[0])
  withBackend('gpujs', () => {
    const x = tensor([[2, 1], [1, 3]])
    expect(matmul(x, x).toArray()).toEqual([[5, 5], [5, 10]])
    const loss = (w: Tensor, x: Tensor, y: Tensor) => mean(square(sub(matmul(x, w), y)))
    const step = jit((w: Tensor, x: Tensor, y: Tensor) => sub(w, mul(grad(loss)(w, x, y), 0.1)), { donate: [0] })
    const y = tensor([[4], [7]])
    let w = tensor([[0], [0]])
    for (let i = 0; i < 100; i++) w = step(w, x, y)
    ;(w.toArray() as number[][]).forEach(([v], i) => expect(v).toBeCloseTo([1, 2][i], 4))
    expect(step.describe(w, x, y)).toMatch(new RegExp(`^gpujs\\(${gpu.mode}\\): \\d+ equations -> \\d+ kernel launches \\(\\d+ fused`))
    expect(gpu.memory().tensors).toBe(6) // x, y, w, x·x and the jitted step's 2 constants (0.1, the mean's 2)
  })
})
