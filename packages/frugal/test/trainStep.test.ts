import { afterEach, describe, expect, it, vi } from 'vitest'
import type { Tensor } from '@frugal-ts/core'
import { Tree, currentBackend, dispose, keep, memory, scope, tensor, toBackend, withBackend } from '@frugal-ts/core'
import { jit, valueAndGrad } from '@frugal-ts/autodiff'
import type { GradientTransformation, Params } from '../src'
import {
  FrugalError, adam, applyIfFinite, applyUpdates, chain, clipByGlobalNorm, frugal, galore, injectHyperparams, masked,
  multiSteps, partition, scale, trainStep,
} from '../src'
import type { Mlp } from './support/longRun'
import { batches, initMlp, mlpLoss } from './support/longRun'

/**
 * trainStep against an independent reference: the same optimizer driven by
 * hand, eagerly, on the readable `cpu-js` interpreter (`update` refreshes by
 * itself when called eagerly), with gradients from eager `valueAndGrad` there.
 */
const T = 3
const STEPS = 12
// Both parts are kept continuous in round-off here: signSGD's sign of a gradient entry within round-off of 0 can flip
// between two float32 implementations (one lr apart), so its case below counts such flips instead; and Adam's
// g/(|g| + ε) at the first step after a reset turns the round-off of a near-zero entry into up to a few % of lr with
// ε = 1e-8 (seen: 6e-5 after a clip), so ε is 1e-4 here.
const blocksFrugal = () => frugal({ learningRate: 1e-2, updateGap: T, weightDecay: 0.1, stateFree: 'sgd', eps: 1e-4 })
const cases: Record<string, () => GradientTransformation<any>> = {
  adam: () => adam({ learningRate: 1e-2 }),
  'frugal blocks': blocksFrugal,
  'frugal randk': () => frugal({ learningRate: 1e-2, updateGap: T, projector: 'randk' }),
  // the svd basis of a gradient whose singular values lie close turns with round-off, so the svd case refreshes once
  // (the trajectories then agree); the random-basis variant refreshes every T steps
  'galore (svd)': () => galore({ learningRate: 1e-2, updateGap: STEPS }),
  'galore (random basis)': () => galore({ learningRate: 1e-2, updateGap: T, svdType: 'random' }),
  'chain(clipByGlobalNorm, frugal)': () => chain(clipByGlobalNorm(0.5), blocksFrugal()),
  'partition(frugal, adam)': () =>
    partition({ f: blocksFrugal(), a: adam({ learningRate: 1e-3 }) }, (path) => (path[0] === 'head' ? 'a' : 'f')),
  // masked leaves pass their gradient through: the second mask makes that an SGD step on the embedding
  'masked(frugal)': () =>
    chain(masked(blocksFrugal(), (path) => path[0] !== 'embed'), masked(scale(-1e-2), (path) => path[0] === 'embed')),
  'injectHyperparams(frugal)': () =>
    injectHyperparams((h: { learningRate: number }) => frugal({ learningRate: h.learningRate, updateGap: T }))({ learningRate: 1e-2 }),
  'multiSteps(frugal, 2)': () => multiSteps(blocksFrugal(), 2),
  // split mode (the fused program between refreshes): whether a refresh is due read through the combinators
  'chain(clipByGlobalNorm, frugal randk)': () => chain(clipByGlobalNorm(0.5), frugal({ learningRate: 1e-2, updateGap: T, projector: 'randk', eps: 1e-4 })),
  'multiSteps(frugal randk, 2)': () => multiSteps(frugal({ learningRate: 1e-2, updateGap: T, projector: 'randk', eps: 1e-4 }), 2),
  'applyIfFinite(frugal)': () => applyIfFinite(blocksFrugal()),
}

const reference = (make: () => GradientTransformation<any>): number[][] =>
  withBackend('cpu-js', () =>
    scope(() => {
      const opt = make()
      const data = batches().map(([x, y]) => [toBackend(x, 'cpu-js'), toBackend(y, 'cpu-js')])
      let params = Tree.map(initMlp() as never, (t: Tensor) => toBackend(t, 'cpu-js')) as unknown as Mlp
      let state = opt.init(params as never)
      for (let i = 0; i < STEPS; i++) {
        const [x, y] = data[i % data.length]
        const [, g] = valueAndGrad((p: Mlp) => mlpLoss(p, x, y))(params)
        const r = opt.update(g as Params, state, params as never)
        params = applyUpdates(params as never, r.updates) as never
        state = r.state
      }
      return Tree.leaves(params as never).map((t) => Array.from((t as Tensor).dataSync()))
    }),
  )

const trained = (make: () => GradientTransformation<any>) => {
  const opt = make()
  const step = trainStep(mlpLoss, opt)
  const data = batches()
  let params = initMlp()
  let state = keep(scope(() => opt.init(params as never)))
  for (let i = 0; i < STEPS; i++) ({ params, state } = step(params, state, ...data[i % data.length]))
  const out = Tree.leaves(params as never).map((t) => Array.from((t as Tensor).dataSync()))
  dispose([params, state, data])
  return { out, step }
}

