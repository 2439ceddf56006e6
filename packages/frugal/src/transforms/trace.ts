import type { Tensor } from '@frugal-ts/core'
import { Tree, add, mul } from '@frugal-ts/core'
import { check } from '../FrugalError'
import type { GradientTransformation, Params } from '../GradientTransformation'
import type { Hyper } from './common'
import { zerosLikeTree } from './common'
import { checkFits } from '../internal/treeChecks'
import { checkStateKeys } from '../internal/stateChecks'
import { checkOptions } from '../internal/options'

/** Options of `trace`. @example trace({ decay: 0.9, nesterov: true }) */
export interface TraceOptions {
  /** the momentum coefficient, in [0, 1) */
  readonly decay: Hyper
  /** Nesterov momentum: the update is `g + decay·t` with the new trace t (default false) */
  readonly nesterov?: boolean
}

/**
 * The state of `trace`: the momentum tree.
 * @example
 * const { trace: momentum }: TraceState = trace({ decay: 0.9 }).init({ w: zeros([2]) }) // zeros like the params
 */
export interface TraceState {
  readonly trace: Params
}

/**
 * Heavy-ball momentum: `t ← g + decay·t`; the update is `t`, or `g + decay·t`
 * when `nesterov`.
 * @param at where the options sit, for error messages (default `trace`)
 * @example chain(trace({ decay: 0.9 }), scaleByLearningRate(0.01)) // SGD with momentum
 * @see optax.trace
 */
export const trace = (o: TraceOptions, at = 'trace'): GradientTransformation<TraceState> => {
  checkOptions(o, ['decay', 'nesterov'], at, true)
  check(o.decay, 'decay', `${at}.decay`)
  const { decay, nesterov = false } = o
  const step = (g: Tensor, t: Tensor): Tensor => add(g, mul(t, decay))
  return {
    init: (params) => ({ trace: zerosLikeTree(params) }),
    update: (updates, state) => {
      checkStateKeys(state, ['trace'], at, 'update')
      checkFits(updates, state.trace, `${at}.update`)
      const next = Tree.zipWith([updates, state.trace], step)
      const out = nesterov ? Tree.zipWith([updates, next], step) : next
      return { updates: out, state: { trace: next } }
    },
  }
}
