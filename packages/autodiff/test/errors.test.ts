import { describe, expect, it } from 'vitest'
import type { Tensor } from '@frugal-ts/core'
import { CoreError, add, getBackend, matmul, mul, setBackend, sum, tensor, zeros } from '@frugal-ts/core'
import { grad, jit, valueAndGrad, vjp } from '../src'

describe('bad input gives a clear error naming what and where', () => {
  it('mismatched shapes name the op and both shapes', () => {
    expect(() => add(zeros([2, 3]), zeros([4]))).toThrow(CoreError)
    expect(() => add(zeros([2, 3]), zeros([4]))).toThrow('add: [2,3] and [4]: dimension 1 (3 vs 4) does not broadcast')
    expect(() => matmul(zeros([3, 4]), zeros([5, 6]))).toThrow('matmul: [3,4] x [5,6]: inner dimensions 4 and 5 differ')
  })

  it('wrong dtypes name the op and the dtypes', () => {
    expect(() => add(zeros([2]), zeros([2], 'int32'))).toThrow('add: float32[2] x int32[2]: dtypes float32 and int32 differ')
    expect(() => matmul(zeros([2, 2], 'int32'), zeros([2, 2], 'int32'))).toThrow(/matmul: .*needs float32, got int32/)
  })

  it('grad of a non-scalar function says what it got', () => {
    expect(() => grad((x: Tensor) => mul(x, x))(tensor([1, 2]))).toThrow(
      /grad: the function must return a scalar float32 tensor, got float32\[2\]/,
    )
    expect(() => grad((x: Tensor) => sum(x), { argnums: 2 })(tensor([1]))).toThrow(/argnums 2 is out of range for 1 argument/)
  })

  it('a cotangent of the wrong shape is named', () => {
    const [, back] = vjp((x: Tensor) => mul(x, 2), tensor([1, 2]))
    expect(() => back(tensor([1, 2, 3]))).toThrow(/cotangent 0 is float32\[3\], expected float32\[2\]/)
  })

  it('an unknown backend lists the registered ones', () => {
    expect(() => getBackend('webgpu-nope')).toThrow("unknown backend 'webgpu-nope' (registered: cpu")
    expect(() => setBackend('nope')).toThrow(CoreError)
  })

  it('an escaped tracer is caught', () => {
    let leaked: Tensor | null = null
    grad((x: Tensor) => {
      leaked = x
      return sum(x)
    })(tensor([1]))
    expect(() => add(leaked!, 1)).toThrow(/escaped its transformation/)
  })

  it('hasAux without a pair says what it needs', () => {
    expect(() => valueAndGrad((x: Tensor) => sum(x), { hasAux: true })(tensor([1]))).toThrow(/must return \[output, aux\]/)
  })

  it('jit closing over a tracer of an outer grad asks for an argument', () => {
    const f = (x: Tensor) => jit((y: Tensor) => add(y, x))(tensor([1]))
    expect(() => grad((x: Tensor) => sum(f(x)))(tensor([1]))).toThrow(/closes over a tensor .* traced by grad/)
  })
})
