import { describe, expect, it } from 'vitest'
import type { Tensor } from '@frugal-ts/core'
import { Key, Tree, zeros } from '@frugal-ts/core'
import type { Params } from '../src/GradientTransformation'
import { applyUpdates } from '../src/GradientTransformation'
import { adamw } from '../src/aliases'
import { frugal } from '../src/frugal/presets'
import { stateBytes, stateBytesByParam, stateBytesEntries } from '../src/stateBytes'

/** A LLaMA-shaped tree: embedding, per layer attention wq/wk/wv/wo, SwiGLU w1/w2/w3 and two norms, a final norm, the head. */
const transformer = (o: { vocab: number; d: number; ffn: number; layers: number }): Params => ({
  embed: zeros([o.vocab, o.d]),
  layers: Array.from({ length: o.layers }, () => ({
    attn: { wq: zeros([o.d, o.d]), wk: zeros([o.d, o.d]), wv: zeros([o.d, o.d]), wo: zeros([o.d, o.d]) },
    mlp: { w1: zeros([o.d, o.ffn]), w2: zeros([o.ffn, o.d]), w3: zeros([o.d, o.ffn]) },
    attnNorm: zeros([o.d]),
    mlpNorm: zeros([o.d]),
  })),
  finalNorm: zeros([o.d]),
  head: zeros([o.d, o.vocab]),
})
const shape = { vocab: 32, d: 64, ffn: 256, layers: 8 }
const size = (t: Params) => (Tree.leaves(t) as Tensor[]).reduce((s, x) => s + x.size, 0)

describe('stateBytes', () => {
  const params = transformer(shape)
  const adamBytes = stateBytes(adamw(1e-3).init(params))

  it('counts every tensor of a state: Adam holds two float32 moments per parameter and an int32 step', () => {
    expect(adamBytes).toBe(2 * 4 * size(params) + 4)
    expect(stateBytes({ a: zeros([3], 'int32'), b: [zeros([2], 'bool'), null, 7, 'x'] })).toBe(12 + 2)
  })

  it('FRUGAL ρ = 0.25 with blocks needs ≤ 0.27 of Adam’s state on a transformer (ascending, descending, mirror)', () => {
    for (const blockOrder of ['ascending', 'descending', 'mirror'] as const) {
      const opt = frugal({ learningRate: 1e-3, density: 0.25, blockOrder, updateGap: 1 })
      let p = params
      let s = opt.init(p)
      // every period, not only the first: the active blocks move
      for (let period = 0; period < 4; period++) {
        const ratio = stateBytes(s) / adamBytes
        expect(ratio, `${blockOrder}, period ${period}`).toBeLessThanOrEqual(0.27)
        expect(ratio).toBeGreaterThan(0.25)
        const g = Tree.map(p, (x: Tensor) => zeros([...x.shape]))
        const r = opt.update(g, s, p)
        ;[s, p] = [r.state, applyUpdates(p, r.updates)]
      }
    }
  })

  it('FRUGAL ρ = 0.25 with rows or columns needs ≤ 0.27 of Adam’s state (indices are per row or column)', () => {
    for (const projector of ['rows', 'columns'] as const)
      expect(stateBytes(frugal({ learningRate: 1e-3, density: 0.25, projector }).init(params)) / adamBytes).toBeLessThanOrEqual(0.27)
  })

  it('FRUGAL ρ = 0.25 with RandK stores 2k floats and k int32 indices per leaf, never a full-size buffer', () => {
    const s = frugal({ learningRate: 1e-3, density: 0.25, projector: 'randk' }).init(params)
    const leaves = Tree.leavesWithPath(params) as [Tree.Path, Tensor][]
    const expected = leaves.reduce((bytes, [p, x]) => {
      const isProjected = x.rank === 2 && !/embed|head/.test(Tree.pathString(p))
      const k = Math.floor(0.25 * x.size)
      return bytes + (isProjected ? 3 * 4 * k + 4 : 2 * 4 * x.size + 4)
    }, 3 * 4 + 8) // count, nextRefresh, refreshes; the key
    expect(stateBytes(s)).toBe(expected)
    expect(stateBytes(s) / adamBytes).toBeLessThan(0.385) // 3ρ/2 on the projectable leaves, plus full Adam on the 1% that is not projectable
  })

  it('breaks the bytes down by parameter: an inactive block holds nothing', () => {
    const p = { w0: zeros([4, 4]), w1: zeros([4, 4]), b: zeros([4]) }
    const s = frugal({ learningRate: 1e-3, density: 0.5, blockOrder: 'ascending' }).init(p)
    expect(stateBytesByParam(s, p)).toEqual({ w0: 2 * 4 * 16 + 4, w1: 0, b: 2 * 4 * 4 + 4, '': 3 * 4 + 8 })
    const byAdam = stateBytesByParam(adamw(1e-3).init(p), p)
    expect(byAdam).toEqual({ w0: 128, w1: 128, b: 32, '': 4 })
    expect(stateBytesEntries(s).map((e) => e.path)).toContain('leaves.w0.inner.mu')
    expect(stateBytesEntries(s).find((e) => e.path === 'key')).toEqual({ path: 'key', shape: [2], dtype: 'int32', bytes: 8 })
  })

  it('the svd projector adds its basis: r·n floats on the projected side', () => {
    const p = { w: Key.normal(Key.key(0), [16, 8]) }
    const s = frugal({ learningRate: 1e-3, density: 0.25, projector: 'svd' }).init(p)
    // m ≥ n: right projection, r = 2; Adam over [16, 2], basis [8, 2]
    expect(stateBytesByParam(s, p).w).toBe(2 * 4 * 32 + 4 + 4 * 16)
  })
})
