import { describe, expect, it } from 'vitest'
import type { Tensor } from '@frugal-ts/core'
import { CoreError, mul, sum, tensor } from '@frugal-ts/core'
import { grad, jit, valueAndGrad } from '../src'

const coreError = (f: () => unknown, message: string) => {
  let caught: unknown
  try {
    f()
  } catch (e) {
    caught = e
  }
  expect(caught).toBeInstanceOf(CoreError)
  expect((caught as Error).message).toBe(message)
}

describe('bad input to autodiff is an error, not a silent pass (issue 13, items 5 and 6)', () => {
  it('grad with respect to an int32 input is refused (it used to return zeros)', () => {
    const f = (x: Tensor) => sum(mul(x, x))
    coreError(
      () => grad(f)(tensor([1, 2], 'int32')),
      'grad: argument 0 has an int32[2] tensor; gradients are taken with respect to float32 inputs only (leave integer inputs out of argnums, or cast them)',
    )
    coreError(
      () => valueAndGrad((p: { w: Tensor; n: Tensor }) => sum(p.w))({ w: tensor([1]), n: tensor([3], 'int32') }),
      'grad: argument 0 has an int32[1] tensor at n; gradients are taken with respect to float32 inputs only (leave integer inputs out of argnums, or cast them)',
    )
    // an int32 argument outside argnums is fine
    const g = grad((w: Tensor, k: Tensor) => sum(mul(w, k)), { argnums: 0 })(tensor([1, 2]), tensor([3, 4]))
    expect(Array.from((g as Tensor).dataSync())).toEqual([3, 4])
  })

  it('a donate index that is not an argument position is refused', () => {
    coreError(() => jit((w: Tensor) => w, { donate: [-1] }), 'jit: donate holds argument positions (non-negative integers), got -1 (at jit.donate)')
    coreError(() => jit((w: Tensor) => w, { donate: [0.5] }), 'jit: donate holds argument positions (non-negative integers), got 0.5 (at jit.donate)')
    const step = jit((w: Tensor, g: Tensor) => mul(w, g), { donate: [2] })
    coreError(() => step(tensor([1]), tensor([2])), 'jit: donate index 2 is out of range for 2 arguments (at jit.donate)')
  })

  it('reading a tracer after its trace ended says it escaped (it used to say "not known while tracing")', () => {
    let leaked: Tensor | null = null
    jit((x: Tensor) => {
      leaked = mul(x, 2)
      return x
    })(tensor([1, 2]))
    let caught: unknown
    try {
      ;(leaked as unknown as Tensor).dataSync()
    } catch (e) {
      caught = e
    }
    expect((caught as Error).message).toMatch(/escaped its trace, which has ended: it has no value \(the traced function kept it outside, e\.g\. in a closure or a global; return it instead\)$/)
    expect((caught as Error).message).not.toMatch(/not known while tracing/)
  })
})
