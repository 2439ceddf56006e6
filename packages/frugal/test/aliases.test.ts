import { describe, expect, it } from 'vitest'
import type { Tensor } from '@frugal-ts/core'
import { Tree, add, mul, slice, square, sub, sum, tensor } from '@frugal-ts/core'
import { grad, jit } from '@frugal-ts/autodiff'
import { FrugalError } from '../src/FrugalError'
import type { GradientTransformation, Params } from '../src/GradientTransformation'
import { applyUpdates } from '../src/GradientTransformation'
import { adam, adamw, lion, momentum, sgd, signSgd, signum } from '../src/aliases'
import { exponentialDecay } from '../src/schedules'
import type { Schedule } from '../src/schedules'

const deepFreeze = <T>(t: T): T => {
  if (Array.isArray(t) || (t !== null && typeof t === 'object' && Object.getPrototypeOf(t) === Object.prototype))
    Object.values(t as object).forEach(deepFreeze), Object.freeze(t)
  return t
}
/** every leaf's data (−0 read as 0), in canonical order */
const data = (tree: unknown): number[][] => Tree.leaves(tree as Params).map((x) => Array.from((x as Tensor).dataSync(), (v) => v + 0))

const target = tensor([1, -1, 1])
const parabola = (x: Tensor): Tensor => sum(square(sub(x, target)))
const rosenbrock = (p: Tensor): Tensor => {
  const [x, y] = [slice(p, [0], [1]), slice(p, [1], [1])]
  return sum(add(square(sub(1, x)), mul(square(sub(y, square(x))), 100)))
}

/** Runs a jitted step (gradient, update, apply) `steps` times from `x0`. */
const minimise = (opt: GradientTransformation<any>, f: (x: Tensor) => Tensor, x0: number[], steps: number): number[] => {
  const step = jit((p: Tensor, s: unknown) => {
    const r = opt.update(grad(f)(p), s, p)
    return { p: applyUpdates(p, r.updates), s: r.state }
  })
  let p = tensor(x0)
  let s: unknown = opt.init(p)
  for (let i = 0; i < steps; i++) ({ p, s } = step(p, s))
  return p.toArray() as number[]
}

// Sign-based methods move every coordinate by ±lr, so they need a decaying rate to settle. In
// Rosenbrock's valley they zigzag across it without progress while lr ≳ (1 − x)/200, so they end
// about 200·(final lr) short: the rate must decay to ~1e-6, but slowly enough to be followed.
const decay = (init: number, every: number): Schedule => exponentialDecay({ init, transitionSteps: every, decayRate: 0.5 })

// [name, parabola optimizer and steps, Rosenbrock optimizer and steps], rates in the spirit of optax's alias tests
const cases: [string, () => GradientTransformation<any>, number, () => GradientTransformation<any>, number][] = [
  ['sgd', () => sgd(1e-2), 2000, () => sgd(1.5e-3), 20000],
  ['sgd (nesterov)', () => sgd(1e-2, { momentum: 0.9, nesterov: true }), 1000, () => sgd(1e-3, { momentum: 0.9, nesterov: true }), 10000],
  ['momentum', () => momentum(1e-2, 0.9), 1000, () => momentum(1e-3, 0.9), 10000],
  ['adam', () => adam(1e-1), 2000, () => adam(1e-2), 10000],
  ['adamw', () => adamw(1e-1, { weightDecay: 1e-4 }), 2000, () => adamw(1e-2), 10000],
  ['lion', () => lion(decay(0.1, 500)), 5000, () => lion(decay(1e-2, 1000)), 10000],
  ['signSgd', () => signSgd(decay(0.1, 500)), 5000, () => signSgd(decay(1e-2, 1000)), 15000],
  ['signum', () => signum(decay(0.1, 500)), 5000, () => signum(decay(1e-2, 1000)), 10000],
]

describe('convergence (optax alias tests)', () => {
  for (const [name, onParabola, n1, onRosenbrock, n2] of cases) {
    it(`${name} minimises the parabola from [-1, 10, 1] to [1, -1, 1]`, () => {
      const x = minimise(onParabola(), parabola, [-1, 10, 1], n1)
      x.forEach((v, i) => expect(Math.abs(v - [1, -1, 1][i])).toBeLessThan(1e-2))
    })
    it(`${name} minimises Rosenbrock from [0, 0] to [1, 1]`, () => {
      const x = minimise(onRosenbrock(), rosenbrock, [0, 0], n2)
      x.forEach((v) => expect(Math.abs(v - 1)).toBeLessThan(1e-2))
    })
  }
})

