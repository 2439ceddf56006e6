import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import type { Tensor } from '@frugal-ts/core'
import { Tree, add, fromArray, full, mul, sum, tensor } from '@frugal-ts/core'
import { jit } from '@frugal-ts/autodiff'
import { FrugalError } from '../src/FrugalError'
import type { GradientTransformation, Params } from '../src/GradientTransformation'
import { emptyState } from '../src/GradientTransformation'
import { adam, adamw, sgd } from '../src/aliases'
import { applyIfFinite } from '../src/combinators/applyIfFinite'
import { chain } from '../src/combinators/chain'
import { injectHyperparams, setHyperparam } from '../src/combinators/injectHyperparams'
import { masked } from '../src/combinators/masked'
import { multiSteps } from '../src/combinators/multiSteps'
import { partition } from '../src/combinators/partition'
import { linearSchedule, scheduleValue } from '../src/schedules'
import { scaleByAdam } from '../src/transforms/adam'
import { clipByGlobalNorm, identity, scale, scaleBySign } from '../src/transforms/basic'
import { zeroCount } from '../src/transforms/common'
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
const closeTo = (a: number[][], b: number[][], rtol = 1e-6) =>
  a.forEach((row, i) => row.forEach((x, j) => expect(Math.abs(x - b[i][j]), `[${i}][${j}] ${x} vs ${b[i][j]}`).toBeLessThanOrEqual(1e-7 + rtol * Math.abs(b[i][j]))))

/** Runs `t` over a list of gradient trees and returns every step's updates. */
const steps = <S>(t: GradientTransformation<S>, grads: Params[], params: Params): { updates: Params[]; state: S } => {
  let state = t.init(params)
  const updates = grads.map((g) => {
    const r = t.update(g, state, params)
    state = r.state
    return r.updates
  })
  return { updates, state }
}

interface RefreshState {
  readonly count: Tensor
  /** the sum of the updates seen at the last refresh */
  readonly seen: Tensor
}
/** A transformation with host work due every `gap` steps, like FRUGAL's subspace refresh: it records what it saw. */
const refreshing = (gap: number): GradientTransformation<RefreshState> => {
  const refresh = (u: Params, s: RefreshState): RefreshState | null =>
    s.count.item() % gap === 0 ? { count: s.count, seen: Tree.leaves(u).reduce((a: Tensor, x: Tensor) => add(a, sum(x)), full([], 0)) } : null
  return {
    init: () => ({ count: zeroCount(), seen: full([], 0) }),
    update: (u, s) => {
      const now = s.count.trace === null ? (refresh(u, s) ?? s) : s
      return { updates: u, state: { count: add(now.count, 1), seen: now.seen } }
    },
    refresh,
  }
}

/** identity that counts its update calls (a test-only side effect) */
const counting = () => {
  const t = { calls: 0, init: () => emptyState, update: (u: Params, s: typeof emptyState) => (t.calls++, { updates: u, state: s }) }
  return t
}

const params = { w: tensor([[1, 2], [3, 4]]), b: tensor([0.5, -0.5]), head: { v: tensor([2]) } }
const g1 = { w: tensor([[0.1, -0.2], [0.3, 0.4]]), b: tensor([1, -1]), head: { v: tensor([-3]) } }
const g2 = { w: tensor([[-0.5, 0.2], [0, 1]]), b: tensor([2, 0.5]), head: { v: tensor([1]) } }
const g3 = { w: tensor([[0.7, 0.7], [-0.1, 0]]), b: tensor([-1, 3]), head: { v: tensor([0.25]) } }

