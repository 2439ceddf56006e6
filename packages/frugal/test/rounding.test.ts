import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { Key, zeros } from '@frugal-ts/core'
import { checkParams } from '@frugal-ts/core/testing'
import { frugal } from '../src/frugal/presets'
import { isProjected } from '../src/frugal/state'
import { activeBlocks } from '../src/projectors/blocks'
import { coordinates } from '../src/projectors/coordinates'
import { flooredCount, roundHalfEven, roundedCount, standaloneContext } from '../src/projectors/Projector'
import { svdProjector } from '../src/projectors/svd'
import { pythonInt, pythonRound } from './pythonRound'

// Python's own round() and int() of the float products n·ρ, written by /usr/bin/python3 (python-rounding.py)
const FIXTURE = JSON.parse(readFileSync(fileURLToPath(new URL('./fixtures/python-rounding.json', import.meta.url)), 'utf8')) as {
  counts: [number, number, number, number][]
  values: [number, number][]
}
const params = checkParams({ numRuns: 200 })
const same = (a: number, b: number): void => {
  expect(a === b ? 0 : a - b).toBe(0)
} // -0 and 0 are the same integer

describe("Python's round (halves to even) and int()", () => {
  it('roundHalfEven matches Python on halves, their neighbours and random values (fixture)', () => {
    expect(FIXTURE.values.length).toBeGreaterThan(200)
    for (const [x, r] of FIXTURE.values) same(roundHalfEven(x), r)
  })

  it('roundedCount and flooredCount match round(n·ρ) and int(n·ρ) of Python on 3445 (ρ, n) pairs (fixture)', () => {
    for (const [rho, n, r, i] of FIXTURE.counts) {
      same(roundedCount(rho, n), r)
      same(flooredCount(rho, n), i)
    }
  })

  it('roundHalfEven agrees with the exact bit-level reference on every double (property)', () => {
    const halves = fc.integer({ min: -1e6, max: 1e6 }).map((k) => k + 0.5)
    fc.assert(fc.property(fc.oneof(fc.double({ noNaN: true }), halves), (x) => {
      same(roundHalfEven(x), pythonRound(x))
    }), params)
  })

  it('roundedCount is the clamped reference round of n·ρ, flooredCount the clamped int (property)', () => {
    const rho = fc.oneof(fc.double({ min: 0, max: 1, noNaN: true }), fc.integer({ min: 0, max: 64 }).map((k) => k / 64))
    fc.assert(
      fc.property(rho, fc.integer({ min: 0, max: 5000 }), (d, n) => {
        same(roundedCount(d, n), Math.min(n, pythonRound(n * d)))
        same(flooredCount(d, n), Math.min(n, pythonInt(n * d)))
      }),
      params,
    )
  })

  it('ties go to the even neighbour in both directions: 2.5 → 2, 3.5 → 4, 0.5 → 0, 1.5 → 2, −2.5 → −2', () => {
    expect([2.5, 3.5, 0.5, 1.5, -2.5, -3.5].map(roundHalfEven)).toEqual([2, 4, 0, 2, -2, -4])
    expect(roundedCount(0.25, 10)).toBe(2) // round(2.5): down
    expect(roundedCount(0.25, 14)).toBe(4) // round(3.5): up
    expect(roundedCount(0.5, 5)).toBe(2) // round(2.5): down
    expect(roundedCount(0.5, 7)).toBe(4) // round(3.5): up
    expect(flooredCount(0.29, 100)).toBe(28) // int(28.999999999999996)
  })
})

describe('each projector sizes its subspace as the authors do', () => {
  it('blocks: ρ = 0.25 of 10 leaves activates round(2.5) = 2, of 14 leaves round(3.5) = 4, in every order and period', () => {
    for (const order of ['random', 'ascending', 'descending', 'mirror'] as const)
      for (let p = 0; p < 6; p++) {
        expect(activeBlocks(order, p, 10, 0.25, Key.foldIn(Key.key(0), p))).toHaveLength(2)
        expect(activeBlocks(order, p, 14, 0.25, Key.foldIn(Key.key(0), p))).toHaveLength(4)
      }
  })

  it('blocks through the frugal preset: 10 projectable leaves at ρ = 0.25 hold Adam state on 2 of them', () => {
    const params10 = Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`w${i}`, zeros([3, 4])]))
    const state = frugal({ learningRate: 1e-3, density: 0.25 }).init(params10)
    const leaves = Object.values(state.leaves as Record<string, { inner: unknown; projector?: unknown }>)
    const active = leaves.filter((l) => isProjected(l as never) && l.inner !== null)
    expect(leaves).toHaveLength(10)
    expect(active).toHaveLength(2)
  })

  it('svd: ρ = 0.5 of a 5-wide side is rank round(2.5) = 2, of a 7-wide side rank round(3.5) = 4; full uses min(m, n)', () => {
    const g = (m: number, n: number) => Key.normal(Key.key(m * 10 + n), [m, n])
    for (const type of ['svd', 'random', 'randperm'] as const) {
      const p = svdProjector({ type })
      expect(p.refresh(g(8, 5), null, standaloneContext(0.5))!.right!.shape).toEqual([5, 2])
      expect(p.refresh(g(8, 7), null, standaloneContext(0.5))!.right!.shape).toEqual([7, 4])
      expect(p.refresh(g(5, 9), null, standaloneContext(0.5))!.left!.shape).toEqual([5, 2])
      const full = svdProjector({ type, side: 'full' }).refresh(g(5, 9), null, standaloneContext(0.5))!
      expect([full.left!.shape, full.right!.shape]).toEqual([[5, 2], [9, 2]]) // the authors: round(min(m, n)·ρ) on both sides
    }
  })

  it('coordinates: int(n·ρ) for randk, rows and columns (ρ = 0.5 of 5 columns keeps 2; 0.29 of 100 entries keeps 28)', () => {
    const w = zeros([7, 5])
    expect(coordinates({ mode: 'columns' }).init(w, standaloneContext(0.5))!.indices.shape).toEqual([2])
    expect(coordinates({ mode: 'rows' }).init(w, standaloneContext(0.5))!.indices.shape).toEqual([3])
    expect(coordinates({ mode: 'randk' }).init(zeros([10, 10]), standaloneContext(0.29))!.indices.shape).toEqual([28])
    expect(coordinates({ mode: 'randk' }).init(w, standaloneContext(0.5))!.indices.shape).toEqual([17])
  })
})
