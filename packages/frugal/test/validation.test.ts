import { describe, expect, it } from 'vitest'
import type { Tensor } from '@frugal-ts/core'
import { Key, Tree, ones, scalar, tensor, zeros } from '@frugal-ts/core'
import { assertAllClose } from '@frugal-ts/core/testing'
import { jit } from '@frugal-ts/autodiff'
import type { GradientTransformation, Params } from '../src/GradientTransformation'
import { applyUpdates } from '../src/GradientTransformation'
import { FrugalError } from '../src/FrugalError'
import { adam, adamw, lion, momentum, sgd, signSgd, signum } from '../src/aliases'
import { chain } from '../src/combinators/chain'
import { injectHyperparams, setHyperparam } from '../src/combinators/injectHyperparams'
import { badam, frugal, galore } from '../src/frugal/presets'
import { frugalSplit } from '../src/frugal/split'
import { linearDensity, lossAwareGap } from '../src/frugal/schedules'
import { blocks } from '../src/projectors/blocks'
import { coordinates } from '../src/projectors/coordinates'
import { svdProjector } from '../src/projectors/svd'
import { cosineDecaySchedule, exponentialDecay, linearSchedule, piecewiseConstantSchedule, warmupCosineDecaySchedule } from '../src/schedules'
import { clipByGlobalNorm } from '../src/transforms/basic'
import { scaleByAdam } from '../src/transforms/adam'
import { scaleByLion } from '../src/transforms/lion'
import { trace } from '../src/transforms/trace'
import { editDistance, nearest } from '../src/internal/options'
import { signatureKey } from '../src/internal/treeChecks'

const gauss = (seed: number, shape: number[]) => Key.normal(Key.key(seed), shape)
const frugalError = (f: () => unknown, message: string | RegExp) => {
  let caught: unknown
  try {
    f()
  } catch (e) {
    caught = e
  }
  expect(caught, 'expected a FrugalError').toBeInstanceOf(FrugalError)
  if (typeof message === 'string') expect((caught as Error).message).toBe(message)
  else expect((caught as Error).message).toMatch(message)
}

// the model every check runs on: two projectable 2-D weights, a norm and a head
const params = (): Params => ({ layers: [{ wq: gauss(1, [8, 6]), w1: gauss(2, [6, 8]) }], norm: gauss(3, [6]), head: gauss(4, [6, 5]) })
const gradsAt = (t: number, p: Params): Params => Tree.map(p, (x: Tensor, path) => gauss(100 * t + Tree.pathString(path).length, [...x.shape]))

