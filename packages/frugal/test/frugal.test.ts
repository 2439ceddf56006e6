import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import type { Tensor } from '@frugal-ts/core'
import { Key, Tree, add, eye, matmul, matrixTranspose, mul, sub, sum, tensor, zeros } from '@frugal-ts/core'
import { jit } from '@frugal-ts/autodiff'
import { checkParams } from '@frugal-ts/core/testing'
import { FrugalError } from '../src/FrugalError'
import type { GradientTransformation, Params } from '../src/GradientTransformation'
import { applyUpdates } from '../src/GradientTransformation'
import { adamw } from '../src/aliases'
import { badam, frugal, galore } from '../src/frugal/presets'
import { defaultProjectable } from '../src/frugal/projectable'
import { lossAwareGap, linearDensity } from '../src/frugal/schedules'
import { frugalSplit } from '../src/frugal/split'
import { recordLoss } from '../src/frugal/state'
import { blocks } from '../src/projectors/blocks'
import { coordinates } from '../src/projectors/coordinates'
import { linearSchedule } from '../src/schedules'
import { scaleByAdam } from '../src/transforms/adam'

const data = (tree: unknown): number[][] => Tree.leaves(tree as Params).map((x) => Array.from((x as Tensor).dataSync()))
const gauss = (seed: number, shape: number[]) => Key.normal(Key.key(seed), shape)
const params0 = (): Params => ({ w0: gauss(1, [6, 4]), w1: gauss(2, [4, 6]), w2: gauss(3, [5, 5]), b: gauss(4, [5]) })
const gradsAt = (step: number, p: Params): Params => Tree.map(p, (x: Tensor, path) => gauss(100 * step + path.join('').length, [...x.shape]))

/** Runs an optimizer on fixed pseudo-random gradients; returns the parameters after each step. */
const trajectory = (opt: GradientTransformation<any>, steps: number): number[][][] => {
  let p = params0()
  let s = opt.init(p)
  const out: number[][][] = []
  for (let t = 0; t < steps; t++) {
    const r = opt.update(gradsAt(t, p), s, p)
    s = r.state
    p = applyUpdates(p, r.updates)
    out.push(data(p))
  }
  return out
}
const expectClose = (a: number[][][], b: number[][][], tol = 2e-6) =>
  a.flat(2).forEach((x, i) => expect(Math.abs(x - b.flat(2)[i]), `element ${i}`).toBeLessThanOrEqual(tol * (1 + Math.abs(b.flat(2)[i]))))

describe('FRUGAL extremes', () => {
  const hp = { learningRate: 0.01, weightDecay: 0.1, b1: 0.9, b2: 0.999, eps: 1e-8 }

  it('ρ = 1 equals AdamW (blocks, and RandK with moments kept across refreshes)', () => {
    const ref = trajectory(adamw(hp.learningRate, hp), 12)
    expectClose(trajectory(frugal({ ...hp, density: 1, updateGap: 5 * 12 }), 12), ref)
    expectClose(trajectory(frugal({ ...hp, density: 1, updateGap: 3, resetOnRefresh: false }), 12), ref)
    expectClose(trajectory(frugal({ ...hp, density: 1, updateGap: 3, resetOnRefresh: false, projector: 'randk' }), 12), ref)
  })

  it('ρ = 0 equals signSGD (with decoupled weight decay) on projectable leaves, AdamW on the others', () => {
    const steps = 6
    const got = trajectory(frugal({ ...hp, density: 0 }), steps)
    const adam = trajectory(adamw(hp.learningRate, hp), steps)
    // the gradients depend on the step and the leaf only, so each leaf can be followed on its own
    let p = params0() as Record<string, Tensor>
    const names = Object.keys(p).sort() // canonical order: b, w0, w1, w2
    for (let t = 0; t < steps; t++) {
      const g = gradsAt(t, p) as Record<string, Tensor>
      p = Object.fromEntries(
        names.map((k) => {
          const w = p[k].dataSync()
          const gk = g[k].dataSync()
          return [k, tensor(Array.from(w, (v, j) => Math.fround(v * (1 - hp.learningRate * hp.weightDecay)) - hp.learningRate * Math.sign(gk[j])))]
        }),
      )
      names.forEach((k, i) => {
        const want = k === 'b' ? adam[t][i] : Array.from(p[k].dataSync()) // b is not projectable: AdamW
        want.forEach((v, j) => expect(Math.abs(got[t][i][j] - v)).toBeLessThan(1e-6))
      })
    }
  })

  it('badam with stateFree none leaves inactive blocks unchanged but for weight decay', () => {
    const opt = badam({ learningRate: 0.01, weightDecay: 0.1, density: 0.5, updateGap: 2 })
    let p = params0()
    let s = opt.init(p)
    for (let t = 0; t < 6; t++) {
      const r = opt.update(gradsAt(t, p), s, p)
      const next = applyUpdates(p, r.updates)
      const leaves = r.state.leaves as Record<string, { inner: unknown }>
      const inactive = ['w0', 'w1', 'w2'].filter((k) => leaves[k].inner === null)
      expect(inactive).toHaveLength(1) // round(0.5·3) = 2 of 3 active
      for (const k of inactive) {
        const before = data((p as Record<string, Tensor>)[k])[0]
        data((next as Record<string, Tensor>)[k])[0].forEach((v, j) => expect(v).toBeCloseTo(before[j] * (1 - 0.01 * 0.1), 6))
      }
      ;[p, s] = [next, r.state]
    }
  })
})


