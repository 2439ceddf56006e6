import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import type { Tensor } from '@frugal-ts/core'
import { Key, mul, sub, svdHost, tensor } from '@frugal-ts/core'
import { checkParams } from '@frugal-ts/core/testing'
import { FrugalError } from '../src/FrugalError'
import { activeBlocks, blocks } from '../src/projectors/blocks'
import type { CoordinateMode } from '../src/projectors/coordinates'
import { coordinates } from '../src/projectors/coordinates'
import type { Projector } from '../src/projectors/Projector'
import { residualOf, standaloneContext } from '../src/projectors/Projector'
import type { SvdSide, SvdType } from '../src/projectors/svd'
import { svdProjector } from '../src/projectors/svd'
import { pythonRound } from './pythonRound'

const params = checkParams({ numRuns: 30 })
const gaussian = (seed: number, shape: number[]): Tensor => Key.normal(Key.key(seed), shape)
const maxAbs = (x: Tensor): number => Array.from(x.dataSync()).reduce((m, v) => Math.max(m, Math.abs(v)), 0)
const sumSq = (x: Tensor): number => Array.from(x.dataSync()).reduce((s, v) => s + v * v, 0)
const density = fc.constantFrom(0, 0.1, 0.25, 0.5, 0.75, 1)
const dims = fc.record({ m: fc.integer({ min: 1, max: 9 }), n: fc.integer({ min: 1, max: 9 }) })

/** The two laws every projector obeys on a gradient `g` with state `ps`. */
const checkLaws = (p: Projector<any>, g: Tensor, ps: any, seed: number) => {
  const low = p.down(g, ps)
  expect(low.shape).toEqual(p.lowShape(g.shape, ps))
  // down∘up is the identity on the subspace
  const x = gaussian(seed + 1, [...low.shape])
  const scale = 1 + maxAbs(x)
  expect(maxAbs(sub(p.down(p.up(x, ps, g.shape), ps), x)) / scale).toBeLessThan(1e-5)
  // the residual has no component in the subspace
  const r = residualOf(p, g, low, ps)
  if (r !== null) expect(maxAbs(p.down(r, ps)) / (1 + maxAbs(g))).toBeLessThan(1e-5)
  return { low, r }
}

describe('svdProjector', () => {
  const sides: SvdSide[] = ['std', 'reverse_std', 'left', 'right', 'full']
  const types: SvdType[] = ['svd', 'random', 'randperm']

  it('down∘up is the identity on the subspace and the residual is orthogonal to it (every side and type)', () => {
    fc.assert(
      fc.property(dims, density, fc.constantFrom(...sides), fc.constantFrom(...types), fc.nat(1000), ({ m, n }, rho, side, type, seed) => {
        const p = svdProjector({ side, type })
        const g = gaussian(seed, [m, n])
        const ps = p.refresh(g, null, standaloneContext(rho, seed))
        if (ps === null) return
        checkLaws(p, g, ps, seed)
      }),
      params,
    )
  })

  it('rank r = round(ρ·n) on the projected side (std: right when m ≥ n, else left), capped by min(m, n) for svd bases', () => {
    fc.assert(
      fc.property(dims, density, fc.constantFrom(...sides), fc.constantFrom(...types), fc.nat(1000), ({ m, n }, rho, side, type, seed) => {
        const p = svdProjector({ side, type })
        const ps = p.refresh(gaussian(seed, [m, n]), null, standaloneContext(rho, seed))
        const cap = (r: number) => (type === 'svd' ? Math.min(r, Math.min(m, n)) : r)
        const left = side === 'left' || side === 'full' || (side === 'std' && m < n) || (side === 'reverse_std' && m >= n)
        const right = side === 'right' || side === 'full' || (side === 'std' && m >= n) || (side === 'reverse_std' && m < n)
        // Python's round (halves to even), as the authors' galore_projector.py; `full` sizes both sides from min(m, n)
        const rl = pythonRound(rho * (side === 'full' ? Math.min(m, n) : m))
        const rr = pythonRound(rho * (side === 'full' ? Math.min(m, n) : n))
        if ((left && rl === 0) || (right && rr === 0)) {
          expect(ps).toBeNull()
          return
        }
        expect(p.lowShape([m, n], ps!)).toEqual([left ? cap(rl) : m, right ? cap(rr) : n])
      }),
      params,
    )
  })

  it('an svd basis captures the top-r singular values: ‖down(g)‖² = σ₁² + … + σᵣ²', () => {
    fc.assert(
      fc.property(dims, fc.constantFrom(0.25, 0.5, 1), fc.nat(1000), ({ m, n }, rho, seed) => {
        const g = gaussian(seed, [m, n])
        const p = svdProjector()
        const ps = p.refresh(g, null, standaloneContext(rho))
        if (ps === null) return
        const r = p.lowShape([m, n], ps)[m >= n ? 1 : 0]
        const { s } = svdHost(Float64Array.from(g.dataSync()), m, n)
        const top = Array.from(s.subarray(0, r)).reduce((a, v) => a + v * v, 0)
        expect(Math.abs(sumSq(p.down(g, ps)) - top) / (1 + top)).toBeLessThan(1e-5)
      }),
      params,
    )
  })

  it('std on a 6×4 gradient at ρ = 0.5 keeps 2 right singular directions', () => {
    const p = svdProjector()
    const ps = p.refresh(gaussian(1, [6, 4]), null, standaloneContext(0.5))!
    expect(ps.left).toBeNull()
    expect(ps.right!.shape).toEqual([4, 2])
  })

  it('rejects leaves that are not 2-D and unknown options, naming where', () => {
    expect(() => svdProjector().refresh(tensor([1, 2]), null, standaloneContext(0.5, 0, { path: ['b'] }))).toThrow(/needs a 2-D leaf.*\(at b\)/)
    expect(() => svdProjector({ side: 'up' as SvdSide })).toThrow(FrugalError)
    expect(() => svdProjector({ type: 'qr' as SvdType })).toThrow(/type must be one of .* \(at svdProjector.type\)/)
  })
})

