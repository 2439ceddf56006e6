import { describe, expect, it } from 'vitest'
import type { Tensor } from '@frugal-ts/core'
import { Tree, scalar, tensor } from '@frugal-ts/core'
import { jit } from '@frugal-ts/autodiff'
import { FrugalError } from '../src/FrugalError'
import type { GradientTransformation, Params } from '../src/GradientTransformation'
import { emptyState } from '../src/GradientTransformation'
import { linearSchedule } from '../src/schedules'
import { scaleByAdam } from '../src/transforms/adam'
import {
  clip, clipByGlobalNorm, globalNorm, identity, scale, scaleByLearningRate, scaleBySchedule, scaleBySign,
} from '../src/transforms/basic'
import { scaleByLion } from '../src/transforms/lion'
import { trace } from '../src/transforms/trace'
import { addDecayedWeights } from '../src/transforms/weightDecay'

const deepFreeze = <T>(t: T): T => {
  if (Array.isArray(t) || (t !== null && typeof t === 'object' && Object.getPrototypeOf(t) === Object.prototype))
    Object.values(t as object).forEach(deepFreeze), Object.freeze(t)
  return t
}
/** every leaf's data (−0 read as 0), in canonical order */
const data = (tree: unknown): number[][] => Tree.leaves(tree as Params).map((x) => Array.from((x as Tensor).dataSync(), (v) => v + 0))
const expectClose = (actual: number[], expected: number[], rtol = 1e-5, atol = 1e-7) => {
  expect(actual).toHaveLength(expected.length)
  actual.forEach((a, i) => expect(Math.abs(a - expected[i]), `element ${i}: ${a} vs ${expected[i]}`).toBeLessThanOrEqual(atol + rtol * Math.abs(expected[i])))
}
const run = <S>(t: GradientTransformation<S>, grads: number[][], params?: number[]): number[][] => {
  const p = params && { w: tensor(params) }
  let s = t.init({ w: tensor(grads[0].map(() => 0)) })
  return grads.map((g) => {
    const r = t.update({ w: tensor(g) }, s, p)
    s = r.state
    return data(r.updates)[0]
  })
}
const grads = [
  [0.5, -1, 2],
  [0.1, -0.3, 2.5],
  [-0.7, 0.2, 1],
  [3, -2, 0.01],
]

describe('stateless blocks', () => {
  it('identity returns the updates it is given', () => {
    const u = { a: tensor([1, 2]) }
    expect(identity().update(u, emptyState).updates).toBe(u)
  })
  it('scale multiplies; scaleByLearningRate multiplies by −lr (or +lr without flipSign)', () => {
    expect(run(scale(0.5), [[2, -4]])).toEqual([[1, -2]])
    expect(run(scaleByLearningRate(0.5), [[2, -4]])).toEqual([[-1, 2]])
    expect(run(scaleByLearningRate(0.5, false), [[2, -4]])).toEqual([[1, -2]])
    expect(run(scaleByLearningRate(scalar(0.5)), [[2, -4]])).toEqual([[-1, 2]])
  })
  it('scaleBySchedule and a scheduled learning rate use the step count', () => {
    const s = linearSchedule({ init: 1, end: 0, transitionSteps: 4 })
    expectClose(run(scaleBySchedule(s), [[1], [1], [1], [1], [1]]).flat(), [1, 0.75, 0.5, 0.25, 0])
    expectClose(run(scaleByLearningRate(s), [[2], [2], [2]]).flat(), [-2, -1.5, -1])
    const t = scaleBySchedule(s)
    expect(t.update({ w: tensor([1]) }, t.init({ w: tensor([0]) })).state.count.item()).toBe(1)
  })
  it('scaleBySign takes signs', () => {
    expect(run(scaleBySign(), [[-3, 0, 2]])).toEqual([[-1, 0, 1]])
  })
  it('clip clamps every element into [−maxDelta, maxDelta]', () => {
    expect(run(clip(1), [[-3, 0.5, 7]])).toEqual([[-1, 0.5, 1]])
  })
  it('clipByGlobalNorm rescales to the max norm over all leaves, leaves small updates alone', () => {
    const big = clipByGlobalNorm(1).update({ a: tensor([3]), b: tensor([4]) }, emptyState).updates
    expectClose(data(big).flat(), [0.6, 0.8])
    expect(globalNorm(big).item()).toBeCloseTo(1, 6)
    const small = clipByGlobalNorm(10).update({ a: tensor([3]), b: tensor([4]) }, emptyState).updates
    expect(data(small)).toEqual([[3], [4]])
    expect(data(clipByGlobalNorm(1).update({ a: tensor([0, 0]) }, emptyState).updates)).toEqual([[0, 0]])
    expect(clipByGlobalNorm(1).update({}, emptyState).updates).toEqual({})
  })
})