describe('chain', () => {
  const leaf = fc
    .tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 }))
    .chain(([m, n]) => fc.array(fc.float({ min: -10, max: 10, noNaN: true }), { minLength: m * n, maxLength: m * n }).map((v) => fromArray(new Float32Array(v), [m, n])))
  const { tree } = fc.letrec<{ tree: Params }>((tie) => ({
    tree: fc.oneof(
      { maxDepth: 2, depthSize: 'small' },
      leaf,
      fc.array(tie('tree'), { minLength: 1, maxLength: 3 }),
      fc.dictionary(fc.stringMatching(/^[a-z]{1,3}$/), tie('tree'), { minKeys: 1, maxKeys: 3 }),
    ),
  }))
  const blocks: (() => GradientTransformation<any>)[] = [
    () => scaleByAdam(),
    () => trace({ decay: 0.5, nesterov: true }),
    () => scale(0.5),
    () => clipByGlobalNorm(1),
    scaleBySign,
    () => scaleByLion(),
    () => addDecayedWeights(0.1),
  ]
  const arbBlock = fc.integer({ min: 0, max: blocks.length - 1 }).map((i) => blocks[i])
  /** the updates of three steps with the same gradient tree and params */
  const trajectory = (t: GradientTransformation<any>, g: Params) => steps(t, [g, g, g], g).updates.map(data)

  it('identity is a unit: chain(identity, t) = t = chain(t, identity) (property)', () => {
    fc.assert(
      fc.property(tree, arbBlock, (g, b) => {
        const expected = trajectory(b(), g)
        expect(trajectory(chain(identity(), b()), g)).toEqual(expected)
        expect(trajectory(chain(b(), identity()), g)).toEqual(expected)
      }),
      { seed: 241107837, numRuns: 30 },
    )
  })

  it('is associative: chain(chain(a, b), c) = chain(a, chain(b, c)) = chain(a, b, c) (property)', () => {
    fc.assert(
      fc.property(tree, arbBlock, arbBlock, arbBlock, (g, a, b, c) => {
        const expected = trajectory(chain(a(), b(), c()), g)
        expect(trajectory(chain(chain(a(), b()), c()), g)).toEqual(expected)
        expect(trajectory(chain(a(), chain(b(), c())), g)).toEqual(expected)
      }),
      { seed: 241107837, numRuns: 30 },
    )
  })

  it('keeps the tuple of its children’s states, in order', () => {
    const s = chain(scaleByAdam(), identity(), trace({ decay: 0.9 })).init(params)
    expect(s).toHaveLength(3)
    expect(s[0]).toHaveProperty('mu')
    expect(s[1]).toBe(emptyState)
    expect(s[2]).toHaveProperty('trace')
  })

  it('has refresh only when a child has one', () => {
    expect(chain(scale(2), scaleByAdam()).refresh).toBeUndefined()
    expect(chain(scale(2), refreshing(2)).refresh).toBeTypeOf('function')
  })

  it('refresh: null when none is due, else the tuple with refreshed children, each seeing the updates it would see', () => {
    const t = chain(refreshing(1), scale(2), refreshing(2), scale(3))
    const s0 = t.init(params)
    const fresh = t.refresh!(g1, s0, params)!
    expect(fresh).not.toBeNull()
    expect(fresh[1]).toBe(s0[1])
    expect(fresh[3]).toBe(s0[3])
    const total = data(g1).flat().reduce((a, b) => a + b, 0)
    expect(fresh[0].seen.item()).toBeCloseTo(total, 5)
    expect(fresh[2].seen.item()).toBeCloseTo(2 * total, 5) // after scale(2)
    const s1 = t.update(g1, fresh, params).state
    // step 1: the first child (gap 1) is due, the second (gap 2) is not
    const again = t.refresh!(g2, s1, params)!
    expect(again[2]).toBe(s1[2])
    expect(again[0].seen.item()).toBeCloseTo(data(g2).flat().reduce((a, b) => a + b, 0), 5)
    const lone = chain(scale(2), refreshing(2))
    expect(lone.refresh!(g1, lone.update(g1, lone.init(params)).state, params)).toBeNull()
  })

  it('eager update runs a due refresh itself, as refresh then update would', () => {
    const t = chain(scale(2), refreshing(2))
    const direct = t.update(g1, t.init(params)).state
    const viaRefresh = t.update(g1, t.refresh!(g1, t.init(params), params)!, params).state
    expect(data(direct)).toEqual(data(viaRefresh))
  })
})