describe('refresh', () => {
  const opt = frugal({ learningRate: 0.01, density: 0.5, updateGap: 3, projector: 'randk' })

  it('is due before steps 1, T+1, 2T+1, … and returns null otherwise', () => {
    let p = params0()
    let s = opt.init(p)
    const due: number[] = []
    for (let t = 0; t < 10; t++) {
      const g = gradsAt(t, p)
      if (opt.refresh(g, s, p) !== null) due.push(t + 1)
      const r = opt.update(g, s, p)
      ;[s, p] = [r.state, applyUpdates(p, r.updates)]
    }
    expect(due).toEqual([1, 4, 7, 10])
    expect(s.refreshes.item()).toBe(4)
  })

  it('resets the stateful state of projectable leaves (step counter included) unless resetOnRefresh is false', () => {
    const innerCount = (o: typeof opt, steps: number) => {
      let p = params0()
      let s = o.init(p)
      for (let t = 0; t < steps; t++) {
        const r = o.update(gradsAt(t, p), s, p)
        ;[s, p] = [r.state, applyUpdates(p, r.updates)]
      }
      const leaves = s.leaves as Record<string, { inner: { count: Tensor } }>
      return [leaves.w0.inner.count.item(), leaves.b.inner.count.item()]
    }
    expect(innerCount(opt, 5)).toEqual([2, 5]) // refreshed before step 4: steps 4 and 5 counted; b is never reset
    const keep = frugal({ learningRate: 0.01, density: 1, updateGap: 3, projector: 'blocks', resetOnRefresh: false })
    expect(innerCount(keep, 5)).toEqual([5, 5])
  })

  it('under jit: a jitted update after an eager refresh equals the eager update', () => {
    const o = frugal({ learningRate: 0.01, weightDecay: 0.1, density: 0.5, updateGap: 2, projector: 'randk' })
    const step = jit((g: Params, s: ReturnType<typeof o.init>, p: Params) => o.update(g, s, p))
    let p = params0()
    let eager = o.init(p)
    let jitted = eager
    let pj = p
    for (let t = 0; t < 5; t++) {
      const g = gradsAt(t, p)
      const a = o.update(g, eager, p)
      const fresh = o.refresh(g, jitted, pj) ?? jitted // host-side, outside jit
      const b = step(g, fresh, pj)
      expectClose([data(b.updates)], [data(a.updates)], 1e-6)
      ;[eager, p, jitted, pj] = [a.state, applyUpdates(p, a.updates), b.state, applyUpdates(pj, b.updates)]
    }
    expect(step.traceCount).toBeGreaterThanOrEqual(1)
    expect(() => jit((g: Params, s: ReturnType<typeof o.init>) => o.refresh(g, s))(gradsAt(0, p), eager)).toThrow(/cannot run on traced state/)
  })
})