describe('scaleByAdam', () => {
  // hyperparameters are float32 scalars in the library: round them the same way (1 − 0.999 alone differs by 1.3e-5 otherwise)
  const reference = (...hp: [number, number, number, number, boolean]) => {
    const [b1, b2, eps, epsRoot] = hp.slice(0, 4).map((x) => Math.fround(x as number))
    const biasCorrection = hp[4]
    const m = [0, 0, 0]
    const v = [0, 0, 0]
    return grads.map((g, k) =>
      g.map((gi, i) => {
        m[i] = b1 * m[i] + (1 - b1) * gi
        v[i] = b2 * v[i] + (1 - b2) * gi * gi
        const [c1, c2] = biasCorrection ? [1 - b1 ** (k + 1), 1 - b2 ** (k + 1)] : [1, 1]
        return m[i] / c1 / (Math.sqrt(v[i] / c2 + epsRoot) + eps)
      }),
    )
  }
  it('matches a plain JS reference with the defaults (bias-corrected like optax)', () => {
    const got = run(scaleByAdam(), grads)
    reference(0.9, 0.999, 1e-8, 0, true).forEach((r, k) => expectClose(got[k], r))
  })
  it('matches the reference with every option set', () => {
    const got = run(scaleByAdam({ b1: 0.5, b2: 0.9, eps: 1e-2, epsRoot: 1e-3, biasCorrection: false }), grads)
    reference(0.5, 0.9, 1e-2, 1e-3, false).forEach((r, k) => expectClose(got[k], r))
  })
  it('keeps an int32 step count and float32 moments shaped like the params', () => {
    const t = scaleByAdam()
    const s = t.init({ w: tensor([[1, 2]]), b: tensor([0]) })
    expect(s.count.dtype).toBe('int32')
    expect(s.count.shape).toEqual([])
    expect((s.mu as { w: Tensor }).w.shape).toEqual([1, 2])
    expect(data(s.nu)).toEqual([[0], [0, 0]])
  })
  it('gives the same numbers under jit', () => {
    const t = scaleByAdam({ b1: 0.8 })
    const step = jit((u: Params, s: ReturnType<typeof t.init>) => t.update(u, s))
    let [se, sj] = [t.init({ w: tensor([0, 0, 0]) }), t.init({ w: tensor([0, 0, 0]) })]
    for (const g of grads) {
      const e = t.update({ w: tensor(g) }, se)
      const j = step({ w: tensor(g) }, sj)
      expectClose(data(j.updates)[0], data(e.updates)[0], 1e-6, 1e-7)
      ;[se, sj] = [e.state, j.state]
    }
    expect(sj.count.item()).toBe(grads.length)
    expect(step.traceCount).toBe(1)
  })
})

describe('scaleByLion and trace', () => {
  it('scaleByLion: sign((1−b1)g + b1·m), then m ← b2·m + (1−b2)g', () => {
    const m = [0, 0, 0]
    const expected = grads.map((g) =>
      g.map((gi, i) => {
        const u = Math.sign(0.1 * gi + 0.9 * m[i])
        m[i] = 0.99 * m[i] + 0.01 * gi
        return u
      }),
    )
    expect(run(scaleByLion(), grads)).toEqual(expected)
  })
  it('trace: t ← g + decay·t, the update is t (or g + decay·t with nesterov)', () => {
    for (const nesterov of [false, true]) {
      const t = [0, 0, 0]
      const expected = grads.map((g) =>
        g.map((gi, i) => {
          t[i] = gi + 0.5 * t[i]
          return nesterov ? gi + 0.5 * t[i] : t[i]
        }),
      )
      run(trace({ decay: 0.5, nesterov }), grads).forEach((u, k) => expectClose(u, expected[k]))
    }
  })
})

