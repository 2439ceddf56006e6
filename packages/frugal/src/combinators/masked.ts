import type { GradientTransformation, Params } from '../GradientTransformation'
import type { LeafSpec } from './slots'
import { fromSlots, maskBits, partSlots, selectSlots, slotsOf } from './slots'

/**
 * The state of `masked`: the inner state, built on the masked leaves only.
 * @example
 * const state: MaskedState<AdamState> = masked(adam(1e-3), { w: true, b: false }).init({ w: zeros([2, 2]), b: zeros([2]) })
 */
export interface MaskedState<S> {
  readonly inner: S
}

/**
 * Applies `inner` to the leaves where `mask` is true and passes the others
 * through untouched. The inner transformation sees the params and updates with
 * the other leaves blanked out (null), so it keeps no state for them.
 * @param mask a pytree of booleans like the params (or a prefix of it), or a function of each leaf's path and value
 * @example masked(addDecayedWeights(1e-4), (path) => path.at(-1) !== 'bias')
 * @see optax.masked
 */
export const masked = <S>(inner: GradientTransformation<S>, mask: LeafSpec<boolean>): GradientTransformation<MaskedState<S>> => {
  const at = 'masked.mask'
  const split = (updates: Params, params: Params | undefined) => {
    const bits = maskBits(mask, updates, at)
    return { bits, u: selectSlots(updates, bits), p: params === undefined ? undefined : selectSlots(params, bits) }
  }
  const out: GradientTransformation<MaskedState<S>> = {
    init: (params) => ({ inner: inner.init(selectSlots(params, maskBits(mask, params, at))) }),
    update: (updates, state, params) => {
      const { bits, u, p } = split(updates, params)
      const r = inner.update(u, state.inner, p)
      const [slots, def] = slotsOf(updates)
      const innerSlots = partSlots(r.updates, slots.length, 'masked')
      return { updates: fromSlots(def, slots.map((s, i) => (bits[i] ? innerSlots[i] : s))), state: { inner: r.state } }
    },
  }
  if (!inner.refresh) return out
  const innerDue = inner.refreshDue
  return {
    ...out,
    ...(innerDue ? { refreshDue: (state: MaskedState<S>) => innerDue.call(inner, state.inner) } : {}),
    refresh: (updates, state, params) => {
      const { u, p } = split(updates, params)
      const fresh = inner.refresh!(u, state.inner, p)
      return fresh === null ? null : { inner: fresh }
    },
  }
}