/** Plain-JS Adam on flat arrays: the reference the library must match. */
const adamReference = (grads: number[][], lr: number, ...hp: number[]): number[][] => {
  // the library's hyperparameters are float32 scalars: round the reference's the same way
  const [b1, b2, eps, epsRoot] = [0.9, 0.999, 1e-8, 0].map((d, i) => Math.fround(hp[i] ?? d))
  const m = grads[0].map(() => 0)
  const v = grads[0].map(() => 0)
  return grads.map((g, k) => {
    const t = k + 1
    return g.map((gi, i) => {
      m[i] = b1 * m[i] + (1 - b1) * gi
      v[i] = b2 * v[i] + (1 - b2) * gi * gi
      const mHat = m[i] / (1 - b1 ** t)
      const vHat = v[i] / (1 - b2 ** t)
      return (-lr * mHat) / (Math.sqrt(vHat + epsRoot) + eps)
    })
  })
}

describe('adam numerics', () => {
  const grads = [
    [0.5, -1, 2, 0],
    [0.1, -0.3, 2.5, 1e-3],
    [-0.7, 0.2, 1, -4],
    [3, -2, 0.01, 0.5],
    [0.2, 0.2, -0.2, 0.2],
    [1e-4, 5, -5, 0.3],
  ]
  for (const [label, o] of [
    ['defaults', {}],
    ['b1, b2, eps, epsRoot', { b1: 0.8, b2: 0.99, eps: 1e-3, epsRoot: 1e-6 }],
  ] as const) {
    it(`adam(1e-2) matches a plain JS reference over ${grads.length} steps (${label})`, () => {
      const expected = adamReference(grads, 1e-2, ...('b1' in o ? [o.b1, o.b2, o.eps, o.epsRoot] : []))
      const opt = adam(1e-2, o)
      let state = opt.init({ w: tensor([0, 0, 0, 0]) })
      grads.forEach((g, k) => {
        const r = opt.update({ w: tensor(g) }, state)
        state = r.state
        const got = data(r.updates)[0]
        got.forEach((x, i) => expect(Math.abs(x - expected[k][i])).toBeLessThanOrEqual(1e-8 + 1e-5 * Math.abs(expected[k][i])))
      })
      expect(state[0].count.item()).toBe(grads.length)
    })
  }
})

describe('aliases are chains of building blocks', () => {
  const params = { w: tensor([1, 2]), b: tensor([0.5]) }
  it('each state is a tuple of its blocks’ states', () => {
    expect(adam(1e-3).init(params)).toHaveLength(2)
    expect(adamw(1e-3).init(params)).toHaveLength(3)
    expect(lion(1e-4).init(params)).toHaveLength(3)
    expect(sgd(0.1).init(params)).toHaveLength(2)
    expect(sgd(0.1, { momentum: 0.9 }).init(params)[0]).toHaveProperty('trace')
    expect(signSgd(0.1).init(params)).toHaveLength(2)
    expect(signum(0.1).init(params)[0]).toHaveProperty('trace')
    expect(momentum(0.1, 0.5).init(params)[0]).toHaveProperty('trace')
  })

  it('the one-object form equals the positional form', () => {
    const g = { w: tensor([0.3, -2]), b: tensor([1]) }
    const pairs: [GradientTransformation<any>, GradientTransformation<any>][] = [
      [adam(1e-3, { b1: 0.8 }), adam({ learningRate: 1e-3, b1: 0.8 })],
      [adamw(1e-3, { weightDecay: 0.1 }), adamw({ learningRate: 1e-3, weightDecay: 0.1 })],
      [sgd(0.1, { momentum: 0.5 }), sgd({ learningRate: 0.1, momentum: 0.5 })],
      [momentum(0.1, 0.5), momentum({ learningRate: 0.1, momentum: 0.5 })],
      [lion(1e-3), lion({ learningRate: 1e-3 })],
      [signSgd(0.1), signSgd({ learningRate: 0.1 })],
      [signum(0.1, { momentum: 0.5 }), signum({ learningRate: 0.1, momentum: 0.5 })],
    ]
    for (const [a, b] of pairs) expect(data(a.update(g, a.init(params), params).updates)).toEqual(data(b.update(g, b.init(params), params).updates))
  })

  it('adamw decays weights decoupled from Adam, only where the mask says', () => {
    const opt = adamw(0.1, { weightDecay: 0.5, mask: { w: true, b: false } })
    const zero = { w: tensor([0, 0]), b: tensor([0]) }
    // zero gradients: Adam's part is 0, so the update is −lr·wd·θ on w only
    expect(data(opt.update(zero, opt.init(params), params).updates)).toEqual([[0], [-0.05, -0.1].map(Math.fround)])
  })

  it('signSgd steps by −lr·sign(g); signum by the sign of the momentum', () => {
    const g = { w: tensor([3, -0.1]), b: tensor([0]) }
    expect(data(signSgd(0.5).update(g, signSgd(0.5).init(params)).updates)).toEqual([[0], [-0.5, 0.5]])
    const opt = signum(1, { momentum: 0.9 })
    let s = opt.init(params)
    s = opt.update({ w: tensor([1, 1]), b: tensor([1]) }, s).state
    expect(data(opt.update({ w: tensor([-0.5, -2]), b: tensor([0]) }, s).updates)).toEqual([[-1], [-1, 1]])
  })
})