describe('item 1: gradients must fit their parameters exactly', () => {
  const optimizers: [string, () => GradientTransformation<any>][] = [
    ['adam', () => adam(1e-3)],
    ['adamw', () => adamw(1e-3)],
    ['frugal', () => frugal({ learningRate: 1e-3 })],
    ['galore', () => galore({ learningRate: 1e-3 })],
    ['badam', () => badam({ learningRate: 1e-3 })],
  ]
  // broadcastable to [4] or [4, 2]: each of these used to pass and change the parameter's shape
  const bad: [string, number[], Tensor][] = [
    ['b', [4], ones([4, 4])],
    ['w', [4, 2], ones([1, 2])],
    ['w', [4, 2], scalar(1)],
    ['w', [4, 2], ones([2])],
  ]

  for (const [name, make] of optimizers)
    for (const [leaf, shape, g] of bad)
      it(`${name}.update refuses a ${JSON.stringify(g.shape)} gradient for a ${JSON.stringify(shape)} parameter, naming the leaf`, () => {
        const p: Params = { [leaf]: zeros(shape), other: zeros([3]) }
        const opt = make()
        const s = opt.init(p)
        const want = `${name}.update: the gradient at ${leaf} is float32[${g.shape.join(', ')}], the parameter is float32[${shape.join(', ')}]; expected exactly the parameter's shape and dtype (no broadcasting) (at ${name}.update ${leaf})`
        frugalError(() => opt.update({ [leaf]: g, other: zeros([3]) }, s, p), want)
        // without params, the stateful blocks check against their own moments
        if (name === 'adam' || name === 'adamw')
          frugalError(() => opt.update({ [leaf]: g, other: zeros([3]) }, s), /the gradient at b|the gradient at w/)
      })

  it('adam.update without params: the moments name the leaf', () => {
    const p = { b: zeros([4]) }
    frugalError(
      () => adam(1e-3).update({ b: ones([4, 4]) }, adam(1e-3).init(p)),
      "adam.update: the gradient at b is float32[4, 4], the parameter is float32[4]; expected exactly the parameter's shape and dtype (no broadcasting) (at adam.update b)",
    )
  })

  it('applyUpdates refuses updates of another shape, dtype or structure', () => {
    frugalError(
      () => applyUpdates({ b: zeros([4]) }, { b: ones([4, 4]) }),
      "applyUpdates: the gradient at b is float32[4, 4], the parameter is float32[4]; expected exactly the parameter's shape and dtype (no broadcasting) (at applyUpdates b)",
    )
    frugalError(() => applyUpdates({ w: zeros([4, 2]) }, { w: ones([1, 2]) }), /at w is float32\[1, 2\], the parameter is float32\[4, 2\]/)
    frugalError(() => applyUpdates({ w: zeros([2]) }, { w: tensor([1, 2], 'int32') }), /at w is int32\[2\], the parameter is float32\[2\]/)
    frugalError(
      () => applyUpdates({ a: zeros([2]), b: zeros([2]) }, { a: zeros([2]) }),
      "applyUpdates: the gradient at <root> is an object with keys [a], the parameter is an object with keys [a, b]; expected exactly the parameter's tree structure (at applyUpdates <root>)",
    )
  })

  it('chains, lion, sgd with momentum and signum check too; a good step still works', () => {
    for (const [name, opt] of [
      ['chain', chain(clipByGlobalNorm(1), adam(1e-3))],
      ['lion', lion(1e-4)],
      ['momentum', momentum(0.1)],
      ['sgd', sgd(0.1, { momentum: 0.9 })],
      ['signum', signum(0.1)],
      ['signSgd', signSgd(0.1)],
    ] as [string, GradientTransformation<unknown>][]) {
      const p = { w: zeros([4, 2]) }
      const s = opt.init(p)
      expect(() => opt.update({ w: ones([1, 2]) }, s, p), name).toThrow(/the gradient at w is float32\[1, 2\], the parameter is float32\[4, 2\]/)
      const r = opt.update({ w: ones([4, 2]) }, s, p)
      expect(applyUpdates(p, r.updates).w.shape).toEqual([4, 2])
    }
    for (const [name, t] of [['scaleByAdam', scaleByAdam()], ['scaleByLion', scaleByLion()], ['trace', trace({ decay: 0.9 })]] as const) {
      const p = { w: zeros([4]) }
      expect(() => t.update({ w: ones([4, 4]) }, t.init(p) as never), name).toThrow(new RegExp(`^${name}\\.update: the gradient at w is float32\\[4, 4\\]`))
    }
  })

  it('the check runs at trace time only under jit (same signature: no retrace, no error; a new shape: a new trace that refuses it)', () => {
    const opt = adam(1e-3)
    const p = { w: zeros([4]) }
    const step = jit((g: Params, s: ReturnType<typeof opt.init>, q: Params) => opt.update(g, s, q))
    let s = opt.init(p)
    for (let i = 0; i < 3; i++) s = step({ w: ones([4]) }, s, p).state
    expect(step.traceCount).toBe(1)
    expect(() => step({ w: ones([4, 4]) }, s, p)).toThrow(/adam\.update: the gradient at w is float32\[4, 4\], the parameter is float32\[4\]/)
  })

  it('the signature key is cached per tree object and tells shapes, dtypes and structure apart', () => {
    const t = { w: zeros([4, 2]), b: [zeros([3])] }
    expect(signatureKey(t)).toBe('{"b":[float32[3]];"w":float32[4,2]}')
    expect(signatureKey(t)).toBe(signatureKey({ b: [zeros([3])], w: ones([4, 2]) }))
    expect(signatureKey({ w: zeros([2, 4]), b: [zeros([3])] })).not.toBe(signatureKey(t))
    expect(signatureKey({ w: zeros([4, 2], 'int32'), b: [zeros([3])] })).not.toBe(signatureKey(t))
    expect(signatureKey({ w: zeros([4, 2]), b: zeros([3]) })).not.toBe(signatureKey(t))
  })
})

