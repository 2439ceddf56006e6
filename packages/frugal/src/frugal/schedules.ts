import { FrugalError, check } from '../FrugalError'
import type { Schedule } from '../schedules'
import { linearSchedule, scheduleValue } from '../schedules'
import { checkOptions } from '../internal/options'

/**
 * FRUGAL's density ρ: a number in [0, 1], or a schedule of the step count (read on the host at each refresh).
 * @example frugal({ learningRate: 1e-3, density: linearDensity({ init: 0.5, end: 0.1, transitionSteps: 1e4 }) })
 * @see https://arxiv.org/abs/2411.07837 (FRUGAL)
 */
export type Density = number | Schedule

/**
 * A rule for the number of steps until the next refresh, evaluated on the
 * host at each refresh. `window` > 0 asks the optimizer state to keep the last
 * `window` losses (fed with `recordLoss`); `gap` then sees them, oldest first
 * (NaN where none was recorded yet).
 * @example const every50: GapSchedule = { window: 0, gap: () => 50 }
 * @see https://arxiv.org/abs/2411.07837 (FRUGAL)
 */
export interface GapSchedule {
  readonly window: number
  gap(step: number, losses: readonly number[]): number
}

/**
 * FRUGAL's update gap T: a positive integer, or a `GapSchedule`.
 * @example frugal({ learningRate: 1e-3, updateGap: lossAwareGap() })
 * @see https://arxiv.org/abs/2411.07837 (FRUGAL)
 */
export type UpdateGap = number | GapSchedule

/**
 * Linear decay of the density from `init` to `end` over `transitionSteps`
 * steps: a larger subspace early, a smaller one later. This is AdaFRUGAL's
 * dynamic ρ, ρ_t = max(ρ_end, ρ_start − (ρ_start − ρ_end)·t/N) with N =
 * `transitionSteps` (for `end` ≤ `init` the two formulas are the same number:
 * init + (end − init)·min(t, N)/N). The value at a refresh sizes the subspaces
 * until the next one; AdaFRUGAL counts its blocks as ⌊ρ_t·L⌋, which is
 * `blockCount: 'floor'` (the `adaFrugal` preset), while FRUGAL's own code rounds.
 * @throws FrugalError when `init` or `end` is outside [0, 1]
 * @see https://arxiv.org/abs/2411.07837 (FRUGAL); AdaFRUGAL, arXiv 2601.11568
 * @example frugal({ learningRate: 1e-3, density: linearDensity({ init: 0.5, end: 0.1, transitionSteps: 10_000 }) })
 * @example scheduleValue(linearDensity({ init: 0.25, end: 0.05, transitionSteps: 400 }), 200) // 0.15
 */
export const linearDensity = (o: { readonly init: number; readonly end: number; readonly transitionSteps: number; readonly transitionBegin?: number }): Schedule => {
  checkOptions(o, ['init', 'end', 'transitionSteps', 'transitionBegin'], 'linearDensity', true)
  check(o.init, 'unit', 'linearDensity.init')
  check(o.end, 'unit', 'linearDensity.end')
  const schedule = linearSchedule(o)
  const { init, end, transitionSteps: n, transitionBegin: begin = 0 } = o
  // the host value at a refresh, in float64 as AdaFRUGAL writes it: the float32 tensor value of 0.35 is 0.3499999…,
  // and ⌊0.3499999·20⌋ = 6 where the paper's rule gives 7
  const host = (step: number): number => {
    const t = Math.max(0, step - begin)
    return end <= init ? Math.max(end, init - ((init - end) * t) / n) : Math.min(end, init + ((end - init) * t) / n)
  }
  return Object.assign(schedule, { [HOST]: host })
}

const HOST = Symbol('linearDensity.host')

/**
 * A gap that depends on the step only (warm-up with frequent refreshes, for example).
 * @example gapSchedule((step) => (step < 1000 ? 50 : 200))
 * @see https://arxiv.org/abs/2411.07837 (FRUGAL)
 */
