import { Tensor, Tree } from '@frugal-ts/core'
import { FrugalError } from '../FrugalError'
import type { Params } from '../GradientTransformation'

/**
 * @internal Does an optimizer state belong to these parameters? The states
 * of this package's transformations hold trees of the parameters' structure
 * under known fields: Adam's and Lion's `mu`/`nu`, `trace`'s `trace`,
 * `multiSteps`' `accGrads` (tensors shaped like the parameters, `null` where
 * a combinator left a leaf out) and FRUGAL's `leaves` (one leaf state per
 * parameter). Each such field must fit the parameters exactly; everything
 * else is checked by structure against `like` where one is given.
 */

const PARAM_TREES = new Set(['mu', 'nu', 'trace', 'accGrads'])

const isRecord = (x: unknown): x is Record<string, unknown> =>
  x !== null && typeof x === 'object' && !Array.isArray(x) && !(x instanceof Tensor)

const show = (x: unknown): string =>
  x instanceof Tensor
    ? `${x.dtype}[${x.shape.join(', ')}]`
    : Array.isArray(x)
      ? `an array of length ${x.length}`
      : isRecord(x)
        ? `an object with keys [${Object.keys(x).sort().join(', ')}]`
        : x === null || x === undefined
          ? String(x)
          : typeof x

/** Where a parameter sits in messages: its path below the prefix of the subtree being checked. */
type Where = readonly (string | number)[]

const fail = (field: string, prefix: Where, path: Where, got: unknown, want: unknown): never => {
  const full = [...prefix, ...path]
  const where = Tree.pathString(full) || '<root>'
  throw new FrugalError(
    `the optimizer state does not belong to these parameters: its ${field} has ${show(got)} at ${where}, the parameters have ${show(want)} (at state.${field}${path.length ? `.${Tree.pathString(path)}` : ''})`,
  )
}

/**
 * `tree` against the parameters: tensors of the same shape and dtype at every
 * leaf (or, for FRUGAL's leaves, a leaf state whose full-size state fits the
 * leaf), null anywhere.
 */
const fits = (tree: unknown, params: unknown, field: string, prefix: Where, path: (string | number)[], leafStates: boolean): void => {
  if (tree === null || tree === undefined) return
  if (isSubspace(params)) {
    if (!(tree instanceof Tensor) || tree.dtype !== params.dtype || tree.size > params.size)
      throw new FrugalError(
        `the optimizer state does not belong to these parameters: its ${field} has ${show(tree)} for the subspace of ${Tree.pathString(prefix) || '<root>'}, the parameter is ${show(params.of)} (at state.${field})`,
      )
    return
  }
  if (params instanceof Tensor) {
    if (leafStates) {
      if (!isRecord(tree) || !('inner' in tree)) fail(field, prefix, path, tree, params)
      // a leaf FRUGAL does not split keeps the stateful state of the full leaf; a split one holds subspace-sized
      // state, of the leaf's dtype and at most its size (its shape depends on the projector, which the state does not name)
      const inner = (tree as Record<string, unknown>).inner
      const at = [field, ...path, 'inner']
      if (!('projector' in (tree as object))) walk(inner, at, params, [...prefix, ...path])
      else walk(inner, at, { dtype: params.dtype, size: params.size, of: params }, [...prefix, ...path])
      return
    }
    if (!(tree instanceof Tensor) || tree.dtype !== params.dtype || tree.shape.length !== params.shape.length || tree.shape.some((d, i) => d !== params.shape[i]))
      fail(field, prefix, path, tree, params)
    return
  }
  if (Array.isArray(params)) {
    if (!Array.isArray(tree) || tree.length !== params.length) fail(field, prefix, path, tree, params)
    params.forEach((p, i) => fits((tree as unknown[])[i], p, field, prefix, [...path, i], leafStates))
    return
  }
  if (isRecord(params)) {
    if (!isRecord(tree) || Object.keys(tree).sort().join('\0') !== Object.keys(params).sort().join('\0')) fail(field, prefix, path, tree, params)
    for (const k of Object.keys(params)) fits((tree as Record<string, unknown>)[k], params[k], field, prefix, [...path, k], leafStates)
    return
  }
  if (params === null || params === undefined) {
    if (!(tree === null || tree === undefined)) fail(field, prefix, path, tree, params)
  }
}

