import type { Tensor } from '@frugal-ts/core'
import { Tree, concat, full, reshape, slice } from '@frugal-ts/core'
import { FrugalError } from '../FrugalError'
import type { Params } from '../GradientTransformation'

/**
 * The state of a leaf that FRUGAL does not split: the stateful optimizer's state for the full leaf.
 * @example (state.leaves as any).embed.inner.mu
 * @see https://arxiv.org/abs/2411.07837 (FRUGAL)
 */
export interface RegularLeafState<S> {
  readonly inner: S
}

/**
 * The state of a projectable leaf: the projector's state (`null`: empty
 * subspace) and the stateful optimizer's state over the subspace, shaped like
 * `down(g)` (`null` exactly when the subspace is empty: no stateful state at all).
 * @example (state.leaves as any).layers[0].wq.projector // null when the subspace is empty
 * @see https://arxiv.org/abs/2411.07837 (FRUGAL)
 */
export interface ProjectedLeafState<S, PS> {
  readonly projector: PS | null
  readonly inner: S | null
}

/**
 * The state of one parameter leaf.
 * @example isProjected((state.leaves as any).head) // false
 * @see https://arxiv.org/abs/2411.07837 (FRUGAL)
 */
export type LeafState<S, PS> = RegularLeafState<S> | ProjectedLeafState<S, PS>

/**
 * The state of `frugalSplit` (and of the `frugal`, `galore` and `badam`
 * presets). Every field is a tensor or a tree of tensors, so the state can be
 * jitted, measured and checkpointed.
 * @typeParam S the stateful optimizer's state (per leaf)
 * @typeParam PS the projector's state (per projectable leaf)
 * @example opt.init(params).count.item() // 0
 * @see https://arxiv.org/abs/2411.07837 (FRUGAL)
 */
export interface FrugalState<S = unknown, PS = unknown> {
  /** steps done (int32 scalar) */
  readonly count: Tensor
  /** the step count at which the next refresh is due (int32 scalar; 0 before the first step) */
  readonly nextRefresh: Tensor
  /** how many refreshes happened (int32 scalar): the period index of block orders and keys */
  readonly refreshes: Tensor
  /** the PRNG key every random subspace choice is derived from (int32[2]) */
  readonly key: Tensor
  /** the last losses fed by `recordLoss`, oldest first, NaN where unknown; null without a loss-aware gap */
  readonly losses: Tensor | null
  /** one `LeafState` per parameter leaf, in a tree of the parameters' structure */
  readonly leaves: Tree.Tree<LeafState<S, PS>>
}

/**
 * True when a leaf state is that of a projectable leaf.
 * @example isProjected({ projector: null, inner: null }) // true
 * @see https://arxiv.org/abs/2411.07837 (FRUGAL)
 */
export const isProjected = <S, PS>(ls: LeafState<S, PS>): ls is ProjectedLeafState<S, PS> =>
  Object.prototype.hasOwnProperty.call(ls, 'projector')

/** @internal the subtree of `tree` at `path` */
export const at = (tree: unknown, path: Tree.Path): unknown =>
  path.reduce<unknown>((node, k) => (node === null || node === undefined ? undefined : (node as Record<string | number, unknown>)[k]), tree)

/**
 * @internal the leaf states of a FRUGAL state in the canonical order of `params`.
 * @throws FrugalError naming the first parameter path the state has no leaf state for
 */
export const leafStates = <S, PS>(state: FrugalState<S, PS>, params: Params, where: string): LeafState<S, PS>[] =>
  Tree.paths(params).map((p) => {
    const ls = at(state.leaves, p)
    if (ls === null || typeof ls !== 'object' || !Object.prototype.hasOwnProperty.call(ls, 'inner'))
      throw new FrugalError(
        `the optimizer state has no state for the parameter at ${Tree.pathString(p) || '<root>'} (at ${where}); ` +
          `was it made by this optimizer's init for these parameters?`,
      )
    return ls as LeafState<S, PS>
  })

/** @internal leaf states put back into the structure of `params` */
export const withLeaves = <S, PS>(params: Params, states: readonly LeafState<S, PS>[]): Tree.Tree<LeafState<S, PS>> =>
  Tree.unflatten(Tree.structure(params), states) as Tree.Tree<LeafState<S, PS>>

/**
 * Feeds a training loss into a FRUGAL state that keeps a loss history (an
 * optimizer built with `updateGap: lossAwareGap(...)`): the pure way for the
 * training loop to inform the gap rule. Returns a new state; the input is untouched.
 * @param state the optimizer's state
 * @param loss this step's loss (a number or a scalar tensor)
 * @throws FrugalError when the state keeps no loss history
 * @see https://arxiv.org/abs/2411.07837 (FRUGAL, the update gap T)
 * @example
 * const { updates, state: next } = opt.update(grads, state, params)
 * state = recordLoss(next, loss)
 */
export const recordLoss = <S extends FrugalState<any, any>>(state: S, loss: number | Tensor): S => {
  if (!state || typeof state !== 'object' || !('losses' in state) || state.losses === null || state.losses === undefined)
    throw new FrugalError(
      'recordLoss needs a FRUGAL state with a loss history, got one without (at recordLoss.state); build the optimizer with updateGap: lossAwareGap(...)',
    )
  const w = state.losses.shape[0]
  const value = typeof loss === 'number' ? full([1], loss) : reshape(loss, [1])
  return { ...state, losses: w === 1 ? value : concat([slice(state.losses, [1], [w - 1]), value]) }
}