describe('trainStep', () => {
  for (const [name, make] of Object.entries(cases)) {
    it(`${name}: ${STEPS} steps (refreshes every ${T}) equal the eager loop on cpu-js within float32 round-off`, () => {
      const want = reference(make)
      const { out, step } = trained(make)
      out.forEach((row, i) =>
        row.forEach((v, j) => expect(Math.abs(v - want[i][j]), `leaf ${i}[${j}]: ${v} vs ${want[i][j]}`).toBeLessThanOrEqual(1e-5 + 1e-4 * Math.abs(want[i][j]))),
      )
      if (name === 'adam') expect(step.mode).toBe('fused')
      else {
        // a refresh is reached through the combinator: on steps 1, 4, 7, 10 (every 2nd call inside multiSteps)
        expect(step.refreshes).toBe(name.startsWith('multiSteps') ? 2 : name === 'galore (svd)' ? 1 : STEPS / T)
        if (step.mode === 'split') expect(step.traceCount).toBe(3) // the fused step, and forward/backward + update for refresh steps
        expect(step.mode).toBe(name.includes('randk') || name.startsWith('galore') ? 'split' : 'pieces')
      }
    })
  }

  it('frugal blocks with signSGD: all but isolated sign flips of near-zero gradient entries equal the eager loop', () => {
    const make = () => frugal({ learningRate: 1e-2, updateGap: T, weightDecay: 0.1 })
    const want = reference(make).flat()
    const got = trained(make).out.flat()
    const off = got.map((v, i) => Math.abs(v - want[i])).filter((d, i) => d > 1e-5 + 1e-4 * Math.abs(want[i]))
    // a flip moves an entry by 2·lr once, and what follows from it stays within a few lr
    expect(off.length).toBeLessThanOrEqual(Math.ceil(got.length * 0.002))
    for (const d of off) expect(d).toBeLessThanOrEqual(4 * 1e-2)
  })

  it('consumes the params and state passed in, leaves the batch alone, and holds nothing else', () => {
    const opt = blocksFrugal()
    const step = trainStep(mlpLoss, opt)
    const [x, y] = batches()[0]
    const p0 = initMlp()
    const s0 = keep(scope(() => opt.init(p0 as never)))
    // the first steps compile (compiled programs keep their constants): count from the fourth on
    let r = step(p0, s0, x, y)
    expect(() => p0.head.dataSync()).toThrow()
    expect(x.dataSync().length).toBe(8 * 16)
    expect(Number.isFinite(r.loss)).toBe(true)
    expect(r.refreshed).toBe(true)
    for (let i = 0; i < 3; i++) r = step(r.params, r.state, x, y)
    const before = memory(currentBackend()).tensors
    for (let i = 0; i < 6; i++) r = step(r.params, r.state, x, y)
    expect(memory(currentBackend()).tensors).toBe(before)
    step.clear()
    dispose([r.params, r.state, x, y])
  })

  it('rejects a loss that is not a scalar, naming it', () => {
    const opt = adam({ learningRate: 1e-3 })
    const step = trainStep((p: { w: Tensor }) => p.w, opt)
    const params = { w: tensor([1, 2]) }
    expect(() => step(params, opt.init(params))).toThrow(FrugalError)
    expect(() => step(params, opt.init(params))).toThrow(/the loss must return a scalar tensor, got shape \[2\] \(at trainStep\.loss\)/)
  })
})

describe('a jitted update whose refresh is due but was not run', () => {
  afterEach(() => vi.restoreAllMocks())
  const setup = (opt: GradientTransformation<any>) => {
    const params = { w: tensor([[1, 2], [3, 4]]), v: tensor([[1, -1], [2, 0]]) }
    const grads = { w: tensor([[0.5, -1], [1, 2]]), v: tensor([[1, 1], [-1, 0.5]]) }
    return { params, grads, state: opt.init(params) }
  }

  it('warns, naming the optimizer and what to do (the subspace would silently never change)', () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined)
    const opt = frugal({ learningRate: 1e-2, updateGap: 2 })
    const { params, grads, state } = setup(opt)
    const update = jit((g: Params, s: unknown, p: Params) => opt.update(g, s as never, p))
    // init's state is due at step 0: the first jitted call without refresh must warn
    update(grads, state, params)
    expect(warn).toHaveBeenCalledTimes(1)
    expect(String(warn.mock.calls[0][0])).toMatch(/^frugal: a subspace refresh was due and did not run.*opt\.refresh\(grads, state, params\).*trainStep/)
  })

  it('stays quiet when the refresh ran, and inside multiSteps on the calls that do not step', () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined)
    const opt = multiSteps(frugal({ learningRate: 1e-2, updateGap: 2 }), 3)
    const { params, grads } = setup(opt)
    let { state } = setup(opt)
    const update = jit((g: Params, s: unknown, p: Params) => opt.update(g, s as never, p).state)
    for (let i = 0; i < 9; i++) state = update(grads, opt.refresh!(grads, state, params) ?? state, params)
    expect(warn).not.toHaveBeenCalled()
  })
})
