/**
 * The authors' reference trajectories (PyTorch, float64; copied into
 * fixtures/frugal-reference.json with a provenance note) replayed through the
 * adapter: tfjs variables, `applyGradients` with the fixture's gradients,
 * every variable after every step compared with the reference.
 */
import '@tensorflow/tfjs-backend-cpu'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import * as tf from '@tensorflow/tfjs-core'
import { beforeAll, describe, expect, it } from 'vitest'
import { adamw, frugal } from '../src/index'
import type { TransformationOptimizer } from '../src/index'

interface Case {
  readonly name: string
  readonly config: {
    readonly lr: number
    readonly betas: [number, number]
    readonly eps: number
    readonly weight_decay: number
    readonly density?: number
    readonly update_gap?: number
    readonly inactive_update_rule?: 'sign_sgd' | 'sgd'
    readonly inactive_lr_scale?: number
    readonly block_order?: 'ascending' | 'descending'
  }
  readonly params0: Record<string, { shape: number[]; data: number[] }>
  readonly grads: Record<string, number[]>[]
  readonly expected: Record<string, number[]>[]
}
const fixture = JSON.parse(readFileSync(fileURLToPath(new URL('./fixtures/frugal-reference.json', import.meta.url)), 'utf8')) as { provenance: string; cases: Case[] }
const TOL = { atol: 1e-5, rtol: 1e-5 }

let run = 0
/** Replays a case through an optimizer; returns the worst error in units of the tolerance and the largest absolute error. */
const replay = (c: Case, make: () => TransformationOptimizer, form: 'map' | 'array') => {
  const prefix = `fixture${run++}`
  const vars = Object.fromEntries(Object.entries(c.params0).map(([k, v]) => [k, tf.variable(tf.tensor(v.data, v.shape), true, `${prefix}/${k}`)]))
  const opt = make()
  let worst = 0
  let maxAbs = 0
  c.grads.forEach((g, step) => {
    const grads = Object.entries(g).map(([k, d]) => ({ name: `${prefix}/${k}`, tensor: tf.tensor(d, c.params0[k].shape) }))
    opt.applyGradients(form === 'array' ? grads : Object.fromEntries(grads.map((x) => [x.name, x.tensor])))
    tf.dispose(grads.map((x) => x.tensor))
    for (const [k, want] of Object.entries(c.expected[step])) {
      const got = vars[k].dataSync()
      want.forEach((e, i) => {
        const err = Math.abs(got[i] - e)
        maxAbs = Math.max(maxAbs, err)
        worst = Math.max(worst, err / (TOL.atol + TOL.rtol * Math.abs(e)))
      })
    }
  })
  opt.dispose()
  tf.dispose(Object.values(vars))
  return { worst, maxAbs }
}

const hyper = (c: Case) => ({ learningRate: c.config.lr, b1: c.config.betas[0], b2: c.config.betas[1], eps: c.config.eps, weightDecay: c.config.weight_decay })
const blocksOf = (c: Case) => () =>
  frugal({
    ...hyper(c),
    density: c.config.density,
    updateGap: c.config.update_gap,
    projector: 'blocks',
    blockOrder: c.config.block_order,
    stateFree: c.config.inactive_update_rule === 'sgd' ? 'sgd' : 'signSgd',
    stateFreeScale: c.config.inactive_lr_scale,
    // the fixture's w0..w3 are projectable, b is not
    projectable: [/\/w\d$/],
  })

describe("the authors' reference trajectories through the tf.Optimizer adapter", () => {
  beforeAll(async () => {
    await tf.setBackend('cpu')
  })

  it('the fixture holds the three cases and says where it comes from', () => {
    expect(fixture.cases.map((c) => c.name)).toEqual(['adamw', 'block_adamw_ascending_sign_sgd', 'block_adamw_descending_sgd'])
    expect(fixture.provenance).toMatch(/PyTorch/)
  })

  for (const form of ['array', 'map'] as const)
    it(`adamw (${form} form of applyGradients): every variable after every step within 1e-5 (abs + rel) of the reference`, () => {
      const c = fixture.cases[0]
      const { worst, maxAbs } = replay(c, () => adamw(hyper(c)), form)
      console.info(`adamw through the adapter: max |Δ| = ${maxAbs.toExponential(2)} over ${c.grads.length} steps`)
      expect(worst).toBeLessThanOrEqual(1)
    })

  for (const c of fixture.cases.slice(1))
    it(`${c.name}: FRUGAL (blocks) through the adapter, every step within 1e-5`, () => {
      const { worst, maxAbs } = replay(c, blocksOf(c), 'array')
      console.info(`${c.name} through the adapter: max |Δ| = ${maxAbs.toExponential(2)}`)
      expect(worst).toBeLessThanOrEqual(1)
    })

  it('the replay can fail: adamw without its weight decay, and blocks in the other order, leave the reference', () => {
    const c = fixture.cases[0]
    expect(replay(c, () => adamw({ ...hyper(c), weightDecay: 0 }), 'array').worst).toBeGreaterThan(1)
    const b = fixture.cases[1]
    expect(replay(b, blocksOf({ ...b, config: { ...b.config, block_order: 'descending' } }), 'array').worst).toBeGreaterThan(1)
  })
})
