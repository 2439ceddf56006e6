import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import type { Tensor } from '@frugal-ts/core'
import { Key, Tree } from '@frugal-ts/core'
import { checkParams } from '@frugal-ts/core/testing'
import type { Params } from '../src/GradientTransformation'
import { applyUpdates } from '../src/GradientTransformation'
import { adaFrugal, frugal } from '../src/frugal/presets'
import { adaFrugalGap, densityAt, linearDensity } from '../src/frugal/schedules'
import { recordLoss } from '../src/frugal/state'
import { scheduleValue } from '../src/schedules'
import { pythonInt } from './pythonRound'

const params = checkParams({ numRuns: 50 })
const gauss = (seed: number, shape: number[]) => Key.normal(Key.key(seed), shape)
/** 20 projectable leaves and a bias (not projectable) */
const params20 = (): Params => ({ ...Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`w${i}`, gauss(i, [3, 2])])), b: gauss(99, [2]) })
const activeCount = (state: { leaves: unknown }): number =>
  Object.entries(state.leaves as Record<string, { projector?: unknown; inner: unknown }>).filter(([k, l]) => k !== 'b' && l.inner !== null).length

/** AdaFRUGAL's rules as the paper writes them (arXiv 2601.11568), computed here independently */
const rhoRef = (start: number, end: number, n: number, t: number) => Math.max(end, start - ((start - end) * t) / n)
const gapRef = (vals: readonly number[], init = 100) => {
  let t = init
  for (let k = 1; k < vals.length; k++) if (Math.abs(vals[k] - vals[k - 1]) / Math.abs(vals[k - 1]) < 0.005) t = Math.min(1000, Math.floor(1.5 * t))
  return t
}

describe('AdaFRUGAL', () => {
  it('linearDensity is ρ_t = max(ρ_end, ρ_start − (ρ_start − ρ_end)·t/N): exactly (float64) where it sizes subspaces, to float32 as a tensor (property)', () => {
    fc.assert(
      fc.property(fc.double({ min: 0, max: 1, noNaN: true }), fc.double({ min: 0, max: 1, noNaN: true }), fc.integer({ min: 1, max: 5000 }), fc.nat(8000), (a, b, n, t) => {
        const [start, end] = a >= b ? [a, b] : [b, a]
        const s = linearDensity({ init: start, end, transitionSteps: n })
        expect(densityAt(s, t, 'test')).toBe(rhoRef(start, end, n, t))
        expect(scheduleValue(s, t)).toBeCloseTo(rhoRef(start, end, n, t), 6)
      }),
      params,
    )
    // 0.35·20 = 7.000000000000001 in float64 (⌊⌋ = 7); the float32 tensor value 0.3499999940 would give 6
    expect(densityAt(linearDensity({ init: 0.45, end: 0.25, transitionSteps: 10 }), 5, 'test')).toBe(0.35)
  })

  it('the gap grows ×1.5 (floored) at each plateau of relative change < 0.005, from 100, capped at 1000', () => {
    const g = adaFrugalGap()
    expect(g.gap(0, [])).toBe(100)
    const flat = Array.from({ length: 9 }, () => 2)
    expect(Array.from({ length: 9 }, (_, k) => g.gap(0, flat.slice(0, k + 1)))).toEqual([100, 150, 225, 337, 505, 757, 1000, 1000, 1000])
    expect(g.gap(0, [2.5, 2.4, 2.3])).toBe(100) // 4 % changes: no plateau
    expect(g.gap(0, [2.5, 2.49, 2.48])).toBe(225) // 0.4 % changes: two plateaus
    expect(g.gap(0, [NaN, NaN, 2.5, 2.499])).toBe(150) // not-yet-recorded evaluations are skipped
    fc.assert(
      fc.property(fc.array(fc.double({ min: 1, max: 3, noNaN: true }), { maxLength: 30 }), (vals) => {
        expect(g.gap(0, vals)).toBe(gapRef(vals))
      }),
      params,
    )
    expect(() => adaFrugalGap({ factor: 0.5 })).toThrow(/factor must be a finite number ≥ 1, got 0.5 \(at adaFrugalGap.factor\)/)
    expect(() => adaFrugalGap({ init: 2000 })).toThrow(/init must not exceed max \(1000\), got 2000/)
    expect(() => adaFrugalGap({ threshold: 0 })).toThrow(/adaFrugalGap.threshold/)
  })

  it('the preset activates ⌊ρ_t·L⌋ blocks at each refresh and lengthens T after validation plateaus', () => {
    const steps = 40
    const opt = adaFrugal({ learningRate: 0.01, steps, gap: { init: 4, max: 20 } })
    let p = params20()
    let s = opt.init(p)
    const seen: { at: number; active: number }[] = []
    const vals: number[] = []
    for (let t = 0; t < steps; t++) {
      const g = Tree.map(p, (x: Tensor, path) => gauss(1000 * t + path.join('').length, [...x.shape]))
      const fresh = opt.refresh(g, s, p)
      if (fresh) seen.push({ at: t, active: activeCount(fresh) })
      const r = opt.update(g, s, p)
      ;[s, p] = [r.state, applyUpdates(p, r.updates)]
      if ((t + 1) % 5 === 0) {
        const v = 3 - 0.5 * Math.min(t, 15) / 15 // falls until step 15, then flat: plateaus
        vals.push(v)
        s = recordLoss(s, v)
      }
    }
    // the reference: refresh at step t with ρ_t, then T from the evaluations recorded so far
    const expected: { at: number; active: number }[] = []
    for (let t = 0; t < steps; ) {
      expected.push({ at: t, active: pythonInt(rhoRef(0.25, 0.05, steps, t) * 20) })
      const recorded = vals.slice(0, Math.floor(t / 5))
      let gap = 4
      for (let j = 1; j < recorded.length; j++) if (Math.abs(recorded[j] - recorded[j - 1]) / recorded[j - 1] < 0.005) gap = Math.min(20, Math.floor(1.5 * gap))
      t += gap
    }
    expect(seen).toEqual(expected)
    expect(new Set(seen.map((x, i) => (i ? x.at - seen[i - 1].at : 0))).size).toBeGreaterThan(2) // T did grow
  })

  it('ρ_t·L = 3.5 gives 3 blocks under adaFrugal (floor) and 4 under frugal (Python round, halves to even)', () => {
    const p = params20()
    const rho = 3.5 / 20 // the product the code takes is exactly 3.5
    expect(rho * 20).toBe(3.5)
    expect(activeCount(adaFrugal({ learningRate: 0.01, steps: 10, densityStart: rho, densityEnd: rho }).init(p))).toBe(3)
    expect(activeCount(frugal({ learningRate: 0.01, density: rho }).init(p))).toBe(4)
  })

  it('rejects bad options with the option named', () => {
    expect(() => adaFrugal({ learningRate: 0.01, steps: 0 })).toThrow(/steps must be a positive integer, got 0 \(at adaFrugal.steps\)/)
    expect(() => adaFrugal({ learningRate: 0.01, steps: 10, densityEnd: 2 })).toThrow(/adaFrugal.densityEnd/)
  })
})