describe('item 2: tensor-valued and injected learning rates are checked where they enter', () => {
  it('adam(scalar(NaN)), adam(scalar(-1)), a vector and an int32 tensor are refused', () => {
    frugalError(() => adam(scalar(NaN)), 'learningRate must be positive, got NaN (a scalar tensor) (at adam.learningRate)')
    frugalError(() => adam(scalar(-1)), 'learningRate must be positive, got -1 (a scalar tensor) (at adam.learningRate)')
    frugalError(() => adam(tensor([1e-3, 1e-3])), 'learningRate must be a number or a scalar tensor, got a tensor of shape [2] (at adam.learningRate)')
    frugalError(() => adam(scalar(1, 'int32')), 'learningRate must be a float32 scalar, got an int32 tensor (at adam.learningRate)')
    frugalError(() => frugal({ learningRate: scalar(-1) }), 'learningRate must be positive, got -1 (a scalar tensor) (at frugal.learningRate)')
    frugalError(() => adam(1e-3, { b1: scalar(1.5) }), 'b1 must be in [0, 1), got 1.5 (a scalar tensor) (at adam.b1)')
    expect(() => adam(scalar(1e-3))).not.toThrow()
  })

  it('setHyperparam checks the value by the optimizer own rules and leaves the state as it was', () => {
    const opt = injectHyperparams(adam)({ learningRate: 1e-3 })
    const s = opt.init({ w: zeros([2]) })
    frugalError(() => setHyperparam(s, 'learningRate', -1), 'learningRate must be positive, got -1 (a scalar tensor) (at adam.learningRate)')
    frugalError(() => setHyperparam(s, 'learningRate', NaN), 'learningRate must be a finite number, got NaN (at setHyperparam.value)')
    frugalError(() => setHyperparam(s, 'learningRate', scalar(0)), 'learningRate must be positive, got 0 (a scalar tensor) (at adam.learningRate)')
    frugalError(() => setHyperparam(s, 'learningRate', tensor([1, 2])), 'value must be a scalar, got a tensor of shape [2] (at setHyperparam.value)')
    expect(s.hyperparams.learningRate.item()).toBeCloseTo(1e-3, 9)
    // a state after steps is still checked
    const s2 = opt.update({ w: ones([2]) }, s, { w: zeros([2]) }).state
    frugalError(() => setHyperparam(s2, 'learningRate', -1), /got -1 \(a scalar tensor\) \(at adam\.learningRate\)/)
    // the FRUGAL presets check theirs
    const f = injectHyperparams(frugal)({ learningRate: 1e-3, weightDecay: 0.1 })
    const fs = f.init(params())
    frugalError(() => setHyperparam(fs, 'weightDecay', -0.5), 'weightDecay must be non-negative, got -0.5 (a scalar tensor) (at frugal.weightDecay)')
  })
})