describe('partition', () => {
  const byName = (path: Tree.Path) => (path[0] === 'head' ? 'neg' : 'double')
  it('routes each leaf to its label’s transformation (label function, label tree, prefix tree)', () => {
    const expected = data({ w: mul(g1.w, 2), b: mul(g1.b, 2), head: { v: mul(g1.head.v, -1) } })
    for (const labels of [byName, { w: 'double', b: 'double', head: { v: 'neg' } }, { w: 'double', b: 'double', head: 'neg' }]) {
      const t = partition({ double: scale(2), neg: scale(-1) }, labels)
      expect(data(t.update(g1, t.init(params), params).updates)).toEqual(expected)
    }
  })

  it('gives each transformation state for its own leaves only', () => {
    const t = partition({ adam: scaleByAdam(), sign: scaleBySign() }, (p) => (p[0] === 'w' ? 'adam' : 'sign'))
    const { updates, state } = steps(t, [g1, g2], params)
    expect(Tree.leaves(state.adam.mu)).toHaveLength(1)
    expect((state.adam.mu as { b: unknown }).b).toBeNull()
    const alone = steps(scaleByAdam(), [{ w: g1.w }, { w: g2.w }], { w: params.w }).updates
    expect(data((updates[1] as { w: Tensor }).w)).toEqual(data(alone[1]))
    expect(data((updates[1] as { b: Tensor }).b)).toEqual([[1, 1]])
  })

  it('passes each transformation its own params', () => {
    const t = partition({ decay: addDecayedWeights(1), keep: identity() }, (p) => (p[0] === 'b' ? 'decay' : 'keep'))
    const zero = Tree.map(params, (x: Tensor) => mul(x, 0))
    expect(data(t.update(zero, t.init(params), params).updates)).toEqual([[0.5, -0.5], [0], [0, 0, 0, 0]])
  })

  it('a label with no transformation throws FrugalError naming the label and the path', () => {
    const t = partition({ a: identity() }, (p) => (p[0] === 'head' ? 'frozen' : 'a'))
    expect(() => t.init(params)).toThrow(FrugalError)
    expect(() => t.init(params)).toThrow(/no transformation for label 'frozen' of the leaf at head\.v; expected one of \[a\] \(at partition\.labels\.head\.v\)/)
    expect(() => partition({ a: identity() }, { w: 'a', b: 7, head: 'a' } as never).init(params)).toThrow(/expected a string label for the leaf at b, got 7/)
  })

  it('forwards refresh to the transformations, each on its own leaves', () => {
    const t = partition({ r: refreshing(2), s: scale(5) }, (p) => (p[0] === 'b' ? 'r' : 's'))
    const fresh = t.refresh!(g1, t.init(params), params)!
    expect(fresh.r.seen.item()).toBeCloseTo(0, 6) // b = [1, −1]
    expect(fresh.s).toBe(emptyState)
    expect(partition({ s: scale(5) }, () => 's').refresh).toBeUndefined()
  })
})

describe('masked', () => {
  const mask = { w: true, b: false, head: { v: true } }
  it('applies the inner transformation where the mask is true and leaves the rest untouched', () => {
    const t = masked(scaleByAdam(), mask)
    const r = t.update(g1, t.init(params))
    expect((r.updates as typeof g1).b).toBe(g1.b)
    const inner = steps(scaleByAdam(), [{ w: g1.w, head: g1.head }], { w: params.w, head: params.head }).updates[0]
    expect(data({ w: (r.updates as typeof g1).w, head: (r.updates as typeof g1).head })).toEqual(data(inner))
    expect(Tree.leaves(r.state.inner.mu)).toHaveLength(2)
  })

  it('takes mask functions and prefix trees', () => {
    const t1 = masked(scale(0), (path) => path[0] === 'b')
    const t2 = masked(scale(0), { w: false, b: true, head: false })
    for (const t of [t1, t2]) expect(data(t.update(g1, t.init(params)).updates)).toEqual([[0, 0], data(g1.head.v)[0], data(g1.w)[0]])
  })

  it('nests in partition (blanked leaves stay blank)', () => {
    const t = partition({ a: masked(scale(2), { w: true, b: false, head: true }), b: identity() }, { w: 'a', b: 'a', head: 'b' })
    expect(data(t.update(g1, t.init(params)).updates)).toEqual(data({ w: mul(g1.w, 2), b: g1.b, head: g1.head }))
  })

  it('forwards refresh', () => {
    const t = masked(refreshing(1), { w: false, b: true, head: false })
    expect(t.refresh!(g1, t.init(params))!.inner.seen.item()).toBeCloseTo(0, 6)
    expect(masked(scale(1), mask).refresh).toBeUndefined()
  })
})

