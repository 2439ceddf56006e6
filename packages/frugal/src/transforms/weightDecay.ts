import type { Tensor } from '@frugal-ts/core'
import { Tree, add, mul } from '@frugal-ts/core'
import { check } from '../FrugalError'
import type { EmptyState, GradientTransformation } from '../GradientTransformation'
import { emptyState } from '../GradientTransformation'
import type { LeafSpec } from '../combinators/slots'
import { isEmpty, maskBits } from '../combinators/slots'
import type { Hyper } from './common'
import { requireParams } from './common'

/**
 * Adds `weightDecay·θ` to the updates (decoupled weight decay when placed
 * before `scaleByLearningRate`), on the leaves where `mask` is true (all by
 * default). Needs the params in `update`.
 * @param weightDecay the decay rate, non-negative
 * @param mask a pytree of booleans like the params (or a prefix of it), or a function of each leaf's path and value
 * @param at where the options sit, for error messages (default `addDecayedWeights`)
 * @example addDecayedWeights(1e-4, (path, w) => w.rank >= 2) // no decay on biases and norms
 * @see optax.add_decayed_weights
 */
export const addDecayedWeights = (
  weightDecay: Hyper,
  mask?: LeafSpec<boolean>,
  at = 'addDecayedWeights',
): GradientTransformation<EmptyState> => {
  check(weightDecay, 'nonNegative', `${at}.weightDecay`)
  return {
    init: () => emptyState,
    update: (updates, state, params) => {
      const p = requireParams(params, at)
      const bits = mask === undefined ? null : maskBits(mask, updates, `${at}.mask`)
      let i = -1
      // slot by slot (empty positions included), so the indices line up with the mask's
      const out = Tree.zipWith(
        [updates, p],
        (u: Tensor | null, w: Tensor | null) => (i++, u === null || w === null || (bits && !bits[i]) ? u : add(u, mul(w, weightDecay))),
        isEmpty,
      )
      return { updates: out, state }
    },
  }
}