describe('coordinates', () => {
  const modes: CoordinateMode[] = ['randk', 'rows', 'columns']

  it('laws: down∘up is the identity, up(down(g)) and the residual split g exactly into complementary coordinate sets', () => {
    fc.assert(
      fc.property(dims, density, fc.constantFrom(...modes), fc.nat(1000), ({ m, n }, rho, mode, seed) => {
        const p = coordinates({ mode })
        // no zero entries, so the supports are exactly the coordinate sets
        const g = Key.uniform(Key.key(seed), [m, n], { minval: 1, maxval: 2 })
        const ps = p.init(g, standaloneContext(rho, seed))
        const dim = mode === 'randk' ? m * n : mode === 'rows' ? m : n
        const k = Math.floor(rho * dim + 1e-9)
        if (k === 0 || ps === null) {
          expect(ps).toBeNull()
          expect(k).toBe(0)
          return
        }
        const { r } = checkLaws(p, g, ps, seed)
        const kept = p.up(p.down(g, ps), ps, g.shape).dataSync()
        const rest = r!.dataSync()
        const gd = g.dataSync()
        let inKept = 0
        for (let i = 0; i < gd.length; i++) {
          // a partition: every entry is in exactly one of the two sets, with its value
          expect((kept[i] !== 0) !== (rest[i] !== 0)).toBe(true)
          expect(kept[i] + rest[i]).toBe(gd[i])
          if (kept[i] !== 0) inKept++
        }
        const perSlice = mode === 'randk' ? 1 : mode === 'rows' ? n : m
        expect(inKept).toBe(k * perSlice)
        const idx = Array.from(ps.indices.dataSync())
        expect(new Set(idx).size).toBe(k)
        expect(idx.every((i) => i >= 0 && i < dim)).toBe(true)
      }),
      params,
    )
  })

  it('sizes follow ρ: randk ⌊ρ·m·n⌋ entries, rows ⌊ρ·m⌋, columns ⌊ρ·n⌋; the state-full part has the low shape only', () => {
    const w = gaussian(0, [10, 6])
    expect(coordinates({ mode: 'randk' }).lowShape([10, 6], coordinates().init(w, standaloneContext(0.25))!)).toEqual([15])
    const rows = coordinates({ mode: 'rows' })
    expect(rows.lowShape([10, 6], rows.init(w, standaloneContext(0.25))!)).toEqual([2, 6])
    const cols = coordinates({ mode: 'columns' })
    expect(cols.lowShape([10, 6], cols.init(w, standaloneContext(0.5))!)).toEqual([10, 3])
  })

  it('new keys choose new coordinates; the same key the same ones', () => {
    const p = coordinates()
    const w = gaussian(0, [8, 8])
    const a = p.init(w, standaloneContext(0.25, 1))!.indices.dataSync()
    const b = p.init(w, standaloneContext(0.25, 1))!.indices.dataSync()
    const c = p.init(w, standaloneContext(0.25, 2))!.indices.dataSync()
    expect(Array.from(a)).toEqual(Array.from(b))
    expect(Array.from(a)).not.toEqual(Array.from(c))
  })

  it('rejects a rank-1 leaf for columns and an unknown mode', () => {
    expect(() => coordinates({ mode: 'columns' }).init(tensor([1, 2]), standaloneContext(0.5, 0, { path: ['b'] }))).toThrow(/rank ≥ 2.*\(at b\)/)
    expect(() => coordinates({ mode: 'diag' as CoordinateMode })).toThrow(/mode must be one of randk, rows, columns/)
  })
})

