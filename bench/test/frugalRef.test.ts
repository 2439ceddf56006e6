import { describe, expect, it } from 'vitest'
import { fromArray } from '@frugal-ts/core'
import type { Tensor } from '@frugal-ts/core'
import { applyUpdates, frugal } from '@frugal-ts/frugal'
import { randomFloats } from '../src/contenders'
import type { Subspace } from '../src/frugalRef'
import { frugalReference, subspaceOf } from '../src/frugalRef'
import { maxRelDiff } from '../src/table'

// 6 leaves of 6×8 named as MLP weights (projectable): ρ = 0.5 makes 3 blocks active, randk keeps 24 of 48, svd (m < n: left) rank 3
const [ROWS, COLS, LEAVES, STEPS] = [6, 8, 6, 3]
const [lr, b1, b2, eps] = [1e-2, 0.9, 0.999, 1e-8]
const params0 = Array.from({ length: LEAVES }, (_, i) => randomFloats(ROWS * COLS, 11 + i))
const gradSets = [0, 1].map((k) => Array.from({ length: LEAVES }, (_, i) => randomFloats(ROWS * COLS, 101 + 10 * k + i, 0.1)))
const tree = (leaves: readonly Float32Array[]) => ({
  layers: [0, 1, 2].map((l) => ({ mlp: { w1: fromArray(leaves[2 * l], [ROWS, COLS]), w2: fromArray(leaves[2 * l + 1], [ROWS, COLS]) } })),
})
type P = ReturnType<typeof tree>
const leafOf = (t: { layers: { mlp: { w1: unknown; w2: unknown } }[] }, i: number) => t.layers[i >> 1].mlp[i & 1 ? 'w2' : 'w1']

/** the library, eagerly (update runs the refresh itself): the leaves after STEPS steps and the subspaces its state holds */
const library = (projector: 'blocks' | 'randk' | 'svd') => {
  const opt = frugal({ learningRate: lr, b1, b2, eps, density: 0.5, projector })
  let params: P = tree(params0)
  let state = opt.init(params)
  for (let t = 1; t <= STEPS; t++) {
    const r = opt.update(tree(gradSets[(t - 1) % 2]), state, params)
    params = applyUpdates(params, r.updates) as P
    state = r.state
  }
  const leaves = Array.from({ length: LEAVES }, (_, index) => ({ index, subspace: subspaceOf(leafOf(state.leaves as never, index)) }))
  const out = new Float32Array(LEAVES * ROWS * COLS)
  for (let i = 0; i < LEAVES; i++) out.set((leafOf(params, i) as Tensor).dataSync() as Float32Array, i * ROWS * COLS)
  return { out, leaves }
}

const reference = (leaves: readonly { index: number; subspace: Subspace }[]) =>
  frugalReference({ rows: ROWS, cols: COLS, lr, b1, b2, eps, steps: STEPS, params: params0, gradSets, leaves })

describe('bench/src/frugalRef: FRUGAL by hand against the library', () => {
  for (const projector of ['blocks', 'randk', 'svd'] as const)
    it(`${projector}: the library's leaves equal the hand-written loop's in the subspaces it chose (1e-6)`, () => {
      const lib = library(projector)
      const kinds = new Set(lib.leaves.map((l) => l.subspace.kind))
      if (projector === 'blocks') expect([...kinds].sort()).toEqual(['full', 'none'])
      else expect([...kinds]).toEqual([projector === 'randk' ? 'coords' : 'left'])
      const ref = reference(lib.leaves)
      expect(maxRelDiff(lib.out, ref.output, ref.slack)).toBeLessThan(1e-6)
    })

  it('fails a wrong subspace: blocks with the active set flipped, randk with other coordinates, svd without its state-free part', () => {
    const flip = (s: Subspace): Subspace => (s.kind === 'full' ? { kind: 'none' } : s.kind === 'none' ? { kind: 'full' } : s)
    const blocks = library('blocks')
    const refB = reference(blocks.leaves.map((l) => ({ ...l, subspace: flip(l.subspace) })))
    expect(maxRelDiff(blocks.out, refB.output, refB.slack)).toBeGreaterThan(1e-3)
    const randk = library('randk')
    const shifted = randk.leaves.map((l) => ({ ...l, subspace: l.subspace.kind === 'coords' ? { kind: 'coords' as const, indices: l.subspace.indices.map((k) => (k + 1) % (ROWS * COLS)) } : l.subspace }))
    const refR = reference(shifted)
    expect(maxRelDiff(randk.out, refR.output, refR.slack)).toBeGreaterThan(1e-3)
    // a basis of zeros: all of g is residual (signSGD everywhere), none of it gets Adam
    const svd = library('svd')
    const zeroed = svd.leaves.map((l) => ({ ...l, subspace: l.subspace.kind === 'left' ? { ...l.subspace, basis: new Float32Array(l.subspace.basis.length) } : l.subspace }))
    const refS = reference(zeroed)
    expect(maxRelDiff(svd.out, refS.output, refS.slack)).toBeGreaterThan(1e-3)
  })

  it('slack: a difference within a coordinate\'s slack does not count, beyond it does', () => {
    const ref = Float32Array.of(1, 1)
    const got = Float32Array.of(1.002, 1)
    expect(maxRelDiff(got, ref)).toBeCloseTo(0.001, 6)
    expect(maxRelDiff(got, ref, Float32Array.of(0.002, 0))).toBeLessThan(1e-6)
    expect(maxRelDiff(got, ref, Float32Array.of(0, 0.002))).toBeCloseTo(0.001, 6)
  })
})
