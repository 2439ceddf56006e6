import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import type { Tensor } from '@frugal-ts/core'
import { scalar } from '@frugal-ts/core'
import { jit } from '@frugal-ts/autodiff'
import { FrugalError } from '../src/FrugalError'
import type { Schedule } from '../src/schedules'
import {
  constantSchedule, cosineDecaySchedule, exponentialDecay, joinSchedules, linearSchedule, piecewiseConstantSchedule,
  polynomialSchedule, scheduleValue, warmupCosineDecaySchedule,
} from '../src/schedules'

/** Checks a schedule at steps against expected values (float32 arithmetic: rtol 1e-6). */
const expectAt = (s: Schedule, points: Record<number, number>) => {
  for (const [step, v] of Object.entries(points))
    expect(Math.abs(scheduleValue(s, Number(step)) - v), `step ${step}: ${scheduleValue(s, Number(step))} vs ${v}`).toBeLessThanOrEqual(1e-7 + 1e-6 * Math.abs(v))
}
const range = (n: number) => Array.from({ length: n }, (_, i) => i)

describe('schedules at known points', () => {
  it('constantSchedule', () => expectAt(constantSchedule(0.1), { 0: 0.1, 1: 0.1, 1000: 0.1 }))

  it('linearSchedule, with and without transitionBegin', () => {
    expectAt(linearSchedule({ init: 1, end: 0, transitionSteps: 10 }), { 0: 1, 5: 0.5, 9: 0.1, 10: 0, 20: 0 })
    expectAt(linearSchedule({ init: 1, end: 3, transitionSteps: 4, transitionBegin: 5 }), { 0: 1, 5: 1, 6: 1.5, 9: 3, 100: 3 })
  })

  it('polynomialSchedule', () => {
    expectAt(polynomialSchedule({ init: 1, end: 0, transitionSteps: 10, power: 2 }), { 0: 1, 5: 0.25, 10: 0, 11: 0 })
  })

  it('cosineDecaySchedule follows init·((1−α)·(½(1+cos(πt/T)))^p + α)', () => {
    const formula = (t: number, init: number, T: number, alpha: number, p: number) =>
      init * ((1 - alpha) * (0.5 * (1 + Math.cos((Math.PI * Math.min(t, T)) / T))) ** p + alpha)
    expectAt(cosineDecaySchedule({ init: 1, decaySteps: 10 }), { 0: 1, 5: 0.5, 10: 0, 20: 0 })
    expectAt(cosineDecaySchedule({ init: 2, decaySteps: 10, alpha: 0.1 }), { 5: 1.1, 10: 0.2, 30: 0.2 })
    const s = cosineDecaySchedule({ init: 0.3, decaySteps: 7, alpha: 0.2, exponent: 2 })
    expectAt(s, Object.fromEntries(range(10).map((t) => [t, formula(t, 0.3, 7, 0.2, 2)])))
  })

  it('warmupCosineDecaySchedule: linear warmup to the peak, cosine decay to the end', () => {
    const s = warmupCosineDecaySchedule({ init: 0, peak: 1, warmupSteps: 10, decaySteps: 110, end: 0.1 })
    expectAt(s, { 0: 0, 5: 0.5, 10: 1, 60: 0.55, 110: 0.1, 500: 0.1 })
    expectAt(warmupCosineDecaySchedule({ init: 0, peak: 1, warmupSteps: 0, decaySteps: 10 }), { 0: 1, 5: 0.5, 10: 0 })
  })

  it('exponentialDecay: smooth, staircase, delayed, bounded', () => {
    expectAt(exponentialDecay({ init: 1, transitionSteps: 10, decayRate: 0.5 }), { 0: 1, 10: 0.5, 15: 0.5 ** 1.5, 20: 0.25 })
    expectAt(exponentialDecay({ init: 1, transitionSteps: 10, decayRate: 0.5, staircase: true }), { 9: 1, 10: 0.5, 19: 0.5, 25: 0.25 })
    expectAt(exponentialDecay({ init: 2, transitionSteps: 10, decayRate: 0.5, transitionBegin: 5 }), { 0: 2, 5: 2, 15: 1, 25: 0.5 })
    expectAt(exponentialDecay({ init: 1, transitionSteps: 10, decayRate: 0.5, end: 0.3 }), { 10: 0.5, 20: 0.3, 100: 0.3 })
    expectAt(exponentialDecay({ init: 1, transitionSteps: 1, decayRate: 2, end: 5 }), { 2: 4, 3: 5, 10: 5 })
  })

  it('piecewiseConstantSchedule multiplies the scales of the boundaries reached', () => {
    expectAt(piecewiseConstantSchedule(1, { 10: 0.5, 20: 0.1 }), { 0: 1, 9: 1, 10: 0.5, 19: 0.5, 20: 0.05, 1000: 0.05 })
    expectAt(piecewiseConstantSchedule(3), { 0: 3, 100: 3 })
  })

  it('joinSchedules switches at the boundaries and restarts the count', () => {
    const s = joinSchedules(
      [constantSchedule(1), linearSchedule({ init: 0.5, end: 0, transitionSteps: 10 }), constantSchedule(7)],
      [10, 30],
    )
    expectAt(s, { 0: 1, 9: 1, 10: 0.5, 15: 0.25, 20: 0, 29: 0, 30: 7 })
  })
})