describe('convergence and purity', () => {
  /** f(W) = ½ Σ tr((W − C)ᵀ H (W − C)) with H = QᵀQ/m + I/2, a random convex quadratic per leaf. */
  const quadratic = (seed: number, shapes: Record<string, number[]>) => {
    const parts = Object.fromEntries(
      Object.entries(shapes).map(([k, s], i) => {
        const q = gauss(seed + 10 * i, [s[0], s[0]])
        const h = add(mul(matmul(matrixTranspose(q), q), 1 / s[0]), mul(eye(s[0]), 0.5))
        return [k, { h, c: gauss(seed + 10 * i + 1, s) }]
      }),
    )
    const loss = (p: Record<string, Tensor>) =>
      Object.entries(parts).reduce((acc, [k, { h, c }]) => {
        const d = sub(p[k], c)
        return acc + 0.5 * sum(mul(d, matmul(h, d))).item()
      }, 0)
    const grad = (p: Record<string, Tensor>) => Object.fromEntries(Object.entries(parts).map(([k, { h, c }]) => [k, matmul(h, sub(p[k], c))]))
    return { loss, grad }
  }

  it('FRUGAL (blocks, randk, svd) drives random convex quadratics to their minimum', () => {
    fc.assert(
      fc.property(fc.nat(1000), fc.constantFrom('blocks', 'randk', 'svd', 'columns') as fc.Arbitrary<'blocks'>, (seed, projector) => {
        const shapes = { w0: [6, 4], w1: [4, 6], w2: [5, 5] }
        const { loss, grad } = quadratic(seed, shapes)
        const opt = frugal({ learningRate: linearSchedule({ init: 0.1, end: 0.001, transitionSteps: 300 }), density: 0.5, updateGap: 10, projector, seed })
        let p: Record<string, Tensor> = Object.fromEntries(Object.entries(shapes).map(([k, s]) => [k, zeros(s)]))
        let s = opt.init(p)
        const start = loss(p)
        for (let t = 0; t < 300; t++) {
          const r = opt.update(grad(p), s, p)
          ;[s, p] = [r.state, applyUpdates(p, r.updates) as Record<string, Tensor>]
        }
        expect(loss(p)).toBeLessThan(0.01 * start)
      }),
      checkParams({ numRuns: 4 }),
    )
  })

  it('is pure: frozen inputs, the same outputs on every call, inputs untouched', () => {
    const opt = frugal({ learningRate: 0.01, weightDecay: 0.1, density: 0.5, updateGap: 2, projector: 'rows' })
    const p = deepFreeze(params0())
    const s0 = deepFreeze(opt.init(p))
    const g = deepFreeze(gradsAt(0, p))
    const before = [data(p), data(s0), data(g)]
    const a = opt.update(g, s0, p)
    const b = opt.update(g, s0, p)
    expect(data(a.updates)).toEqual(data(b.updates))
    expect(data(a.state)).toEqual(data(b.state))
    expect([data(p), data(s0), data(g)]).toEqual(before)
    expect(s0.count.item()).toBe(0)
  })
})