/** The reference for the state of a split leaf: its dtype and size, not its shape. */
interface Subspace {
  readonly dtype: string
  readonly size: number
  readonly of: Tensor
}
const isSubspace = (x: unknown): x is Subspace => isRecord(x) && x.of instanceof Tensor && typeof x.size === 'number'

const isFrugalState = (x: Record<string, unknown>): boolean => x.count instanceof Tensor && x.nextRefresh instanceof Tensor && 'leaves' in x

/** Every parameter-shaped field below `x` (at `statePath`) against `params` (the subtree at `prefix` of the parameters). */
const walk = (x: unknown, statePath: (string | number)[], params: unknown, prefix: Where): void => {
  if (Array.isArray(x)) return x.forEach((y, i) => walk(y, [...statePath, i], params, prefix))
  if (!isRecord(x)) return
  const frugal = isFrugalState(x)
  for (const [k, v] of Object.entries(x)) {
    const field = Tree.pathString([...statePath, k])
    if (frugal && k === 'leaves') fits(v, params, field, prefix, [], true)
    else if (PARAM_TREES.has(k) && (!(v instanceof Tensor) || params instanceof Tensor || isSubspace(params))) fits(v, params, field, prefix, [], false)
    else walk(v, [...statePath, k], params, prefix)
  }
}

/**
 * @internal Throws unless every parameter-shaped field of `state` fits `params`.
 * @throws FrugalError `the optimizer state does not belong to these parameters: its 0.mu has float32[4, 5] at head, the parameters have float32[4, 6] (at state.0.mu.head)`
 * @example checkStateFitsParams(adam(1e-3).init(params), params)
 */
export const checkStateFitsParams = (state: unknown, params: Params): void => walk(state, [], params, [])

const kindOf = (x: unknown): string =>
  x instanceof Tensor ? `${x.dtype === 'int32' ? 'an' : 'a'} ${x.dtype} tensor` : Array.isArray(x) ? `an array of length ${x.length}` : isRecord(x) ? `an object with keys [${Object.keys(x).sort().join(', ')}]` : x === null ? 'null' : typeof x

/**
 * @internal Throws unless `got` has the structure of `like` (`opt.init(params)`):
 * the same arrays and keys, tensors of the same dtype where `like` has tensors;
 * `null` on either side matches anything (a subspace that is empty now and filled later).
 * @param at where `got` sits, for messages (`state`)
 * @throws FrugalError `the checkpoint's optimizer state has another structure: expected a float32 tensor, got an int32 tensor (at state.count)`
 * @example checkLike(opt.init(params), restored, 'state')
 */
export const checkLike = (like: unknown, got: unknown, at: string, path: (string | number)[] = []): void => {
  if (like === null || like === undefined || got === null || got === undefined) return
  const fail = () => {
    throw new FrugalError(
      `the checkpoint's optimizer state has another structure: expected ${kindOf(like)}, got ${kindOf(got)} (at ${at}${path.length ? `.${Tree.pathString(path)}` : ''})`,
    )
  }
  if (like instanceof Tensor) return void (got instanceof Tensor && got.dtype === like.dtype ? undefined : fail())
  if (Array.isArray(like)) {
    if (!Array.isArray(got) || got.length !== like.length) fail()
    like.forEach((l, i) => checkLike(l, (got as unknown[])[i], at, [...path, i]))
    return
  }
  if (isRecord(like)) {
    if (!isRecord(got) || Object.keys(like).sort().join('\0') !== Object.keys(got).sort().join('\0')) fail()
    for (const k of Object.keys(like)) checkLike(like[k], (got as Record<string, unknown>)[k], at, [...path, k])
    return
  }
  if (typeof like !== typeof got) fail()
}