export const gapSchedule = (f: (step: number) => number): GapSchedule => ({ window: 0, gap: (step) => f(step) })

/**
 * Options of `lossAwareGap`.
 * @example lossAwareGap({ base: 200, min: 50, max: 800, window: 20, tolerance: 0.01 })
 * @see https://arxiv.org/abs/2411.07837 (FRUGAL)
 */
export interface LossAwareGapOptions {
  /** the gap before `window` losses are known (default 200) */
  readonly base?: number
  /** the gap when the loss stalls (default ⌈base/4⌉) */
  readonly min?: number
  /** the gap when the loss falls fast (default 4·base) */
  readonly max?: number
  /** how many recent losses are compared (default 20, at least 2) */
  readonly window?: number
  /** the relative decrease over the window that earns the longest gap (default 0.01) */
  readonly tolerance?: number
}

/**
 * A loss-aware update gap: the training loop records its losses into the
 * optimizer state with `recordLoss` (a pure function), and at each refresh the
 * gap is set from the relative decrease of the loss over the last `window`
 * losses, d = (oldest − newest)/|oldest|: `min + clamp(d/tolerance, 0, 1)·(max − min)`,
 * rounded. A stalled loss refreshes the subspace soon; a falling one keeps it longer.
 *
 * This is deliberately not AdaFRUGAL's rule (that is `adaFrugalGap`): it reads
 * training losses, not validation losses, and moves T both ways and in the
 * opposite sense — a stall here is taken as a sign that the subspace is used
 * up and asks for a new one sooner, where AdaFRUGAL takes a plateau as
 * convergence and refreshes less often to save the refresh cost. It is kept as
 * a separate heuristic for long runs where refreshes are cheap.
 * @throws FrugalError naming the option that is not a positive integer (or, for `tolerance`, positive), or when min > max
 * @see https://arxiv.org/abs/2411.07837 (FRUGAL, the update gap T); contrast AdaFRUGAL, arXiv 2601.11568 (`adaFrugalGap`)
 * @example
 * const opt = frugal({ learningRate: 1e-3, updateGap: lossAwareGap({ base: 200 }) })
 * state = recordLoss(state, loss) // after each step
 */
export const lossAwareGap = (o: LossAwareGapOptions = {}): GapSchedule => {
  const at = 'lossAwareGap'
  checkOptions(o, ['base', 'min', 'max', 'window', 'tolerance'], at)
  const { base = 200, window = 20, tolerance = 0.01 } = o
  check(base, 'positiveInteger', `${at}.base`)
  const { min = Math.ceil(base / 4), max = 4 * base } = o
  check(min, 'positiveInteger', `${at}.min`)
  check(max, 'positiveInteger', `${at}.max`)
  check(window, 'positiveInteger', `${at}.window`)
  check(tolerance, 'positive', `${at}.tolerance`)
  if (window < 2) throw new FrugalError(`window must be at least 2, got ${window} (at ${at}.window)`)
  if (min > max) throw new FrugalError(`min must not exceed max (${max}), got ${min} (at ${at}.min)`)
  return {
    window,
    gap: (_step, losses) => {
      const known = losses.filter(Number.isFinite)
      if (known.length < window) return base
      const oldest = known[0]
      const d = oldest === 0 ? 0 : (oldest - known[known.length - 1]) / Math.abs(oldest)
      const t = Math.min(1, Math.max(0, d / tolerance))
      return Math.round(min + t * (max - min))
    },
  }
}

/**
 * Options of `adaFrugalGap`.
 * @example adaFrugalGap({ init: 100, factor: 1.5, max: 1000, threshold: 0.005 })
 * @see AdaFRUGAL, arXiv 2601.11568
 */
export interface AdaFrugalGapOptions {
  /** T before any plateau (default 100) */
  readonly init?: number
  /** the growth factor of T at each plateau (default 1.5) */
  readonly factor?: number
  /** the cap of T (default 1000) */
  readonly max?: number
  /** a relative change of the validation loss below this is a plateau (default 0.005) */
  readonly threshold?: number
  /** how many evaluations the state remembers (default 64); older ones no longer count */
  readonly window?: number
}