describe('configuration', () => {
  it('rejects bad options with a FrugalError naming the field', () => {
    const bad = (o: object, re: RegExp) => {
      expect(() => frugal({ learningRate: 0.01, ...o })).toThrow(FrugalError)
      expect(() => frugal({ learningRate: 0.01, ...o })).toThrow(re)
    }
    bad({ density: 1.5 }, /^density must be in \[0, 1\], got 1.5 \(at frugal.density\)$/)
    bad({ density: -0.1 }, /density must be in \[0, 1\], got -0.1 \(at frugal.density\)/)
    bad({ updateGap: 0 }, /^updateGap must be a positive integer, got 0 \(at frugal.updateGap\)$/)
    bad({ updateGap: 2.5 }, /updateGap must be a positive integer, got 2.5 \(at frugal.updateGap\)/)
    bad({ updateGap: -3 }, /updateGap must be a positive integer, got -3/)
    bad({ projector: 'diag' }, /projector must be .* \(at frugal.projector\)/)
    bad({ stateFree: 'adam' }, /stateFree must be .* \(at frugal.stateFree\)/)
    bad({ b1: 1.5 }, /b1 must be in \[0, 1\), got 1.5 \(at frugal.b1\)/)
    expect(() => galore({ learningRate: 0.01, density: 2 })).toThrow(/\(at galore.density\)/)
    expect(() => frugal({ learningRate: 0 })).toThrow(/learningRate must be positive, got 0 \(at frugal.learningRate\)/)
    const sched = frugal({ learningRate: 0.01, density: linearSchedule({ init: 1, end: 2, transitionSteps: 2 }), updateGap: 1 })
    const p = params0()
    let s = sched.init(p)
    s = sched.update(gradsAt(0, p), s, p).state
    expect(() => sched.update(gradsAt(1, p), s, p)).toThrow(/density must be in \[0, 1\], got 1.5 from the schedule at step 1 \(at frugal.density\)/)
    expect(() => frugal({ learningRate: 0.01, weightDecay: 0.1 }).update(gradsAt(0, p), s)).toThrow(/params are required/)
  })

  it('projects 2-D attention/MLP weights by default, never embeddings, norms, biases or the head', () => {
    const tree = { embed: zeros([16, 4]), layers: [{ wq: zeros([4, 4]), w1: zeros([4, 8]), norm: zeros([4]), bias: zeros([4]) }], lm_head: zeros([4, 16]), output: zeros([4, 16]) }
    const projected = Tree.leavesWithPath(tree as Params).filter(([p, x]) => defaultProjectable(p, x as Tensor)).map(([p]) => Tree.pathString(p))
    expect(projected).toEqual(['layers.0.w1', 'layers.0.wq'])
    const s = frugal({ learningRate: 0.01, projectable: ['layers.0.wq', /norm/] }).init(tree as Params)
    const isProj = (path: string) => 'projector' in (Tree.leaves(s.leaves as never, (x) => x !== null && typeof x === 'object' && 'inner' in (x as object))[Tree.paths(tree as Params).map(Tree.pathString).indexOf(path)] as object)
    expect([isProj('layers.0.wq'), isProj('layers.0.norm'), isProj('layers.0.w1'), isProj('embed')]).toEqual([true, true, false, false])
  })

  it('keeps stateful state for the chosen coordinates only; GaLore keeps its moments across refreshes', () => {
    const p = params0()
    const s = frugal({ learningRate: 0.01, projector: 'randk', density: 0.25 }).init(p)
    const w0 = (s.leaves as Record<string, { inner: { mu: Tensor } }>).w0
    expect(w0.inner.mu.shape).toEqual([6]) // ⌊0.25·24⌋
    const g = galore({ learningRate: 0.01, density: 0.5, updateGap: 2 })
    let gs = g.init(p)
    for (let t = 0; t < 3; t++) gs = g.update(gradsAt(t, p), gs, p).state
    expect((gs.leaves as Record<string, { inner: { count: Tensor; mu: Tensor } }>).w0.inner.count.item()).toBe(3)
    expect((gs.leaves as Record<string, { inner: { mu: Tensor } }>).w0.inner.mu.shape).toEqual([6, 2])
  })

  it('takes any stateful transformation and projector (Lion-free SGD momentum on row subspaces)', () => {
    const opt = frugalSplit({ learningRate: 0.1, stateful: scaleByAdam({ b1: 0 }), projector: coordinates({ mode: 'rows' }), stateFree: 'sgd', density: 0.5 })
    const p = { w: tensor([[1, 2], [3, 4]]) }
    const r = opt.update({ w: tensor([[1, 1], [1, 1]]) }, opt.init(p), p)
    // one row gets Adam's ±1 (b1 = 0, first step), the other SGD's 1: every entry moves by −0.1
    data(r.updates)[0].forEach((u) => expect(u).toBeCloseTo(-0.1, 5))
    expect(() => frugalSplit({ learningRate: 0.1, stateful: scaleByAdam(), projector: blocks(), density: 0.5, updateGap: 1.5 })).toThrow(/updateGap/)
  })

  it('a loss-aware gap refreshes soon when the loss stalls and late when it falls; recordLoss is pure', () => {
    const run = (losses: (t: number) => number) => {
      const opt = frugal({ learningRate: 0.01, updateGap: lossAwareGap({ base: 4, min: 2, max: 8, window: 3, tolerance: 0.1 }) })
      let p = params0()
      let s = opt.init(p)
      const refreshedAt: number[] = []
      for (let t = 0; t < 20; t++) {
        const g = gradsAt(t, p)
        if (opt.refresh(g, s, p)) refreshedAt.push(t + 1)
        const r = opt.update(g, s, p)
        const before = data(r.state.losses)
        s = recordLoss(r.state, losses(t))
        expect(data(r.state.losses)).toEqual(before)
        p = applyUpdates(p, r.updates)
      }
      return refreshedAt
    }
    expect(run(() => 1)).toEqual([1, 5, 7, 9, 11, 13, 15, 17, 19])
    expect(run((t) => 2 ** -t)).toEqual([1, 5, 13])
    expect(() => recordLoss(frugal({ learningRate: 0.01 }).init(params0()), 1)).toThrow(/lossAwareGap/)
  })

  it('a linear density schedule shrinks the subspace at later refreshes', () => {
    const opt = frugal({ learningRate: 0.01, projector: 'randk', density: linearDensity({ init: 0.5, end: 0.25, transitionSteps: 4 }), updateGap: 4 })
    let p = params0()
    let s = opt.init(p)
    const sizes: number[] = []
    for (let t = 0; t < 5; t++) {
      const r = opt.update(gradsAt(t, p), s, p)
      ;[s, p] = [r.state, applyUpdates(p, r.updates)]
      sizes.push((s.leaves as Record<string, { inner: { mu: Tensor } }>).w0.inner.mu.size)
    }
    expect(sizes).toEqual([12, 12, 12, 12, 6])
  })
})

const deepFreeze = <T>(x: T): T => {
  if (x !== null && typeof x === 'object' && (Array.isArray(x) || Object.getPrototypeOf(x) === Object.prototype))
    Object.values(x as object).forEach(deepFreeze), Object.freeze(x)
  return x
}
