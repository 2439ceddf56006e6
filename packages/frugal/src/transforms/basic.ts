import type { Tensor } from '@frugal-ts/core'
import { Tree, add, clipByValue, div, full, less, mul, neg, sign, sqrt, sum, where } from '@frugal-ts/core'
import { check, checkLearningRate } from '../FrugalError'
import type { EmptyState, GradientTransformation, Params } from '../GradientTransformation'
import { emptyState } from '../GradientTransformation'
import type { Schedule, ScalarOrSchedule } from '../schedules'
import type { Hyper } from './common'
import { hyper, safeIncrement, zeroCount } from './common'

const stateless = (f: (u: Tensor) => Tensor): GradientTransformation<EmptyState> => ({
  init: () => emptyState,
  update: (updates, state) => ({ updates: Tree.map(updates, f), state }),
})

/**
 * Leaves the updates as they are.
 * @example chain(identity(), t) // behaves as t
 * @see optax.identity
 */
export const identity = (): GradientTransformation<EmptyState> => ({
  init: () => emptyState,
  update: (updates, state) => ({ updates, state }),
})

/**
 * Multiplies the updates by `step`.
 * @example scale(-0.1).update(grads, emptyState).updates // −0.1·grads
 * @see optax.scale
 */
export const scale = (step: Hyper): GradientTransformation<EmptyState> => {
  check(step, 'finite', 'scale.step')
  return stateless((u) => mul(u, hyper(step)))
}

/** The state of `scaleBySchedule`: the step count (int32 scalar). @example scaleBySchedule(constantSchedule(0.1)).init(params) // { count: 0 } */
export interface ScaleByScheduleState {
  readonly count: Tensor
}

/**
 * Multiplies the updates by `schedule(count)`, then counts the step.
 * @example scaleBySchedule(linearSchedule({ init: 1, end: 0, transitionSteps: 100 }))
 * @see optax.scale_by_schedule
 */
export const scaleBySchedule = (schedule: Schedule): GradientTransformation<ScaleByScheduleState> => ({
  init: () => ({ count: zeroCount() }),
  update: (updates, state) => {
    const step = schedule(state.count)
    return { updates: Tree.map(updates, (u: Tensor) => mul(u, step)), state: { count: safeIncrement(state.count) } }
  },
})

/**
 * The state of `scaleByLearningRate`: empty for a fixed rate, a step count for a schedule.
 * @example
 * const state: ScaleByLearningRateState = scaleByLearningRate(1e-3).init(params) // empty for a number; a count for a schedule
 */
export type ScaleByLearningRateState = EmptyState | ScaleByScheduleState

/**
 * Multiplies the updates by `−learningRate` (by `learningRate` when `flipSign`
 * is false); a schedule is evaluated at the step count.
 * @param learningRate a positive number, a scalar tensor or a schedule
 * @example chain(scaleByAdam(), scaleByLearningRate(1e-3))
 * @see optax.scale_by_learning_rate
 */
export const scaleByLearningRate = (
  learningRate: ScalarOrSchedule,
  flipSign = true,
  at = 'scaleByLearningRate',
): GradientTransformation<ScaleByLearningRateState> => {
  checkLearningRate(learningRate, `${at}.learningRate`)
  const m = flipSign ? -1 : 1
  if (typeof learningRate === 'function') return scaleBySchedule((count) => mul(learningRate(count), m))
  return scale(typeof learningRate === 'number' ? m * learningRate : flipSign ? neg(learningRate) : learningRate)
}

/**
 * Element-wise sign of the updates: the state-free part of FRUGAL's default.
 * @example scaleBySign().update({ w: tensor([-3, 0, 2]) }, emptyState).updates // { w: [-1, 0, 1] }
 * @see optax.scale_by_sign
 */
export const scaleBySign = (): GradientTransformation<EmptyState> => stateless(sign)

/**
 * Clips every element of the updates into `[−maxDelta, maxDelta]`.
 * @example clip(1).update({ w: tensor([-3, 0.5]) }, emptyState).updates // { w: [-1, 0.5] }
 * @see optax.clip
 */
export const clip = (maxDelta: Hyper): GradientTransformation<EmptyState> => {
  check(maxDelta, 'nonNegative', 'clip.maxDelta')
  return stateless((u) => clipByValue(u, neg(hyper(maxDelta)), hyper(maxDelta)))
}

/**
 * The global L2 norm of a tree: `√(Σ leaves Σ x²)`, a float32 scalar.
 * @example globalNorm({ a: tensor([3]), b: tensor([4]) }).item() // 5
 * @see optax.global_norm
 */
export const globalNorm = (tree: Params): Tensor =>
  sqrt(Tree.leaves(tree).reduce((s: Tensor, x: Tensor) => add(s, sum(mul(x, x))), full([], 0)))

/**
 * Rescales the updates so that their global L2 norm is at most `maxNorm`
 * (left alone when it already is).
 * @example clipByGlobalNorm(1).update({ a: tensor([3]), b: tensor([4]) }, emptyState).updates // { a: [0.6], b: [0.8] }
 * @see optax.clip_by_global_norm
 */
export const clipByGlobalNorm = (maxNorm: Hyper): GradientTransformation<EmptyState> => {
  check(maxNorm, 'positive', 'clipByGlobalNorm.maxNorm')
  return {
    init: () => emptyState,
    update: (updates, state) => {
      const norm = globalNorm(updates)
      const small = less(norm, maxNorm)
      const factor = div(hyper(maxNorm), norm)
      return { updates: Tree.map(updates, (u: Tensor) => where(small, u, mul(u, factor))), state }
    },
  }
}
