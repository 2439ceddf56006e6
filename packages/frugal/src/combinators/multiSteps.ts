import type { Tensor } from '@frugal-ts/core'
import { Tree, add, cast, div, equal, maskRunChecks, sub, where, zerosLike } from '@frugal-ts/core'
import { check } from '../FrugalError'
import type { GradientTransformation, Params } from '../GradientTransformation'
import { isConcrete, safeIncrement, selectTree, zeroCount, zerosLikeTree } from '../transforms/common'

/**
 * The state of `multiSteps`.
 * @example
 * const state: MultiStepsState<AdamState> = multiSteps(adam(1e-3), 4).init(params) // gradients accumulated over 4 calls
 */
export interface MultiStepsState<S> {
  /** gradients accumulated since the last inner step, 0 … everyK−1 (int32 scalar) */
  readonly miniStep: Tensor
  /** inner steps taken (int32 scalar) */
  readonly gradientStep: Tensor
  /** the running mean of the gradients of this cycle */
  readonly accGrads: Params
  readonly inner: S
}

/**
 * Gradient accumulation: emits zero updates for `everyK − 1` calls, and on
 * every `everyK`-th the inner transformation's updates for the mean of the
 * `everyK` gradients. Under `jit` it is branch-free (tensor `where` on the step
 * count): the inner update is computed at every call and kept only on emitting
 * ones. Called eagerly it branches on the host and runs the inner update (and
 * any refresh it does) only on emitting calls.
 * @param everyK how many gradients make one inner step (a positive integer)
 * @example const opt = multiSteps(adam(1e-3), 4) // one Adam step per 4 micro-batches
 * @see optax.MultiSteps
 */
export const multiSteps = <S>(inner: GradientTransformation<S>, everyK: number): GradientTransformation<MultiStepsState<S>> => {
  check(everyK, 'positiveInteger', 'multiSteps.everyK')
  const accumulate = (updates: Params, state: MultiStepsState<S>): Params => {
    const k = add(cast(state.miniStep, 'float32'), 1)
    return Tree.zipWith([updates, state.accGrads], (g: Tensor, a: Tensor) => add(a, div(sub(g, a), k)))
  }
  const out: GradientTransformation<MultiStepsState<S>> = {
    init: (params) => ({ miniStep: zeroCount(), gradientStep: zeroCount(), accGrads: zerosLikeTree(params), inner: inner.init(params) }),
    update: (updates, state, params) => {
      const acc = accumulate(updates, state)
      const reset = (inner: S): MultiStepsState<S> => ({
        miniStep: zeroCount(),
        gradientStep: safeIncrement(state.gradientStep),
        accGrads: zerosLikeTree(acc),
        inner,
      })
      if (isConcrete(state.miniStep)) {
        // eager: branch on the host; the inner update runs only on emitting calls
        if (state.miniStep.item() !== everyK - 1)
          return { updates: zerosLikeTree(updates), state: { ...state, miniStep: add(state.miniStep, 1), accGrads: acc } }
        const r = inner.update(acc, state.inner, params)
        return { updates: r.updates, state: reset(r.state) }
      }
      const emit = equal(state.miniStep, everyK - 1)
      // what the inner update warns about holds only on the calls that keep it
      const r = maskRunChecks(emit, () => inner.update(acc, state.inner, params))
      return {
        updates: Tree.map(r.updates, (u: Tensor) => where(emit, u, zerosLike(u))),
        state: selectTree(emit, reset(r.state), { ...state, miniStep: add(state.miniStep, 1), accGrads: acc }),
      }
    },
  }
  if (!inner.refresh) return out
  const innerDue = inner.refreshDue
  return {
    ...out,
    ...(innerDue ? { refreshDue: (state: MultiStepsState<S>) => state.miniStep.item() === everyK - 1 && innerDue.call(inner, state.inner) } : {}),
    // the inner transformation steps (and may refresh) only on every everyK-th call
    refresh: (updates, state, params) => {
      if (state.miniStep.item() !== everyK - 1) return null
      const fresh = inner.refresh!(accumulate(updates, state), state.inner, params)
      return fresh === null ? null : { ...state, inner: fresh }
    },
  }
}
