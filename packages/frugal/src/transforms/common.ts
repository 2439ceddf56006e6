import type { Tensor } from '@frugal-ts/core'
import { Tensor as TensorClass, Tree, add, full, less, scalar, where, zerosLike } from '@frugal-ts/core'
import { FrugalError } from '../FrugalError'
import type { Params } from '../GradientTransformation'

/**
 * A numeric hyperparameter: a number, or a scalar tensor when `injectHyperparams` supplies it (checked where it
 * enters when concrete; a tracer inside `jit` is checked for shape and dtype only).
 * @example
 * scale(0.5) // a number
 * scale(scalar(0.5)) // or a scalar tensor (what injectHyperparams passes)
 */
export type Hyper = number | Tensor

const INT32_MAX = 2 ** 31 - 1

/**
 * A fresh step counter: an int32 scalar 0.
 * @example zeroCount().dtype // 'int32'
 */
export const zeroCount = (): Tensor => scalar(0, 'int32')

/**
 * `count + 1`, saturating at the largest int32 instead of wrapping.
 * @example safeIncrement(zeroCount()).item() // 1
 * @see optax.safe_int32_increment
 */
export const safeIncrement = (count: Tensor): Tensor => where(less(count, INT32_MAX), add(count, 1), count)

/**
 * Zeros shaped like every leaf of a tree (float32 accumulators for float32 params).
 * @example zerosLikeTree({ w: ones([2]) }) // { w: [0, 0] }
 */
export const zerosLikeTree = (tree: Params): Params => Tree.map(tree, (x: Tensor) => zerosLike(x))

/**
 * Leaf by leaf, `a` where the scalar bool `cond` holds, else `b`: the
 * branch-free select that keeps combinators jittable. Non-tensor leaves and
 * leaves that are the same object in both trees are taken from `b`.
 * @example selectTree(isFinite, newState, oldState)
 */
export const selectTree = <T>(cond: Tensor, a: T, b: T): T =>
  Tree.zipWith([a as Tree.Tree<unknown>, b as Tree.Tree<unknown>], (x: unknown, y: unknown) =>
    x instanceof TensorClass && y instanceof TensorClass && x !== y ? where(cond, x, y) : y,
  ) as T

/**
 * True when a tensor holds a value now (eager), false for a tracer inside
 * `jit`/`grad`: combinators branch on the host when they can, and fall back to
 * branch-free `where` when they cannot.
 * @example isConcrete(scalar(1)) // true
 */
export const isConcrete = (t: Tensor): boolean => t.trace === null

/**
 * The scalar `value` as a float32 tensor (a tensor is returned as it is).
 * @example hyper(0.9).dtype // 'float32'
 */
export const hyper = (value: Hyper): Tensor => (typeof value === 'number' ? full([], value) : value)

/**
 * The params a transformation needs, or a FrugalError saying where they were missing.
 * @example const p = requireParams(params, 'addDecayedWeights')
 */
export const requireParams = (params: Params | undefined, at: string): Params => {
  if (params === undefined)
    throw new FrugalError(`params are required, got undefined (at ${at}.update); pass them as update(updates, state, params)`)
  return params
}