describe('addDecayedWeights', () => {
  const params = { w: tensor([1, 2]), b: tensor([4]), nested: { v: tensor([10]) } }
  const zero = { w: tensor([0, 0]), b: tensor([0]), nested: { v: tensor([0]) } }
  const decayed = (mask?: Parameters<typeof addDecayedWeights>[1]) => data(addDecayedWeights(0.5, mask).update(zero, emptyState, params).updates)
  it('adds weightDecay·θ to every leaf', () => {
    expect(decayed()).toEqual([[2], [5], [0.5, 1]])
  })
  it('with a mask tree, a prefix mask tree or a mask function, only where it is true', () => {
    expect(decayed({ w: true, b: false, nested: { v: false } })).toEqual([[0], [0], [0.5, 1]])
    expect(decayed({ w: false, b: false, nested: true })).toEqual([[0], [5], [0, 0]])
    expect(decayed((path) => path[0] !== 'nested')).toEqual([[2], [0], [0.5, 1]])
  })
  it('a mask of the wrong shape or with non-boolean values throws FrugalError saying where', () => {
    expect(() => decayed({ w: true })).toThrow(/at addDecayedWeights\.mask/)
    expect(() => decayed({ w: true, b: 'yes', nested: true } as never)).toThrow(/expected a boolean for the leaf at b, got "yes" \(at addDecayedWeights\.mask\.b\)/)
  })
  it('needs the params', () => {
    expect(() => addDecayedWeights(0.1).update(zero, emptyState)).toThrow(FrugalError)
    expect(() => addDecayedWeights(0.1).update(zero, emptyState)).toThrow(/params are required.*at addDecayedWeights\.update/)
  })
})

describe('validation', () => {
  const cases: [() => unknown, RegExp][] = [
    [() => scaleByAdam({ b1: 1.5 }), /^b1 must be in \[0, 1\), got 1\.5 \(at scaleByAdam\.b1\)$/],
    [() => scaleByAdam({ b2: 1 }), /b2 must be in \[0, 1\), got 1 \(at scaleByAdam\.b2\)/],
    [() => scaleByAdam({ epsRoot: -1 }), /epsRoot must be non-negative, got -1 \(at scaleByAdam\.epsRoot\)/],
    [() => scaleByLion({ b1: -0.5 }), /at scaleByLion\.b1/],
    [() => trace({ decay: 1 }), /decay must be in \[0, 1\), got 1 \(at trace\.decay\)/],
    [() => scale(NaN), /step must be a finite number, got NaN \(at scale\.step\)/],
    [() => scaleByLearningRate(0), /learningRate must be positive, got 0 \(at scaleByLearningRate\.learningRate\)/],
    [() => clip(-1), /maxDelta must be non-negative, got -1 \(at clip\.maxDelta\)/],
    [() => clipByGlobalNorm(0), /maxNorm must be positive, got 0 \(at clipByGlobalNorm\.maxNorm\)/],
    [() => addDecayedWeights(-0.1), /weightDecay must be non-negative, got -0\.1 \(at addDecayedWeights\.weightDecay\)/],
  ]
  for (const [make, message] of cases)
    it(`throws FrugalError: ${message.source.replace(/\\/g, '')}`, () => {
      expect(make).toThrow(FrugalError)
      expect(make).toThrow(message)
    })
})

describe('purity: frozen inputs, repeated calls give identical outputs', () => {
  const blocks: [string, () => GradientTransformation<any>][] = [
    ['identity', identity],
    ['scale', () => scale(2)],
    ['scaleByLearningRate(schedule)', () => scaleByLearningRate(linearSchedule({ init: 1, end: 0.5, transitionSteps: 3 }))],
    ['scaleByAdam', () => scaleByAdam()],
    ['scaleByLion', () => scaleByLion()],
    ['scaleBySign', scaleBySign],
    ['trace', () => trace({ decay: 0.9, nesterov: true })],
    ['addDecayedWeights', () => addDecayedWeights(0.1, (p) => p[0] === 'w')],
    ['clipByGlobalNorm', () => clipByGlobalNorm(0.1)],
    ['clip', () => clip(0.05)],
  ]
  for (const [name, make] of blocks)
    it(name, () => {
      const t = make()
      const params = deepFreeze({ w: tensor([[1, -2], [3, 4]]), b: [tensor([0.5]), null] })
      const g = deepFreeze({ w: tensor([[0.1, -0.2], [0.3, 0]]), b: [tensor([-1]), null] })
      const s0 = deepFreeze(t.init(params))
      const s1 = deepFreeze(t.update(g, s0, params).state)
      const before = [data(params), data(g), data(s1)]
      const a = t.update(g, s1, params)
      const b = t.update(g, s1, params)
      expect(data(a.updates)).toEqual(data(b.updates))
      expect(data(a.state)).toEqual(data(b.state))
      expect([data(params), data(g), data(s1)]).toEqual(before)
    })
})