describe('injectHyperparams', () => {
  it('behaves as the optimizer it wraps and keeps the hyperparameters in its state', () => {
    const t = injectHyperparams(adam)({ learningRate: 1e-3, b1: 0.8 })
    const a = steps(t, [g1, g2, g3], params)
    const b = steps(adam(1e-3, { b1: 0.8 }), [g1, g2, g3], params)
    closeTo(a.updates.map(data).flat(), b.updates.map(data).flat())
    expect(a.state.hyperparams.learningRate.item()).toBeCloseTo(1e-3, 10)
    expect(Object.keys(a.state.hyperparams).sort()).toEqual(['b1', 'learningRate'])
    expect(a.state.count.item()).toBe(3)
  })

  it('setHyperparam changes the learning rate between steps', () => {
    const t = injectHyperparams(adam)({ learningRate: 1e-3 })
    const s1 = t.update(g1, t.init(params), params).state
    const before = t.update(g2, s1, params).updates
    const after = t.update(g2, setHyperparam(s1, 'learningRate', 2e-3), params).updates
    closeTo(data(after), data(Tree.map(before, (x: Tensor) => mul(x, 2))))
    expect(s1.hyperparams.learningRate.item()).toBeCloseTo(1e-3, 10) // the old state is unchanged
  })

  it('under jit: changing a hyperparameter does not retrace', () => {
    const t = injectHyperparams(sgd)({ learningRate: 0.1, momentum: 0.5 })
    const step = jit((g: Params, s: ReturnType<typeof t.init>) => t.update(g, s))
    let s = t.init(params)
    const u1 = step(g1, s)
    s = setHyperparam(u1.state, 'learningRate', 0.01)
    const u2 = step(g1, s)
    expect(step.traceCount).toBe(1)
    const e = steps(sgd(0.1, { momentum: 0.5 }), [g1], params).state
    const expected = sgd(0.01, { momentum: 0.5 }).update(g1, e).updates
    closeTo(data(u2.updates), data(expected))
  })

  it('evaluates schedules at the step count and passes static arguments as they are', () => {
    const lr = linearSchedule({ init: 1, end: 0.5, transitionSteps: 2 })
    const t = injectHyperparams(adamw, { staticArgs: ['mask'] })({ learningRate: lr, weightDecay: 0.5, mask: (p) => p[0] === 'b' })
    let s = t.init(params)
    for (const k of [0, 1, 2]) {
      expect(s.hyperparams.learningRate.item()).toBeCloseTo(scheduleValue(lr, k === 0 ? 0 : k - 1), 6)
      s = t.update(g1, s, params).state
    }
    expect(s.hyperparams.learningRate.item()).toBeCloseTo(0.5, 6)
    const zero = Tree.map(params, (x: Tensor) => mul(x, 0))
    expect(data(t.update(zero, t.init(params), params).updates)).toEqual([[-0.25, 0.25], [0], [0, 0, 0, 0]])
  })

  it('validates through the factory; unknown names are FrugalErrors', () => {
    expect(() => injectHyperparams(adam)({ learningRate: 1e-3, b1: 1.5 })).toThrow(/at adam\.b1/)
    const s = injectHyperparams(adam)({ learningRate: 1e-3 }).init(params)
    expect(() => setHyperparam(s, 'lr', 1)).toThrow(/no hyperparameter 'lr' in the state; expected one of \[learningRate\]/)
  })

  it('forwards refresh', () => {
    const t = injectHyperparams((o: { gap: number; scale: number }) => chain(scale(o.scale), refreshing(o.gap)), { staticArgs: ['gap'] })({ gap: 2, scale: 3 })
    const fresh = t.refresh!(g1, t.init(params), params)!
    expect(fresh.inner[1].seen.item()).toBeCloseTo(3 * data(g1).flat().reduce((a, b) => a + b, 0), 5)
  })
})