/**
 * AdaFRUGAL's dynamic update gap: the training loop records each validation
 * loss into the optimizer state with `recordLoss` (once per evaluation, not
 * per step), and every time the relative change between two consecutive
 * evaluations, |L_k − L_(k−1)|/|L_(k−1)|, is below `threshold`, T grows to
 * min(`max`, ⌊`factor`·T⌋), from `init`: 100, 150, 225, 337, 505, 757, 1000.
 * T is recomputed from the remembered evaluations at each refresh, so a growth
 * takes effect at the next refresh (the one already scheduled is kept).
 * @throws FrugalError naming the option out of range (`init`, `max`, `window` positive integers, `factor` ≥ 1, `threshold` positive, `init` ≤ `max`)
 * @see AdaFRUGAL, arXiv 2601.11568; https://arxiv.org/abs/2411.07837 (FRUGAL, the update gap T)
 * @example
 * const opt = frugal({ learningRate: 1e-3, updateGap: adaFrugalGap() })
 * state = recordLoss(state, validationLoss) // after each evaluation
 * @example adaFrugalGap().gap(0, [2.5, 2.499, 2.4985]) // 225: two plateaus
 */
export const adaFrugalGap = (o: AdaFrugalGapOptions = {}): GapSchedule => {
  const at = 'adaFrugalGap'
  const { init = 100, factor = 1.5, max = 1000, threshold = 0.005, window = 64 } = o
  check(init, 'positiveInteger', `${at}.init`)
  check(max, 'positiveInteger', `${at}.max`)
  check(window, 'positiveInteger', `${at}.window`)
  check(threshold, 'positive', `${at}.threshold`)
  if (!(factor >= 1) || !Number.isFinite(factor)) throw new FrugalError(`factor must be a finite number ≥ 1, got ${factor} (at ${at}.factor)`)
  if (init > max) throw new FrugalError(`init must not exceed max (${max}), got ${init} (at ${at}.init)`)
  return {
    window,
    gap: (_step, losses) => {
      const known = losses.filter(Number.isFinite)
      let t = init
      for (let k = 1; k < known.length; k++) {
        const prev = known[k - 1]
        const change = prev === 0 ? Math.abs(known[k]) : Math.abs(known[k] - prev) / Math.abs(prev)
        if (change < threshold) t = Math.min(max, Math.floor(factor * t))
      }
      return t
    },
  }
}

/** @internal the density at a step, validated */
export const densityAt = (density: Density, step: number, at: string): number => {
  if (typeof density === 'number') return density
  const host = (density as { [HOST]?: (step: number) => number })[HOST]
  const value = host ? host(step) : scheduleValue(density, step)
  if (!(value >= 0 && value <= 1))
    throw new FrugalError(`density must be in [0, 1], got ${value} from the schedule at step ${step} (at ${at}.density)`)
  return value
}

/** @internal the gap at a step, validated */
export const gapAt = (gap: UpdateGap, step: number, losses: readonly number[], at: string): number => {
  if (typeof gap === 'number') return gap
  const value = gap.gap(step, losses)
  if (!Number.isInteger(value) || value <= 0)
    throw new FrugalError(`updateGap must be a positive integer, got ${value} from the gap schedule at step ${step} (at ${at}.updateGap)`)
  return value
}

/** @internal validates the density and gap options at construction */
export const checkSchedules = (density: Density, gap: UpdateGap, at: string): void => {
  if (typeof density !== 'function') check(density, 'unit', `${at}.density`)
  if (typeof gap === 'number' || typeof gap !== 'object' || gap === null) check(gap, 'positiveInteger', `${at}.updateGap`)
  else {
    if (typeof gap.gap !== 'function') throw new FrugalError(`updateGap must be a positive integer or a GapSchedule, got an object without gap() (at ${at}.updateGap)`)
    check(gap.window, 'nonNegativeInteger', `${at}.updateGap.window`)
  }
}
