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
 * steps (AdaFRUGAL's dynamic ρ): a larger subspace early, a smaller one later.
 * The value at a refresh sizes the subspaces until the next one.
 * @throws FrugalError when `init` or `end` is outside [0, 1]
 * @see https://arxiv.org/abs/2411.07837 (FRUGAL); AdaFRUGAL, arXiv 2601.11568
 * @example frugal({ learningRate: 1e-3, density: linearDensity({ init: 0.5, end: 0.1, transitionSteps: 10_000 }) })
 */
export const linearDensity = (o: { readonly init: number; readonly end: number; readonly transitionSteps: number; readonly transitionBegin?: number }): Schedule => {
  checkOptions(o, ['init', 'end', 'transitionSteps', 'transitionBegin'], 'linearDensity', true)
  check(o.init, 'unit', 'linearDensity.init')
  check(o.end, 'unit', 'linearDensity.end')
  return linearSchedule(o)
}

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
 * @throws FrugalError naming the option that is not a positive integer (or, for `tolerance`, positive), or when min > max
 * @see https://arxiv.org/abs/2411.07837 (FRUGAL, the update gap T); AdaFRUGAL, arXiv 2601.11568
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

/** @internal the density at a step, validated */
export const densityAt = (density: Density, step: number, at: string): number => {
  if (typeof density === 'number') return density
  const value = scheduleValue(density, step)
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