describe('blocks', () => {
  const orders = ['ascending', 'descending', 'mirror', 'random'] as const

  it('round(ρ·L) blocks (Python round, halves to even) are active in every period', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 12 }), density, fc.constantFrom(...orders), fc.nat(20), (total, rho, order, period) => {
        const active = activeBlocks(order, period, total, rho, Key.foldIn(Key.key(0), period))
        expect(active).toHaveLength(pythonRound(rho * total))
        expect(new Set(active).size).toBe(active.length)
        expect(active.every((i) => i >= 0 && i < total)).toBe(true)
      }),
      params,
    )
  })

  it('deterministic orders partition the leaves over L/k periods when k divides L', () => {
    fc.assert(
      fc.property(fc.constantFrom([4, 1], [4, 2], [6, 2], [6, 3], [8, 2], [9, 3]), fc.constantFrom('ascending', 'descending', 'mirror'), ([total, k], order) => {
        const seen = Array.from({ length: total / k }, (_, p) => activeBlocks(order, p, total, k / total, Key.key(0))).flat()
        expect(seen.sort((a, b) => a - b)).toEqual(Array.from({ length: total }, (_, i) => i))
      }),
      params,
    )
  })

  it('matches the reference: 4 leaves at ρ = 0.5 — ascending {w0,w1}, {w2,w3}, …; descending {w2,w3}, {w0,w1}, …', () => {
    const k = Key.key(0)
    expect([0, 1, 2].map((p) => activeBlocks('ascending', p, 4, 0.5, k))).toEqual([[0, 1], [2, 3], [0, 1]])
    expect([0, 1, 2].map((p) => activeBlocks('descending', p, 4, 0.5, k))).toEqual([[2, 3], [0, 1], [2, 3]])
    expect([0, 1, 2].map((p) => activeBlocks('mirror', p, 6, 1 / 3, k))).toEqual([[0, 5], [1, 4], [2, 3]])
  })

  it('an active block is the identity with a zero residual; an inactive one has no state', () => {
    const p = blocks({ order: 'ascending' })
    const g = gaussian(3, [3, 4])
    const ctx = (index: number) => standaloneContext(0.5, 0, { index, total: 4 })
    const ps = p.refresh(g, null, ctx(0))
    expect(ps).toEqual({})
    expect(maxAbs(sub(p.up(p.down(g, ps!), ps!, g.shape), g))).toBe(0)
    expect(residualOf(p, g, p.down(g, ps!), ps!)).toBeNull()
    expect(p.refresh(g, null, ctx(2))).toBeNull()
    expect(() => blocks({ order: 'sideways' as 'random' })).toThrow(/order must be one of .* \(at blocks.order\)/)
  })

  it('projections are pure: inputs are left as they were', () => {
    const g = gaussian(5, [4, 4])
    const before = Array.from(g.dataSync())
    const p = svdProjector()
    const ps = p.refresh(g, null, standaloneContext(0.5))!
    p.up(p.down(mul(g, 1), ps), ps, g.shape)
    expect(Array.from(g.dataSync())).toEqual(before)
  })
})
