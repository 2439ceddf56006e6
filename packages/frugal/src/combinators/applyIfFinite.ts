import type { Tensor } from '@frugal-ts/core'
import { Tree, cast, equal, full, greater, isFinite, logicalAnd, logicalNot, logicalOr, maskRunChecks, sum, where, zerosLike } from '@frugal-ts/core'
import { check } from '../FrugalError'
import type { GradientTransformation, Params } from '../GradientTransformation'
import { isConcrete, safeIncrement, selectTree, zeroCount } from '../transforms/common'

/**
 * The state of `applyIfFinite`.
 * @example
 * const state: ApplyIfFiniteState<AdamState> = applyIfFinite(adam(1e-3), 5).init(params)
 * state.totalNotFinite.item() // 0: steps skipped so far
 */
export interface ApplyIfFiniteState<S> {
  /** non-finite steps in a row (int32 scalar; 0 after a finite one) */
  readonly notFiniteCount: Tensor
  /** whether the last step's updates were all finite (bool scalar) */
  readonly lastFinite: Tensor
  /** non-finite steps in all (int32 scalar) */
  readonly totalNotFinite: Tensor
  readonly inner: S
}

/**
 * True (a bool scalar) when every element of every leaf is finite.
 * @example allFinite({ w: tensor([1, NaN]) }).item() // 0
 */
export const allFinite = (tree: Params): Tensor =>
  Tree.leaves(tree).reduce(
    (ok: Tensor, x: Tensor) => logicalAnd(ok, equal(sum(cast(logicalNot(isFinite(x)), 'float32')), 0)),
    full([], true),
  )

/**
 * Skips steps whose updates hold a NaN or an infinity: they yield zero updates
 * and leave the inner state as it was, and are counted. After more than
 * `maxConsecutiveErrors` such steps in a row, the inner update is applied
 * anyway. Under `jit` it is branch-free (tensor `where`; the inner update is
 * computed and discarded on skipped steps). Called eagerly it branches on the
 * host and does not run the inner update (nor any refresh in it) on skipped steps.
 * @param maxConsecutiveErrors non-finite steps in a row to skip before giving up (default: skip always)
 * @example const opt = applyIfFinite(adam(1e-3), 5)
 * @see optax.apply_if_finite
 */
export const applyIfFinite = <S>(
  inner: GradientTransformation<S>,
  maxConsecutiveErrors = Infinity,
): GradientTransformation<ApplyIfFiniteState<S>> => {
  if (maxConsecutiveErrors !== Infinity) check(maxConsecutiveErrors, 'nonNegativeInteger', 'applyIfFinite.maxConsecutiveErrors')
  const out: GradientTransformation<ApplyIfFiniteState<S>> = {
    init: (params) => ({
      notFiniteCount: zeroCount(),
      lastFinite: full([], true),
      totalNotFinite: zeroCount(),
      inner: inner.init(params),
    }),
    update: (updates, state, params) => {
      const finite = allFinite(updates)
      const notFiniteCount = where(finite, 0, safeIncrement(state.notFiniteCount))
      const apply = maxConsecutiveErrors === Infinity ? finite : logicalOr(finite, greater(notFiniteCount, maxConsecutiveErrors))
      const totalNotFinite = where(finite, state.totalNotFinite, safeIncrement(state.totalNotFinite))
      const counts = { notFiniteCount, lastFinite: finite, totalNotFinite }
      if (isConcrete(apply)) {
        // eager: branch on the host
        if (!apply.item()) return { updates: Tree.map(updates, (u: Tensor) => zerosLike(u)), state: { ...counts, inner: state.inner } }
        const r = inner.update(updates, state.inner, params)
        return { updates: r.updates, state: { ...counts, inner: r.state } }
      }
      // what the inner update warns about holds only on the steps that keep it
      const r = maskRunChecks(apply, () => inner.update(updates, state.inner, params))
      return {
        updates: Tree.map(r.updates, (u: Tensor) => where(apply, u, zerosLike(u))),
        state: { ...counts, inner: selectTree(apply, r.state, state.inner) },
      }
    },
  }
  if (!inner.refresh) return out
  const innerDue = inner.refreshDue
  return {
    ...out,
    // due when the inner one is (a non-finite step then skips the refresh)
    ...(innerDue ? { refreshDue: (state: ApplyIfFiniteState<S>) => innerDue.call(inner, state.inner) } : {}),
    // a skipped step must not refresh either (no subspace from a NaN gradient)
    refresh: (updates, state, params) => {
      const skipped = !allFinite(updates).item() && state.notFiniteCount.item() + 1 <= maxConsecutiveErrors
      if (skipped) return null
      const fresh = inner.refresh!(updates, state.inner, params)
      return fresh === null ? null : { ...state, inner: fresh }
    },
  }
}
