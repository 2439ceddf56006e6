import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import * as E from 'fp-ts/Either'
import * as t from 'io-ts'
import type { Tensor } from '@frugal-ts/core'
import { fromArray } from '@frugal-ts/core'
import type { GradientTransformation, Params } from '../src/GradientTransformation'
import { applyUpdates } from '../src/GradientTransformation'
import { adamw } from '../src/aliases'
import { frugal } from '../src/frugal/presets'

// The authors' PyTorch optimizers (float64): plain AdamW and BAdam-style block FRUGAL (see fixtures/PROVENANCE.md).
const FIXTURE = fileURLToPath(new URL('./fixtures/frugal-reference.json', import.meta.url))
const TOL = { atol: 1e-5, rtol: 1e-5 }

const Leaf = t.type({ shape: t.array(t.number), data: t.array(t.number) })
const Case = t.type({
  name: t.string,
  config: t.intersection([
    t.type({ optimizer: t.string, lr: t.number, betas: t.tuple([t.number, t.number]), eps: t.number, weight_decay: t.number }),
    t.partial({
      density: t.number,
      update_gap: t.number,
      inactive_update_rule: t.keyof({ sign_sgd: null, sgd: null }),
      inactive_lr_scale: t.number,
      block_order: t.keyof({ ascending: null, descending: null, random: null, mirror: null }),
    }),
  ]),
  params0: t.record(t.string, Leaf),
  grads: t.array(t.record(t.string, t.array(t.number))),
  expected: t.array(t.record(t.string, t.array(t.number))),
})
const Fixture = t.type({ source: t.string, cases: t.array(Case) })
type FixtureCase = t.TypeOf<typeof Case>

const load = (): FixtureCase[] => {
  const decoded = Fixture.decode(JSON.parse(readFileSync(FIXTURE, 'utf8')))
  if (E.isLeft(decoded)) throw new Error(`malformed fixture ${FIXTURE}`)
  return decoded.right.cases
}

/** The frugal-ts optimizer for a case's config. */
const optimizerFor = (c: FixtureCase): GradientTransformation<any> => {
  const { lr, betas, eps, weight_decay } = c.config
  if (c.config.optimizer === 'adamw') return frugal({ learningRate: lr, b1: betas[0], b2: betas[1], eps, weightDecay: weight_decay, density: 1 })
  return frugal({
    learningRate: lr,
    b1: betas[0],
    b2: betas[1],
    eps,
    weightDecay: weight_decay,
    density: c.config.density,
    updateGap: c.config.update_gap,
    projector: 'blocks',
    blockOrder: c.config.block_order,
    stateFree: c.config.inactive_update_rule === 'sgd' ? 'sgd' : 'signSgd',
    stateFreeScale: c.config.inactive_lr_scale,
  })
}

const tensors = (shapes: Record<string, { shape: number[] }>, data: Record<string, number[]>): Record<string, Tensor> =>
  Object.fromEntries(Object.entries(shapes).map(([k, v]) => [k, fromArray(Float32Array.from(data[k]), v.shape)]))

/** Replays a case; returns the largest |actual − expected| / (atol + rtol·|expected|) and the largest absolute error. */
const replay = (c: FixtureCase, opt: GradientTransformation<any>) => {
  let params: Params = tensors(c.params0, Object.fromEntries(Object.entries(c.params0).map(([k, v]) => [k, v.data])))
  let state = opt.init(params)
  let worst = 0
  let maxAbs = 0
  c.grads.forEach((g, step) => {
    const r = opt.update(tensors(c.params0, g), state, params)
    state = r.state
    params = applyUpdates(params, r.updates)
    for (const [name, want] of Object.entries(c.expected[step])) {
      const got = (params as Record<string, Tensor>)[name].dataSync()
      want.forEach((e, i) => {
        const err = Math.abs(got[i] - e)
        maxAbs = Math.max(maxAbs, err)
        worst = Math.max(worst, err / (TOL.atol + TOL.rtol * Math.abs(e)))
      })
    }
  })
  return { worst, maxAbs }
}

describe("the authors' reference trajectories", () => {
  const cases = load()

  it('holds the three cases (adamw, ascending blocks + signSGD, descending blocks + SGD)', () => {
    expect(cases.map((c) => c.name)).toEqual(['adamw', 'block_adamw_ascending_sign_sgd', 'block_adamw_descending_sgd'])
  })

  for (const c of cases) {
    it(`${c.name}: every parameter after every step within 1e-5 (abs + rel)`, () => {
      const { worst, maxAbs } = replay(c, optimizerFor(c))
      console.info(`${c.name}: max |Δ| = ${maxAbs.toExponential(2)} over ${c.grads.length} steps`)
      expect(worst).toBeLessThanOrEqual(1)
    })
  }

  it('adamw: the plain adamw alias follows the same trajectory', () => {
    const c = cases[0]
    const { lr, betas, eps, weight_decay } = c.config
    expect(replay(c, adamw(lr, { b1: betas[0], b2: betas[1], eps, weightDecay: weight_decay })).worst).toBeLessThanOrEqual(1)
  })

  it('a block case fails when the block order is flipped (the replay can fail)', () => {
    const c = cases[1]
    const flipped = { ...c, config: { ...c.config, block_order: 'descending' as const } }
    expect(replay(c, optimizerFor(flipped)).worst).toBeGreaterThan(1)
  })
})
