import type { Tensor } from '@frugal-ts/core'
import { add, cast, cos, div, full, less, lessEqual, maximum, minimum, mul, pow, scalar, sub, where } from '@frugal-ts/core'
import { FrugalError, check } from './FrugalError'
import { checkOptions } from './internal/options'

/**
 * A schedule maps the step count (an int32 scalar tensor, 0 at the first
 * step) to a value (a float32 scalar tensor). It is computed with tensor ops,
 * so it works under `jit` where the count is traced.
 * @example const lr: Schedule = (count) => div(1e-2, add(cast(count, 'float32'), 1))
 * @see https://optax.readthedocs.io/en/latest/api/optimizer_schedules.html
 */
export type Schedule = (count: Tensor) => Tensor

/**
 * A hyperparameter that may change with the step: a number, a scalar tensor (from `injectHyperparams`) or a schedule.
 * @example
 * scaleByLearningRate(1e-3) // a number
 * scaleByLearningRate(cosineDecaySchedule({ init: 1e-3, decaySteps: 1000 })) // or a schedule
 */
export type ScalarOrSchedule = number | Tensor | Schedule

const f32 = (count: Tensor): Tensor => cast(count, 'float32')

/**
 * The value of a schedule at a step, as a host number (for logs and plots).
 * @param step the 0-based step count
 * @example scheduleValue(linearSchedule({ init: 1, end: 0, transitionSteps: 10 }), 5) // 0.5
 */
export const scheduleValue = (schedule: Schedule, step: number): number => {
  check(step, 'nonNegativeInteger', 'scheduleValue.step')
  return schedule(scalar(step, 'int32')).item()
}

/**
 * The same value at every step.
 * @example scheduleValue(constantSchedule(0.1), 1000) // 0.1
 * @see optax.constant_schedule
 */
export const constantSchedule = (value: number): Schedule => {
  check(value, 'finite', 'constantSchedule.value')
  return () => full([], value)
}

/**
 * Options of `polynomialSchedule` (and `linearSchedule`, whose power is 1).
 * @example
 * polynomialSchedule({ init: 1e-3, end: 1e-5, transitionSteps: 1000, power: 2 })
 */
export interface PolynomialScheduleOptions {
  /** the value up to `transitionBegin` */
  readonly init: number
  /** the value from `transitionBegin + transitionSteps` on */
  readonly end: number
  /** how many steps the transition takes (a positive integer) */
  readonly transitionSteps: number
  /** the step at which the transition starts (default 0) */
  readonly transitionBegin?: number
  /** the polynomial's power (default 1: linear) */
  readonly power?: number
}

/**
 * Polynomial interpolation from `init` to `end`:
 * `(init − end)·(1 − t/transitionSteps)^power + end`, with t the steps since
 * `transitionBegin` clipped to `[0, transitionSteps]`.
 * @example scheduleValue(polynomialSchedule({ init: 1, end: 0, transitionSteps: 10, power: 2 }), 5) // 0.25
 * @see optax.polynomial_schedule
 */
export const polynomialSchedule = (o: PolynomialScheduleOptions, at = 'polynomialSchedule'): Schedule => {
  checkOptions(o, ['init', 'end', 'transitionSteps', 'transitionBegin', 'power'], at, true)
  const { init, end, transitionSteps, transitionBegin = 0, power = 1 } = o
  check(init, 'finite', `${at}.init`)
  check(end, 'finite', `${at}.end`)
  check(transitionSteps, 'positiveInteger', `${at}.transitionSteps`)
  check(transitionBegin, 'nonNegativeInteger', `${at}.transitionBegin`)
  check(power, 'finite', `${at}.power`)
  return (count) => {
    const t = minimum(maximum(sub(f32(count), transitionBegin), 0), transitionSteps)
    const frac = sub(1, div(t, transitionSteps))
    return add(mul(power === 1 ? frac : pow(frac, power), init - end), end)
  }
}

/**
 * Linear interpolation from `init` to `end` over `transitionSteps` steps starting at `transitionBegin`.
 * @example scheduleValue(linearSchedule({ init: 1, end: 0, transitionSteps: 10 }), 5) // 0.5
 * @see optax.linear_schedule
 */
export const linearSchedule = (o: Omit<PolynomialScheduleOptions, 'power'>): Schedule => {
  checkOptions(o, ['init', 'end', 'transitionSteps', 'transitionBegin'], 'linearSchedule', true)
  return polynomialSchedule({ ...o, power: 1 }, 'linearSchedule')
}