describe('validation', () => {
  const cases: [() => unknown, RegExp][] = [
    [() => adam(1e-3, { b1: 1.5 }), /^b1 must be in \[0, 1\), got 1\.5 \(at adam\.b1\)$/],
    [() => adam(1e-3, { b2: -0.1 }), /b2 must be in \[0, 1\), got -0\.1 \(at adam\.b2\)/],
    [() => adam(1e-3, { eps: -1 }), /eps must be non-negative, got -1 \(at adam\.eps\)/],
    [() => adam(0), /learningRate must be positive, got 0 \(at adam\.learningRate\)/],
    [() => adamw(-1e-3), /learningRate must be positive, got -0\.001 \(at adamw\.learningRate\)/],
    [() => adamw(1e-3, { weightDecay: -1 }), /weightDecay must be non-negative, got -1 \(at adamw\.weightDecay\)/],
    [() => adamw(1e-3, { b1: 1 }), /at adamw\.b1/],
    [() => lion(1e-3, { b2: 1 }), /b2 must be in \[0, 1\), got 1 \(at lion\.b2\)/],
    [() => sgd(NaN), /learningRate must be positive, got NaN \(at sgd\.learningRate\)/],
    [() => sgd(0.1, { momentum: 2 }), /momentum must be in \[0, 1\), got 2 \(at sgd\.momentum\)/],
    [() => momentum(0.1, -0.5), /at momentum\.momentum/],
    [() => signSgd(Infinity), /at signSgd\.learningRate/],
    [() => signum(0.1, { momentum: 1 }), /at signum\.momentum/],
  ]
  for (const [make, message] of cases)
    it(`throws FrugalError ${message.source.replace(/\\/g, '')}`, () => {
      expect(make).toThrow(FrugalError)
      expect(make).toThrow(message)
    })
})

describe('purity', () => {
  for (const [name, make] of [
    ['adam', () => adam(1e-2)],
    ['adamw', () => adamw(1e-2, { weightDecay: 0.1 })],
    ['lion', () => lion(1e-3)],
    ['sgd', () => sgd(0.1, { momentum: 0.9, nesterov: true })],
    ['signum', () => signum(0.1)],
  ] as const)
    it(`${name}: frozen inputs, same outputs on a repeated call, inputs unchanged`, () => {
      const opt: GradientTransformation<any> = make()
      const params = deepFreeze({ layers: [{ w: tensor([[1, 2], [3, 4]]) }], b: tensor([0.5]) })
      const grads = deepFreeze({ layers: [{ w: tensor([[0.1, -0.2], [0.3, 0]]) }], b: tensor([-1]) })
      let state = deepFreeze(opt.update(grads, opt.init(params), params).state)
      const before = [data(params), data(grads), data(state)]
      const a = opt.update(grads, state, params)
      const b = opt.update(grads, state, params)
      expect(data(a.updates)).toEqual(data(b.updates))
      expect(data(a.state)).toEqual(data(b.state))
      expect([data(params), data(grads), data(state)]).toEqual(before)
      state = a.state
      expect(data(state)).not.toEqual(before[2])
    })
})