describe('multiSteps', () => {
  const grads = [g1, g2, g3, g2, g3, g1]
  const mean = (gs: Params[]) => Tree.zipWith([gs[0], gs[1], gs[2]], (a: Tensor, b: Tensor, c: Tensor) => mul(add(add(a, b), c), 1 / 3))

  it('emits zeros until k gradients are in, then the inner step on their mean', () => {
    const { updates, state } = steps(multiSteps(sgd(1), 3), grads, params)
    expect(data(updates[0]).flat().every((x) => x === 0)).toBe(true)
    expect(data(updates[1]).flat().every((x) => x === 0)).toBe(true)
    closeTo(data(updates[2]), data(Tree.map(mean(grads.slice(0, 3)), (x: Tensor) => mul(x, -1))))
    expect(data(updates[4]).flat().every((x) => x === 0)).toBe(true)
    closeTo(data(updates[5]), data(Tree.map(mean(grads.slice(3)), (x: Tensor) => mul(x, -1))))
    expect([state.miniStep.item(), state.gradientStep.item()]).toEqual([0, 2])
  })

  it('steps the inner state only on emitting calls: equals Adam on the means', () => {
    const a = steps(multiSteps(adam(0.1), 3), grads, params)
    const b = steps(adam(0.1), [mean(grads.slice(0, 3)), mean(grads.slice(3))], params)
    expect(a.state.inner[0].count.item()).toBe(2)
    closeTo(data(a.updates[2]), data(b.updates[0]), 1e-5)
    closeTo(data(a.updates[5]), data(b.updates[1]), 1e-5)
  })

  it('gives the same results under jit (branch-free), traced once', () => {
    const t = multiSteps(adam(0.1), 2)
    const step = jit((g: Params, s: ReturnType<typeof t.init>) => t.update(g, s))
    let s = t.init(params)
    const eager = steps(t, grads, params).updates
    grads.forEach((g, i) => {
      const r = step(g, s)
      s = r.state
      closeTo(data(r.updates), data(eager[i]))
    })
    expect(step.traceCount).toBe(1)
  })

  it('called eagerly, runs the inner update only on emitting calls', () => {
    const inner = counting()
    steps(multiSteps(inner, 3), grads, params)
    expect(inner.calls).toBe(2)
  })

  it('refreshes the inner transformation only before an emitting call, on the mean', () => {
    const t = multiSteps(refreshing(1), 2)
    const s0 = t.init(params)
    expect(t.refresh!(g1, s0, params)).toBeNull()
    const s1 = t.update(g1, s0, params).state
    const fresh = t.refresh!(g2, s1, params)!
    const total = (g: Params) => data(g).flat().reduce((a, b) => a + b, 0)
    expect(fresh.inner.seen.item()).toBeCloseTo((total(g1) + total(g2)) / 2, 5)
  })

  it('validates everyK', () => {
    expect(() => multiSteps(sgd(1), 0)).toThrow(/everyK must be a positive integer, got 0 \(at multiSteps\.everyK\)/)
  })
})

