import fc from 'fast-check'
import { afterAll, describe, expect, it } from 'vitest'
import type { Tensor } from '@frugal-ts/core'
import { add, cos, exp, fromArray, matmul, mul, reshape, scalar, scope, sin, slice, sum, tanh, tensor, withBackend } from '@frugal-ts/core'
import { grad, jvp, jvpRules, nn, valueAndGrad, vjp } from '../src'
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

/**
 * Second order on real models: the Hessian-vector product H·v of an MLP loss and of a causal
 * self-attention block, in float32 both reverse-over-reverse (grad of ⟨grad f, v⟩) and
 * forward-over-reverse (jvp of grad f), against a float64 finite difference of the gradient
 * (4-point central, step 2⁻⁸; the gradient itself computed by the same rules on the float64
 * backend, whose first-order rules rules.test.ts checks against float64 FD). Tolerance:
 * ‖Hv − fd‖∞ ≤ 1e-4·‖fd‖∞ (float32 round-off through two passes of the model is ~1e-6).
 */
const hvpTol = 1e-4
const worstHvp = new Map<string, number>()
afterAll(() => console.info(`[higherOrder] largest ‖Hv − fd‖∞ / ‖fd‖∞ (tolerance ${hvpTol}): ${[...worstHvp].filter(([k]) => !k.startsWith('meta')).map(([k, v]) => `${k} ${v.toExponential(2)}`).join(', ')}`))

const expectHvp = (name: string, f: (x: Tensor) => Tensor, x: Tensor, v: Tensor): void =>
  scope(() => {
    const g = (y: Tensor) => grad(f)(y) as Tensor
    const rev = (grad((y: Tensor) => sum(mul(g(y), v)))(x) as Tensor).dataSync()
    const fwd = (jvp(g, [x], [v])[1] as Tensor).dataSync()
    const [xd, vd, shape] = [x.dataSync(), v.dataSync(), x.shape]
    const h = 2 ** -8
    const fd = withBackend('float64', () =>
      scope(() => {
        const X = fromArray(xd, shape)
        const V = fromArray(vd, shape)
        const at = (s: number) => g(add(X, mul(V, s))).dataSync()
        const [p1, m1, p2, m2] = [at(h), at(-h), at(2 * h), at(-2 * h)]
        return Array.from(p1, (_, i) => (8 * (p1[i] - m1[i]) - (p2[i] - m2[i])) / (12 * h))
      }),
    )
    const norm = Math.max(...fd.map(Math.abs))
    for (const [how, hv] of [['grad of grad', rev], ['jvp of grad', fwd]] as const) {
      const err = Math.max(...Array.from(hv, (y, i) => Math.abs(y - fd[i]))) / norm
      worstHvp.set(`${name} (${how})`, Math.max(worstHvp.get(`${name} (${how})`) ?? 0, err))
      if (!(err <= hvpTol)) throw new Error(`${name}: H·v by ${how} is ${err.toExponential(2)}·‖fd‖∞ off the float64 FD of the gradient (> ${hvpTol})`)
    }
  })

/** Unpacks a flat parameter vector into `shapes` (in order). */
const unpack = (x: Tensor, shapes: readonly (readonly number[])[]): Tensor[] => {
  let at = 0
  return shapes.map((s) => {
    const n = s.reduce((a, b) => a * b, 1)
    const t = reshape(slice(x, [at], [n]), s)
    at += n
    return t
  })
}
const sizeOf = (shapes: readonly (readonly number[])[]) => shapes.reduce((a, s) => a + s.reduce((x, y) => x * y, 1), 0)

describe('Hessian-vector products of an MLP and of causal attention against float64 FD of the gradient', () => {
  const mlpShapes = [[5, 7], [7], [7, 3], [3]] as const
  it('MLP (5-7-3, tanh and gelu, cross-entropy over a batch of 6): grad of grad and jvp of grad', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 2 ** 30 }), (seed) => {
        const data = randomTensor([6, 5], seed + 11, -2, 2).dataSync()
        const f = (x: Tensor) => {
          const [w1, b1, w2, b2] = unpack(x, mlpShapes)
          const inputs = fromArray(data, [6, 5])
          const labels = fromArray(Int32Array.from([0, 1, 2, 0, 1, 2]), [6], 'int32')
          const hidden = nn.gelu(tanh(add(matmul(inputs, w1), b1)))
          return nn.crossEntropy(add(matmul(hidden, w2), b2), labels)
        }
        expectHvp('MLP', f, randomTensor([sizeOf(mlpShapes)], seed), randomTensor([sizeOf(mlpShapes)], seed + 1))
      }),
      { numRuns: 10, seed: 2411_07837 },
    )
  })

  it('meta: FAILS on a JVP rule 0.1 % off (tanh) that the first-order gradient never uses: jvp of grad is named', () => {
    const rule = jvpRules.tanh
    const t = jvpRules as Record<string, unknown>
    t.tanh = (...args: Parameters<typeof rule>) => mul(rule(...args), 1.001)
    try {
      const x = randomTensor([5], 3)
      expect(() => expectHvp('meta tanh·x', (y: Tensor) => sum(mul(tanh(y), y)), x, randomTensor([5], 4))).toThrow(/meta tanh·x: H·v by jvp of grad/)
    } finally {
      t.tanh = rule
    }
    expect(() => expectHvp('meta tanh·x', (y: Tensor) => sum(mul(tanh(y), y)), randomTensor([5], 3), randomTensor([5], 4))).not.toThrow()
  })

  const attShapes = [[4, 4], [4, 4], [4, 4], [4, 4]] as const
  it('causal self-attention (2 heads of 2, B 2, T 5, D 4, summed against fixed weights): grad of grad and jvp of grad', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 2 ** 30 }), (seed) => {
        const data = randomTensor([2, 5, 4], seed + 11).dataSync()
        const weights = randomTensor([2, 5, 4], seed + 12).dataSync()
        const f = (x: Tensor) => {
          const [wq, wk, wv, wo] = unpack(x, attShapes)
          const y = nn.causalSelfAttention(fromArray(data, [2, 5, 4]), { wq, wk, wv, wo }, 2)
          return sum(mul(y, fromArray(weights, [2, 5, 4])))
        }
        expectHvp('causal attention', f, randomTensor([sizeOf(attShapes)], seed), randomTensor([sizeOf(attShapes)], seed + 1))
      }),
      { numRuns: 10, seed: 2411_07837 },
    )
  })
})
