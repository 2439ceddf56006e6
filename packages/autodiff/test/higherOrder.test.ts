import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { Tensor } from '@frugal-ts/core'
import { add, cos, exp, fromArray, matmul, mul, scalar, sin, sum, tensor } from '@frugal-ts/core'
import { grad, jvp, valueAndGrad, vjp } from '../src'
import { randomTensor } from './fd'

const near = (a: number, b: number, tol = 1e-4) => expect(Math.abs(a - b)).toBeLessThanOrEqual(tol * (1 + Math.abs(b)))

describe('higher-order derivatives', () => {
  it('grad of grad of sin(x)·x³ matches the analytic second derivative', () => {
    fc.assert(
      fc.property(fc.double({ min: -2, max: 2, noNaN: true }), (x0) => {
        const f = (x: Tensor) => mul(sin(x), mul(x, mul(x, x)))
        const d2 = grad(grad(f))(scalar(x0)).item()
        const want = -Math.sin(x0) * x0 ** 3 + 6 * Math.cos(x0) * x0 ** 2 + 6 * Math.sin(x0) * x0
        near(d2, want, 1e-4)
      }),
      { numRuns: 30 },
    )
  })

  it('third derivative of exp(2x) is 8·exp(2x)', () => {
    const f = (x: Tensor) => exp(mul(x, 2))
    near(grad(grad(grad(f)))(scalar(0.3)).item(), 8 * Math.exp(0.6), 1e-4)
  })

  it('Hessian-vector product of ½xᵀAx is A·v (reverse-over-reverse and forward-over-reverse)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 6 }), fc.integer({ min: 1, max: 1e6 }), (n, seed) => {
        const b = randomTensor([n, n], seed)
        const a = add(b, fromArray(new Float32Array(transposeData(b, n)), [n, n])) // symmetric
        const x = randomTensor([n], seed + 1)
        const v = randomTensor([n], seed + 2)
        const f = (y: Tensor) => mul(sum(mul(y, matmul(a, y))), 0.5)
        const hvpRev = grad((y: Tensor) => sum(mul(grad(f)(y) as Tensor, v)))(x) as Tensor
        const [, hvpFwd] = jvp((y: Tensor) => grad(f)(y) as Tensor, [x], [v])
        const av = matmul(a, v).dataSync()
        hvpRev.dataSync().forEach((h, i) => near(h, av[i], 1e-4))
        ;(hvpFwd as Tensor).dataSync().forEach((h, i) => near(h, av[i], 1e-4))
      }),
      { numRuns: 20 },
    )
  })

  it('perturbations at different levels are not confused', () => {
    // d/dx [x · d/dy (x + y)] = d/dx [x · 1] = 1
    const outer = grad((x: Tensor) => mul(x, grad((y: Tensor) => add(x, y))(scalar(1)) as Tensor))(scalar(2))
    near((outer as Tensor).item(), 1)
  })
})

function transposeData(t: Tensor, n: number): number[] {
  const d = t.dataSync()
  return Array.from({ length: n * n }, (_, k) => d[(k % n) * n + Math.floor(k / n)])
}

describe('vjp, valueAndGrad, argnums, aux', () => {
  it('valueAndGrad returns the value and gradients for several argnums', () => {
    const f = (a: Tensor, b: Tensor) => sum(mul(a, mul(b, b)))
    const [value, [ga, gb]] = valueAndGrad(f, { argnums: [0, 1] })(tensor([1, 2]), tensor([3, 4]))
    expect(value.item()).toBe(1 * 9 + 2 * 16)
    expect(ga.toArray()).toEqual([9, 16])
    expect(gb.toArray()).toEqual([6, 16])
  })

  it('gradients follow pytree structure and hasAux passes aux through', () => {
    const params = { w: tensor([1, 2]), b: tensor(3) }
    const [[loss, aux], g] = valueAndGrad((p: typeof params) => [add(sum(mul(p.w, p.w)), p.b), { note: mul(p.b, 2) }], { hasAux: true })(params)
    expect(loss.item()).toBe(8)
    expect(aux.note.item()).toBe(6)
    expect(g.w.toArray()).toEqual([2, 4])
    expect(g.b.item()).toBe(1)
  })

  it('vjp of a non-scalar function pulls back any cotangent', () => {
    const [y, back] = vjp((x: Tensor) => mul(x, x), tensor([1, 2, 3]))
    expect(y.toArray()).toEqual([1, 4, 9])
    expect((back(tensor([1, 0, 2]))[0] as Tensor).toArray()).toEqual([2, 0, 12])
  })

  it('a gradient with respect to an integer input is refused (as JAX does), naming the argument', () => {
    expect(() => grad((x: Tensor, _k: Tensor) => sum(mul(x, x)), { argnums: [0, 1] })(tensor([1]), tensor([2], 'int32'))).toThrow(
      /^grad: argument 1 has an int32\[1\] tensor; gradients are taken with respect to float32 inputs only/,
    )
  })

  it('a function that ignores its input has a zero gradient', () => {
    expect((grad((_x: Tensor) => sum(cos(tensor([1]))))(tensor([5, 6])) as Tensor).toArray()).toEqual([0, 0])
  })
})