/** Options of `cosineDecaySchedule`. @example cosineDecaySchedule({ init: 1e-3, decaySteps: 1000, alpha: 0.1 }) */
export interface CosineDecayOptions {
  /** the value at step 0 */
  readonly init: number
  /** how many steps the decay takes (a positive integer) */
  readonly decaySteps: number
  /** the final value as a fraction of `init` (default 0) */
  readonly alpha?: number
  /** the power of the cosine factor (default 1) */
  readonly exponent?: number
}

/**
 * Cosine decay: `init·((1 − α)·(½(1 + cos(π·min(t, T)/T)))^exponent + α)`.
 * @example scheduleValue(cosineDecaySchedule({ init: 1, decaySteps: 10 }), 5) // 0.5
 * @see optax.cosine_decay_schedule
 */
export const cosineDecaySchedule = (o: CosineDecayOptions, at = 'cosineDecaySchedule'): Schedule => {
  checkOptions(o, ['init', 'decaySteps', 'alpha', 'exponent'], at, true)
  const { init, decaySteps, alpha = 0, exponent = 1 } = o
  check(init, 'finite', `${at}.init`)
  check(decaySteps, 'positiveInteger', `${at}.decaySteps`)
  check(alpha, 'finite', `${at}.alpha`)
  check(exponent, 'finite', `${at}.exponent`)
  return (count) => {
    const t = minimum(f32(count), decaySteps)
    const c = mul(add(cos(mul(t, Math.PI / decaySteps)), 1), 0.5)
    return mul(add(mul(exponent === 1 ? c : pow(c, exponent), 1 - alpha), alpha), init)
  }
}

/**
 * Options of `warmupCosineDecaySchedule`.
 * @example
 * warmupCosineDecaySchedule({ init: 0, peak: 1e-3, warmupSteps: 100, decaySteps: 10_000, end: 1e-5 })
 */
export interface WarmupCosineDecayOptions {
  /** the value at step 0 */
  readonly init: number
  /** the value reached at the end of the warmup */
  readonly peak: number
  /** steps of linear warmup from `init` to `peak` */
  readonly warmupSteps: number
  /** total steps, warmup included, until the value reaches `end` */
  readonly decaySteps: number
  /** the final value (default 0) */
  readonly end?: number
  /** the power of the cosine factor (default 1) */
  readonly exponent?: number
}

/**
 * Linear warmup from `init` to `peak` over `warmupSteps`, then cosine decay to
 * `end` at step `decaySteps` (which counts the warmup).
 * @example
 * const s = warmupCosineDecaySchedule({ init: 0, peak: 1, warmupSteps: 10, decaySteps: 110 })
 * scheduleValue(s, 5) // 0.5
 * scheduleValue(s, 60) // 0.5
 * @see optax.warmup_cosine_decay_schedule
 */
export const warmupCosineDecaySchedule = (o: WarmupCosineDecayOptions): Schedule => {
  const at = 'warmupCosineDecaySchedule'
  checkOptions(o, ['init', 'peak', 'warmupSteps', 'decaySteps', 'end', 'exponent'], at, true)
  const { init, peak, warmupSteps, decaySteps, end = 0, exponent = 1 } = o
  check(peak, 'finite', `${at}.peak`)
  check(end, 'finite', `${at}.end`)
  check(warmupSteps, 'nonNegativeInteger', `${at}.warmupSteps`)
  check(decaySteps, 'positiveInteger', `${at}.decaySteps`)
  if (decaySteps <= warmupSteps)
    throw new FrugalError(`decaySteps must exceed warmupSteps (${warmupSteps}), got ${decaySteps} (at ${at}.decaySteps)`)
  const decay = cosineDecaySchedule(
    { init: peak, decaySteps: decaySteps - warmupSteps, alpha: peak === 0 ? 0 : end / peak, exponent },
    at,
  )
  if (warmupSteps === 0) return decay
  return joinSchedules([polynomialSchedule({ init, end: peak, transitionSteps: warmupSteps }, at), decay], [warmupSteps])
}

/** Options of `exponentialDecay`. @example exponentialDecay({ init: 1e-3, transitionSteps: 100, decayRate: 0.5, staircase: true }) */
export interface ExponentialDecayOptions {
  /** the value up to `transitionBegin` */
  readonly init: number
  /** the decay takes `decayRate` to the power `t/transitionSteps` (a positive integer) */
  readonly transitionSteps: number
  /** the factor per `transitionSteps` steps (positive; above 1 grows) */
  readonly decayRate: number
  /** steps before the decay starts (default 0) */
  readonly transitionBegin?: number
  /** decay in whole periods of `transitionSteps` (default false) */
  readonly staircase?: boolean
  /** a bound the value does not pass: a floor when decaying, a ceiling when growing */
  readonly end?: number
}

