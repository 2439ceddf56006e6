import type { Tensor } from '@frugal-ts/core'
import { Tree, add } from '@frugal-ts/core'
import { checkFits } from './internal/treeChecks'

/**
 * Parameters, gradients and updates: a pytree (nested objects/arrays) with `Tensor` leaves.
 * @example
 * const params: Params = { layers: [{ w: zeros([4, 4]), b: zeros([4]) }], head: zeros([4, 2]) }
 */
export type Params = Tree.Tree<Tensor>

/**
 * What `update` returns: the transformed updates and the next state.
 * @example
 * const { updates, state }: UpdateResult<AdamState> = adam(1e-3).update(grads, adam(1e-3).init(params))
 */
export interface UpdateResult<S> {
  readonly updates: Params
  readonly state: S
}

/**
 * An optimizer as a pair of pure functions (the optax protocol): `init` builds
 * the state from the parameters; `update` maps gradients (or the updates of a
 * previous transformation) and the state to updates and the next state.
 * State is a readonly pytree, so it can be checkpointed, jitted and measured.
 *
 * Transformations whose state must change on the host at some steps (FRUGAL's
 * subspace refresh: an SVD or a random draw every `updateGap` steps) also
 * implement `refresh`; `update` stays pure tensor math so it can be jitted.
 * Called eagerly, `update` runs `refresh` itself when it is due.
 * @example
 * // a stateless transformation in five lines: scale the updates by -lr
 * const descend = (lr: number): GradientTransformation<EmptyState> => ({
 *   init: () => emptyState,
 *   update: (updates, state) => ({ updates: Tree.map(updates, (g: Tensor) => mul(g, -lr)), state }),
 * })
 */
export interface GradientTransformation<S> {
  init(params: Params): S
  update(updates: Params, state: S, params?: Params): UpdateResult<S>
  /**
   * Host-side work due before this step's `update` (new subspaces, state
   * resets), or `null` when none is due. Reads the state's step counters, so
   * it needs concrete (not traced) state.
   */
  refresh?(updates: Params, state: S, params?: Params): S | null
  /**
   * Whether `refresh` would do host-side work before this step's update, read
   * from the state alone (no gradients needed), so that a training step can
   * run the fused program on the other steps. Present with `refresh`; where it
   * is absent, callers must assume a refresh may be due at any step.
   */
  refreshDue?(state: S): boolean
}

/** The state of transformations that keep none. @example const opt: GradientTransformation<EmptyState> = scaleBySign() */
export type EmptyState = Readonly<Record<string, never>>

/** The one value of `EmptyState`. @example scaleBySign().update({ w: tensor([-2, 3]) }, emptyState).updates // { w: [-1, 1] } */
export const emptyState: EmptyState = Object.freeze({})

/**
 * Adds updates to parameters leaf by leaf: `θ ← θ + u`.
 * @example const next = applyUpdates(params, updates)
 */
export const applyUpdates = <P extends Params>(params: P, updates: Params): P => {
  checkFits(updates, params, 'applyUpdates')
  return Tree.zipWith([params, updates], (p: Tensor, u: Tensor) => add(p, u)) as P
}