describe('applyIfFinite', () => {
  const bad = (v: number) => ({ ...g1, b: tensor([1, v]) })
  it('skips steps with NaN or ±Infinity: zero updates, inner state unchanged, counted', () => {
    const t = applyIfFinite(adam(0.1))
    const s1 = t.update(g1, t.init(params), params).state
    const nan = t.update(bad(NaN), s1, params)
    expect(data(nan.updates).flat().every((x) => x === 0)).toBe(true)
    expect(data(nan.state.inner)).toEqual(data(s1.inner))
    expect([nan.state.notFiniteCount.item(), nan.state.totalNotFinite.item(), nan.state.lastFinite.item()]).toEqual([1, 1, 0])
    const inf = t.update(bad(-Infinity), nan.state, params)
    expect(data(inf.updates).flat().every((x) => x === 0)).toBe(true)
    expect([inf.state.notFiniteCount.item(), inf.state.totalNotFinite.item()]).toEqual([2, 2])
    const ok = t.update(g2, inf.state, params)
    expect([ok.state.notFiniteCount.item(), ok.state.totalNotFinite.item(), ok.state.lastFinite.item()]).toEqual([0, 2, 1])
    closeTo(data(ok.updates), data(adam(0.1).update(g2, s1.inner, params).updates))
  })

  it('applies the update anyway after more than maxConsecutiveErrors non-finite steps', () => {
    const t = applyIfFinite(sgd(1), 2)
    let s = t.init(params)
    for (let i = 0; i < 2; i++) s = t.update(bad(NaN), s, params).state
    const third = t.update(bad(NaN), s, params)
    expect(data(third.updates).flat().some(Number.isNaN)).toBe(true)
  })

  it('is branch-free: the same under jit', () => {
    const t = applyIfFinite(adam(0.1))
    const step = jit((g: Params, s: ReturnType<typeof t.init>) => t.update(g, s))
    let [se, sj] = [t.init(params), t.init(params)]
    for (const g of [g1, bad(NaN), g2, bad(Infinity), g3]) {
      const e = t.update(g, se)
      const j = step(g, sj)
      closeTo(data(j.updates), data(e.updates))
      ;[se, sj] = [e.state, j.state]
    }
    expect(sj.totalNotFinite.item()).toBe(2)
  })

  it('called eagerly, does not run the inner update on a skipped step', () => {
    const inner = counting()
    steps(applyIfFinite(inner), [g1, bad(NaN), g2], params)
    expect(inner.calls).toBe(2)
  })

  it('does not refresh on a skipped step', () => {
    const t = applyIfFinite(refreshing(1))
    expect(t.refresh!(bad(NaN), t.init(params), params)).toBeNull()
    expect(t.refresh!(g1, t.init(params), params)).not.toBeNull()
  })
})

describe('purity: frozen inputs, repeated calls give identical outputs', () => {
  const combinators: [string, () => GradientTransformation<any>][] = [
    ['chain', () => chain(scaleByAdam(), addDecayedWeights(0.1), scale(-0.1))],
    ['partition', () => partition({ a: adam(0.1), s: sgd(0.1, { momentum: 0.9 }) }, (p) => (p[0] === 'w' ? 'a' : 's'))],
    ['masked', () => masked(scaleByLion(), (p) => p[0] !== 'b')],
    ['injectHyperparams', () => injectHyperparams(adam)({ learningRate: 0.1 })],
    ['multiSteps', () => multiSteps(adam(0.1), 2)],
    ['applyIfFinite', () => applyIfFinite(adam(0.1))],
  ]
  for (const [name, make] of combinators)
    it(name, () => {
      const t = make()
      const p = deepFreeze({ ...params, head: { v: params.head.v } })
      const g = deepFreeze({ ...g1, head: { v: g1.head.v } })
      const s1 = deepFreeze(t.update(g, t.init(p), p).state)
      const before = [data(p), data(g), data(s1)]
      const a = t.update(g, s1, p)
      const b = t.update(g, s1, p)
      expect(data(a.updates)).toEqual(data(b.updates))
      expect(data(a.state)).toEqual(data(b.state))
      expect([data(p), data(g), data(s1)]).toEqual(before)
    })
})