describe('item 3: injectHyperparams over every preset', () => {
  for (const [name, preset] of [['frugal', frugal], ['galore', galore], ['badam', badam]] as const)
    it(`injectHyperparams(${name}) injects the float hyperparameters and keeps density, updateGap, seed, projector static`, () => {
      const opt = injectHyperparams(preset)({ learningRate: 1e-2, density: 0.5, updateGap: 3, weightDecay: 0.1, seed: 3, b1: 0.8 })
      const direct = preset({ learningRate: 1e-2, density: 0.5, updateGap: 3, weightDecay: 0.1, seed: 3, b1: 0.8 })
      let [p, q] = [params(), params()]
      let [s, t] = [opt.init(p), direct.init(q)]
      expect(Object.keys(s.hyperparams).sort()).toEqual(['b1', 'learningRate', 'weightDecay'])
      for (let k = 0; k < 7; k++) {
        const a = opt.update(gradsAt(k, p), s, p)
        const b = direct.update(gradsAt(k, q), t, q)
        ;[p, s, q, t] = [applyUpdates(p, a.updates), a.state, applyUpdates(q, b.updates), b.state]
      }
      for (const [x, y] of Tree.zip(p, q)) assertAllClose(x as Tensor, y as Tensor, { rtol: 1e-6, atol: 1e-7 })
      // refresh is forwarded: a refresh is due at step 9 (gap 3)
      expect(opt.refresh).toBeTypeOf('function')
    })

  it("FRUGAL's learning rate changed mid-run (setHyperparam) follows the run built with the equivalent schedule", () => {
    const inject = injectHyperparams(frugal)({ learningRate: 1e-2, density: 0.5, updateGap: 3 })
    // 1e-2 for steps 0..4, then 1e-3 (step-count boundaries, as the schedule sees them)
    const scheduled = frugal({ learningRate: piecewiseConstantSchedule(1e-2, { 5: 0.1 }), density: 0.5, updateGap: 3 })
    let [p, q] = [params(), params()]
    let [s, t] = [inject.init(p), scheduled.init(q)]
    const traj: [number[], number[]] = [[], []]
    for (let k = 0; k < 10; k++) {
      if (k === 5) s = setHyperparam(s, 'learningRate', 1e-3)
      const g = gradsAt(k, p)
      // eager refresh, then the jittable update, as trainStep does
      s = inject.refresh!(g, s, p) ?? s
      const a = inject.update(g, s, p)
      const b = scheduled.update(gradsAt(k, q), t, q)
      ;[p, s, q, t] = [applyUpdates(p, a.updates), a.state, applyUpdates(q, b.updates), b.state]
      traj[0].push(...(p as any).layers[0].wq.dataSync().slice(0, 4), ...(p as any).head.dataSync().slice(0, 4))
      traj[1].push(...(q as any).layers[0].wq.dataSync().slice(0, 4), ...(q as any).head.dataSync().slice(0, 4))
    }
    assertAllClose(traj[0], traj[1], { rtol: 1e-5, atol: 1e-7 })
    // and the change mattered: the same run at a constant 1e-2 goes elsewhere
    const constant = frugal({ learningRate: 1e-2, density: 0.5, updateGap: 3 })
    let [r, u] = [params(), constant.init(params())]
    for (let k = 0; k < 10; k++) {
      const c = constant.update(gradsAt(k, r), u, r)
      ;[r, u] = [applyUpdates(r, c.updates), c.state]
    }
    expect(Math.abs((r as any).head.dataSync()[0] - (p as any).head.dataSync()[0])).toBeGreaterThan(1e-3)
  })

  it('the issue cases: the former staticArgs TypeError and the mask of adamw without staticArgs', () => {
    // staticArgs naming updateGap: density stays static automatically now
    const opt = injectHyperparams(frugal, { staticArgs: ['updateGap'] })({ learningRate: 1e-3, density: 0.25, updateGap: 20 })
    const p = params()
    expect(() => opt.update(gradsAt(0, p), opt.init(p), p)).not.toThrow()
    // a mask function is not a schedule: it stays static without staticArgs
    const w = injectHyperparams(adamw)({ learningRate: 1, weightDecay: 0.5, mask: (_path, x) => x.rank === 2 })
    const q = { m: ones([2, 2]), v: ones([2]) }
    const zero = { m: zeros([2, 2]), v: zeros([2]) }
    const u = w.update(zero, w.init(q), q).updates as any
    expect(Array.from(u.m.dataSync())).toEqual([-0.5, -0.5, -0.5, -0.5])
    expect(Array.from(u.v.dataSync(), Math.abs)).toEqual([0, 0])
    frugalError(
      () => injectHyperparams(frugal, { staticArgs: ['gap' as never] })({ learningRate: 1e-3 }),
      "staticArgs names 'gap', which the hyperparameters do not have; expected one of [learningRate] (at injectHyperparams.staticArgs)",
    )
  })
})