/**
 * Exponential decay: `init·decayRate^(t/transitionSteps)`, t the steps since
 * `transitionBegin` (floored to whole periods when `staircase`), bounded by `end`.
 * @example scheduleValue(exponentialDecay({ init: 1, transitionSteps: 10, decayRate: 0.5 }), 20) // 0.25
 * @see optax.exponential_decay
 */
export const exponentialDecay = (o: ExponentialDecayOptions): Schedule => {
  const at = 'exponentialDecay'
  checkOptions(o, ['init', 'transitionSteps', 'decayRate', 'transitionBegin', 'staircase', 'end'], at, true)
  const { init, transitionSteps, decayRate, transitionBegin = 0, staircase = false, end } = o
  check(init, 'finite', `${at}.init`)
  check(transitionSteps, 'positiveInteger', `${at}.transitionSteps`)
  check(decayRate, 'positive', `${at}.decayRate`)
  check(transitionBegin, 'nonNegativeInteger', `${at}.transitionBegin`)
  if (end !== undefined) check(end, 'finite', `${at}.end`)
  return (count) => {
    const t = sub(f32(count), transitionBegin)
    const periods = div(maximum(t, 0), transitionSteps)
    // t ≥ 0 here, so truncation toward zero is the floor
    const p = staircase ? cast(cast(periods, 'int32'), 'float32') : periods
    let value = mul(pow(full([], decayRate), p), init)
    if (end !== undefined) value = decayRate < 1 ? maximum(value, end) : minimum(value, end)
    return where(lessEqual(t, 0), full([], init), value)
  }
}

/**
 * `init` multiplied by every scale whose boundary the step has reached.
 * @param boundariesAndScales step → factor (non-negative), e.g. `{ 100: 0.1, 200: 0.1 }`
 * @example
 * const s = piecewiseConstantSchedule(1, { 10: 0.5, 20: 0.1 })
 * [scheduleValue(s, 9), scheduleValue(s, 10), scheduleValue(s, 20)] // [1, 0.5, 0.05]
 * @see optax.piecewise_constant_schedule
 */
export const piecewiseConstantSchedule = (init: number, boundariesAndScales: Readonly<Record<number, number>> = {}): Schedule => {
  const at = 'piecewiseConstantSchedule'
  check(init, 'finite', `${at}.init`)
  const pairs = Object.entries(boundariesAndScales).map(([b, s]) => [Number(b), s] as const)
  for (const [b, s] of pairs) {
    check(b, 'nonNegativeInteger', `${at}.boundariesAndScales.boundary`)
    if (!(s >= 0 && Number.isFinite(s)))
      throw new FrugalError(`the scale at boundary ${b} must be non-negative, got ${s} (at ${at}.boundariesAndScales.${b})`)
  }
  pairs.sort((a, b) => a[0] - b[0])
  return (count) => pairs.reduce((v, [b, s]) => where(less(count, b), v, mul(v, s)), full([], init))
}

/**
 * Runs `schedules[0]` until `boundaries[0]`, then `schedules[1]` with its count
 * restarted from 0, and so on.
 * @param boundaries ascending steps, one fewer than the schedules
 * @example
 * const s = joinSchedules([constantSchedule(1), constantSchedule(2)], [10])
 * [scheduleValue(s, 9), scheduleValue(s, 10)] // [1, 2]
 * @see optax.join_schedules
 */
export const joinSchedules = (schedules: readonly Schedule[], boundaries: readonly number[]): Schedule => {
  const at = 'joinSchedules'
  if (schedules.length === 0) throw new FrugalError(`schedules must not be empty (at ${at}.schedules)`)
  if (boundaries.length !== schedules.length - 1)
    throw new FrugalError(
      `boundaries must hold one fewer entry than schedules (${schedules.length - 1}), got ${boundaries.length} (at ${at}.boundaries)`,
    )
  boundaries.forEach((b, i) => {
    check(b, 'nonNegativeInteger', `${at}.boundaries.${i}`)
    if (i > 0 && b < boundaries[i - 1])
      throw new FrugalError(`boundaries must be ascending, got ${b} after ${boundaries[i - 1]} (at ${at}.boundaries.${i})`)
  })
  return (count) =>
    boundaries.reduce(
      (out, b, i) => where(less(count, b), out, schedules[i + 1](sub(count, b))),
      schedules[0](count),
    )
}

/** @internal A number or tensor as a schedule; a schedule as it is. @example scheduleValue(asSchedule(0.1), 7) // 0.1 */
export const asSchedule = (x: ScalarOrSchedule): Schedule =>
  typeof x === 'function' ? x : typeof x === 'number' ? () => full([], x) : () => x