describe('schedules are tensor functions of the count', () => {
  it('give float32 scalars from an int32 scalar count', () => {
    const v = warmupCosineDecaySchedule({ init: 0, peak: 1, warmupSteps: 3, decaySteps: 10 })(scalar(2, 'int32'))
    expect([v.dtype, v.shape]).toEqual(['float32', []])
  })

  it('work under jit with a traced count, traced once', () => {
    const schedules: Schedule[] = [
      constantSchedule(0.1),
      linearSchedule({ init: 1, end: 0, transitionSteps: 10, transitionBegin: 2 }),
      cosineDecaySchedule({ init: 1, decaySteps: 10, alpha: 0.1 }),
      warmupCosineDecaySchedule({ init: 0, peak: 1, warmupSteps: 3, decaySteps: 10 }),
      exponentialDecay({ init: 1, transitionSteps: 3, decayRate: 0.5, staircase: true, transitionBegin: 1 }),
      piecewiseConstantSchedule(1, { 3: 0.5, 6: 0.5 }),
      joinSchedules([constantSchedule(1), constantSchedule(2)], [4]),
    ]
    for (const s of schedules) {
      const js = jit((count: Tensor) => s(count))
      for (const step of range(14)) expect(js(scalar(step, 'int32')).item()).toBe(scheduleValue(s, step))
      expect(js.traceCount).toBe(1)
    }
  })

  it('linearSchedule stays between init and end and matches its formula (property)', () => {
    fc.assert(
      fc.property(
        fc.double({ min: -10, max: 10, noNaN: true }),
        fc.double({ min: -10, max: 10, noNaN: true }),
        fc.integer({ min: 1, max: 1000 }),
        fc.integer({ min: 0, max: 100 }),
        fc.integer({ min: 0, max: 2000 }),
        (init, end, transitionSteps, transitionBegin, step) => {
          const v = scheduleValue(linearSchedule({ init, end, transitionSteps, transitionBegin }), step)
          const t = Math.min(Math.max(step - transitionBegin, 0), transitionSteps)
          const expected = (init - end) * (1 - t / transitionSteps) + end
          expect(Math.abs(v - expected)).toBeLessThanOrEqual(1e-5 * (1 + Math.abs(init) + Math.abs(end)))
        },
      ),
      { seed: 241107837, numRuns: 60 },
    )
  })
})

describe('validation', () => {
  const cases: [() => unknown, RegExp][] = [
    [() => linearSchedule({ init: 1, end: 0, transitionSteps: 0 }), /transitionSteps must be a positive integer, got 0 \(at linearSchedule\.transitionSteps\)/],
    [() => linearSchedule({ init: 1, end: 0, transitionSteps: 5, transitionBegin: -1 }), /at linearSchedule\.transitionBegin/],
    [() => cosineDecaySchedule({ init: 1, decaySteps: 2.5 }), /decaySteps must be a positive integer, got 2\.5 \(at cosineDecaySchedule\.decaySteps\)/],
    [() => warmupCosineDecaySchedule({ init: 0, peak: 1, warmupSteps: 10, decaySteps: 10 }), /decaySteps must exceed warmupSteps \(10\), got 10 \(at warmupCosineDecaySchedule\.decaySteps\)/],
    [() => exponentialDecay({ init: 1, transitionSteps: 10, decayRate: 0 }), /decayRate must be positive, got 0 \(at exponentialDecay\.decayRate\)/],
    [() => piecewiseConstantSchedule(1, { 10: -0.5 }), /must be non-negative, got -0\.5 \(at piecewiseConstantSchedule\.boundariesAndScales\.10\)/],
    [() => joinSchedules([constantSchedule(1)], [3]), /boundaries must hold one fewer entry than schedules \(0\), got 1 \(at joinSchedules\.boundaries\)/],
    [() => joinSchedules([constantSchedule(1), constantSchedule(1), constantSchedule(1)], [5, 3]), /ascending, got 3 after 5 \(at joinSchedules\.boundaries\.1\)/],
    [() => constantSchedule(Infinity), /value must be a finite number, got Infinity \(at constantSchedule\.value\)/],
    [() => scheduleValue(constantSchedule(1), -1), /step must be a non-negative integer, got -1 \(at scheduleValue\.step\)/],
  ]
  for (const [make, message] of cases)
    it(`throws FrugalError: ${message.source.replace(/\\/g, '')}`, () => {
      expect(make).toThrow(FrugalError)
      expect(make).toThrow(message)
    })
})