describe('item 5: FrugalErrors instead of raw TypeErrors', () => {
  it('frugal().update with an adam state', () => {
    const p = { w: zeros([4, 4]) }
    frugalError(() => frugal({ learningRate: 1e-3 }).update(p, adam(1e-3).init(p) as never, p), /^expected the state of frugal \(/)
  })

  it('the state of another optimizer, for every kind of state', () => {
    const p = { w: zeros([4, 4]) }
    const g = { w: ones([4, 4]) }
    const frugalState = frugal({ learningRate: 1e-3 }).init(p)
    frugalError(
      () => adam(1e-3).update(g, frugalState as never, p),
      "expected the state of adam (an array of 2 states, one per transformation in the chain), got an object with keys [count, key, leaves, losses, nextRefresh, refreshes] (at adam.update); was it made by this optimizer's init?",
    )
    frugalError(() => adamw(1e-3).update(g, adam(1e-3).init(p) as never, p), /^expected the state of adamw \(an array of 3 states, one per transformation in the chain\), got an array of length 2/)
    frugalError(() => chain(clipByGlobalNorm(1), adam(1e-3)).update(g, frugalState as never, p), /^expected the state of chain \(an array of 2 states/)
    frugalError(() => scaleByAdam().update(g, {} as never), "expected the state of scaleByAdam ({count, mu, nu}), got an object with keys [] (at scaleByAdam.update); was it made by this optimizer's init?")
    frugalError(() => scaleByLion().update(g, trace({ decay: 0.9 }).init(p) as never), /^expected the state of scaleByLion \({count, mu}\), got an object with keys \[trace\]/)
    frugalError(() => trace({ decay: 0.9 }).update(g, null as never), "expected the state of trace ({trace}), got null (at trace.update); was it made by this optimizer's init?")
    frugalError(() => galore({ learningRate: 1e-3 }).update(g, adam(1e-3).init(p) as never, p), /^expected the state of galore \(/)
  })

  it('setHyperparam on a state not made by injectHyperparams', () => {
    frugalError(
      () => setHyperparam(adam(1e-3).init({ w: zeros([2]) }) as never, 'learningRate', 1),
      "expected the state of an injectHyperparams optimizer ({count, hyperparams, inner}), got an array of length 2 (at setHyperparam.state); was it made by this optimizer's init?",
    )
  })

  it('an injectHyperparams state used with another optimizer', () => {
    const other = injectHyperparams(adam)({ learningRate: 1e-3 })
    frugalError(() => other.update({ w: ones([2]) }, adam(1e-3).init({ w: zeros([2]) }) as never), /^expected the state of an injectHyperparams optimizer/)
  })

  it('linearDensity() and other factories without their options object', () => {
    frugalError(() => (linearDensity as any)(), 'options must be an object with keys from [init, end, transitionSteps, transitionBegin], got undefined (at linearDensity)')
    frugalError(() => (frugal as any)(), 'options must be an object with a learningRate, got undefined (at frugal)')
    frugalError(() => (linearSchedule as any)(null), /got null \(at linearSchedule\)/)
  })
})

describe('item 6: what used to pass silently', () => {
  it('frugal({ projector: null }) is refused', () => {
    frugalError(
      () => frugal({ learningRate: 1e-3, projector: null as never }),
      "projector must be 'blocks', 'svd', 'randk', 'rows', 'columns' or a Projector, got null (at frugal.projector)",
    )
  })

  it('int32 parameters are refused at init, naming the optimizer and the leaf', () => {
    frugalError(
      () => adam(1e-3).init({ w: tensor([1, 2], 'int32') }),
      'adam.init: the parameter at w is int32[2]; optimizers update float32 parameters only, cast it or leave it out of the tree (at adam.init w)',
    )
    frugalError(() => frugal({ learningRate: 1e-3 }).init({ layers: [{ step: tensor([1], 'int32') }] }), /^frugal\.init: the parameter at layers\.0\.step is int32\[1\]/)
  })

  it('biasCorrection reaches the presets (it was silently dropped)', () => {
    const p = { head: ones([3]) }
    const g = { head: tensor([1, 2, 3]) }
    const on = frugal({ learningRate: 1 }).update(g, frugal({ learningRate: 1 }).init(p), p).updates as any
    const off = frugal({ learningRate: 1, biasCorrection: false }).update(g, frugal({ learningRate: 1 }).init(p), p).updates as any
    // step 1: m̂/√v̂ = g/|g| = 1 with correction; (0.1g)/(√(0.001)|g|) without
    assertAllClose(on.head, [-1, -1, -1], { rtol: 1e-5, atol: 1e-6 })
    assertAllClose(off.head, [-0.1 / Math.sqrt(0.001), -0.1 / Math.sqrt(0.001), -0.1 / Math.sqrt(0.001)], { rtol: 1e-4, atol: 1e-6 })
  })
})

describe('unknown option keys, with the nearest known one', () => {
  it('the edit distance and the suggestion', () => {
    expect(editDistance('densty', 'density')).toBe(1)
    expect(editDistance('kitten', 'sitting')).toBe(3)
    expect(editDistance('', 'abc')).toBe(3)
    expect(nearest('densty', ['learningRate', 'density', 'seed'])).toBe('density')
    expect(nearest('LearningRate', ['learningRate'])).toBe('learningRate')
    expect(nearest('zzzzzz', ['learningRate', 'density'])).toBe(null)
    expect(nearest('static', ['staticArgs'])).toBe('staticArgs')
  })

  const cases: [string, () => unknown, string][] = [
    ['frugal', () => frugal({ learningRate: 1e-3, densty: 0.3 } as never), "unknown option 'densty' (at frugal.densty); did you mean 'density'?"],
    ['galore', () => galore({ learningRate: 1e-3, updateGAp: 3 } as never), "unknown option 'updateGAp' (at galore.updateGAp); did you mean 'updateGap'?"],
    ['badam', () => badam({ learningRate: 1e-3, blockorder: 'ascending' } as never), "unknown option 'blockorder' (at badam.blockorder); did you mean 'blockOrder'?"],
    ['frugalSplit', () => frugalSplit({ learningRate: 1e-3, stateful: scaleByAdam(), projector: blocks(), denisty: 1 } as never), "unknown option 'denisty' (at frugal.denisty); did you mean 'density'?"],
    ['adam', () => adam(1e-3, { beta1: 0.9 } as never), "unknown option 'beta1' (at adam.beta1); expected one of [learningRate, b1, b2, eps, epsRoot]"],
    ['adam (two learning rates)', () => adam(1e-3, { learningRate: 1e-2 } as never), 'learningRate is given twice, as 0.001 and in the options as 0.01 (at adam.learningRate)'],
    ['adam (one object)', () => adam({ learningRate: 1e-3, learningrate: 1 } as never), "unknown option 'learningrate' (at adam.learningrate); did you mean 'learningRate'?"],
    ['adamw', () => adamw(1e-3, { weightdecay: 0.1 } as never), "unknown option 'weightdecay' (at adamw.weightdecay); did you mean 'weightDecay'?"],
    ['lion', () => lion(1e-4, { b3: 0.9 } as never), "unknown option 'b3' (at lion.b3); did you mean 'b1'?"],
    ['sgd', () => sgd(0.1, { momentun: 0.9 } as never), "unknown option 'momentun' (at sgd.momentun); did you mean 'momentum'?"],
    ['momentum', () => momentum(0.1, 0.9, { nesterv: true } as never), "unknown option 'nesterv' (at momentum.nesterv); did you mean 'nesterov'?"],
    ['signSgd', () => signSgd({ learningRate: 0.1, momentum: 0.9 } as never), "unknown option 'momentum' (at signSgd.momentum); expected one of [learningRate]"],
    ['signum', () => signum(0.1, { momentumm: 0.9 } as never), "unknown option 'momentumm' (at signum.momentumm); did you mean 'momentum'?"],
    ['scaleByAdam', () => scaleByAdam({ epsilon: 1e-8 } as never), "unknown option 'epsilon' (at scaleByAdam.epsilon); expected one of [b1, b2, eps, epsRoot, biasCorrection]"],
    ['scaleByLion', () => scaleByLion({ b_1: 0.9 } as never), "unknown option 'b_1' (at scaleByLion.b_1); did you mean 'b1'?"],
    ['trace', () => trace({ decay: 0.9, nesterow: true } as never), "unknown option 'nesterow' (at trace.nesterow); did you mean 'nesterov'?"],
    ['blocks', () => blocks({ ordr: 'random' } as never), "unknown option 'ordr' (at blocks.ordr); did you mean 'order'?"],
    ['coordinates', () => coordinates({ mod: 'rows' } as never), "unknown option 'mod' (at coordinates.mod); did you mean 'mode'?"],
    ['svdProjector', () => svdProjector({ sid: 'left' } as never), "unknown option 'sid' (at svdProjector.sid); did you mean 'side'?"],
    ['linearSchedule', () => linearSchedule({ init: 1, end: 0, transitionStep: 10 } as never), "unknown option 'transitionStep' (at linearSchedule.transitionStep); did you mean 'transitionSteps'?"],
    ['cosineDecaySchedule', () => cosineDecaySchedule({ init: 1, decaySteps: 10, alfa: 0 } as never), "unknown option 'alfa' (at cosineDecaySchedule.alfa); did you mean 'alpha'?"],
    ['warmupCosineDecaySchedule', () => warmupCosineDecaySchedule({ init: 0, peak: 1, warmupSteps: 1, decaySteps: 10, warmup: 2 } as never), "unknown option 'warmup' (at warmupCosineDecaySchedule.warmup); did you mean 'warmupSteps'?"],
    ['exponentialDecay', () => exponentialDecay({ init: 1, transitionSteps: 1, decayRate: 0.5, staircse: true } as never), "unknown option 'staircse' (at exponentialDecay.staircse); did you mean 'staircase'?"],
    ['linearDensity', () => linearDensity({ init: 0.5, end: 0.1, transitionSteps: 10, begin: 1 } as never), "unknown option 'begin' (at linearDensity.begin); expected one of [init, end, transitionSteps, transitionBegin]"],
    ['lossAwareGap', () => lossAwareGap({ windw: 4 } as never), "unknown option 'windw' (at lossAwareGap.windw); did you mean 'window'?"],
    ['injectHyperparams', () => injectHyperparams(adam, { static: ['mask'] } as never), "unknown option 'static' (at injectHyperparams.static); did you mean 'staticArgs'?"],
  ]
  for (const [name, f, message] of cases) it(name, () => frugalError(f, message))

  it('an option spelled out as undefined is not unknown', () => {
    expect(() => frugal({ learningRate: 1e-3, density: undefined })).not.toThrow()
  })
})
