import type { Tensor } from '@frugal-ts/core'
import { Tree, add, mul, sign } from '@frugal-ts/core'
import { check } from '../FrugalError'
import type { GradientTransformation, Params } from '../GradientTransformation'
import { ema, oneMinus } from './adam'
import type { Hyper } from './common'
import { safeIncrement, zeroCount, zerosLikeTree } from './common'
import { checkFits } from '../internal/treeChecks'
import { checkStateKeys } from '../internal/stateChecks'
import { checkOptions } from '../internal/options'

/** Options of `scaleByLion` (and of the `lion` alias). @example scaleByLion({ b1: 0.9, b2: 0.99 }) */
export interface ScaleByLionOptions {
  /** interpolation between the gradient and the momentum for the update's sign, in [0, 1) (default 0.9) */
  readonly b1?: Hyper
  /** decay of the momentum, in [0, 1) (default 0.99) */
  readonly b2?: Hyper
}

/**
 * The state of `scaleByLion`: the step count (int32 scalar) and the momentum tree.
 * @example
 * const { count, mu }: ScaleByLionState = scaleByLion().init({ w: zeros([2]) })
 */
export interface ScaleByLionState {
  readonly count: Tensor
  readonly mu: Params
}

/** @internal Validates Lion's options; `at` names where they sit in messages. @example checkLionOptions({ b2: 1 }, 'lion') // throws 'b2 must be in [0, 1), got 1 (at lion.b2)' */
export const checkLionOptions = (o: ScaleByLionOptions, at: string): void => {
  if (o.b1 !== undefined) check(o.b1, 'decay', `${at}.b1`)
  if (o.b2 !== undefined) check(o.b2, 'decay', `${at}.b2`)
}

/**
 * Rescales updates by Lion's rule: the update is `sign((1−β₁)g + β₁m)`, then
 * the momentum moves on as `m ← β₂m + (1−β₂)g`.
 * @param at where the options sit, for error messages (default `scaleByLion`)
 * @example chain(scaleByLion(), scaleByLearningRate(1e-4))
 * @see optax.scale_by_lion; Chen et al., "Symbolic Discovery of Optimization Algorithms" (2023)
 */
export const scaleByLion = (o: ScaleByLionOptions = {}, at = 'scaleByLion'): GradientTransformation<ScaleByLionState> => {
  checkOptions(o, ['b1', 'b2'], at)
  checkLionOptions(o, at)
  const { b1 = 0.9, b2 = 0.99 } = o
  return {
    init: (params) => ({ count: zeroCount(), mu: zerosLikeTree(params) }),
    update: (updates, state) => (checkStateKeys(state, ['count', 'mu'], at, 'update'), checkFits(updates, state.mu, `${at}.update`), {
      updates: Tree.zipWith([updates, state.mu], (g: Tensor, m: Tensor) => sign(add(mul(g, oneMinus(b1)), mul(m, b1)))),
      state: {
        count: safeIncrement(state.count),
        mu: Tree.zipWith([updates, state.mu], (g: Tensor, m: Tensor) => ema(g, m, b2)),
      },
    }),
  }
}
