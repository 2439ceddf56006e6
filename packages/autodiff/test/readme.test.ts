import { expect, it } from 'vitest'
import type { Tensor } from '@frugal-ts/core'
import { mul, sub, sum, tensor } from '@frugal-ts/core'
import { grad, jit } from '../src'

// mirrors "A first program" in the root README
it('the README example converges to [1, -1, 1]', () => {
  const loss = (w: Tensor) => sum(mul(sub(w, tensor([1, -1, 1])), sub(w, tensor([1, -1, 1]))))
  const step = jit((w: Tensor) => sub(w, mul(grad(loss)(w), 0.1)))
  let w = tensor([-1, 10, 1])
  for (let i = 0; i < 100; i++) w = step(w)
  ;(w.toArray() as number[]).forEach((v, i) => expect(v).toBeCloseTo([1, -1, 1][i], 5))
  expect(step.traceCount).toBe(1)
})
