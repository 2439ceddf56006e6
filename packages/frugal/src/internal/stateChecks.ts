import { Tensor } from '@frugal-ts/core'
import { FrugalError } from '../FrugalError'

const describe = (x: unknown): string =>
  x === null
    ? 'null'
    : Array.isArray(x)
      ? `an array of length ${x.length}`
      : x instanceof Tensor
        ? `a ${x.dtype}[${x.shape.join(', ')}] tensor`
        : typeof x === 'object'
          ? `an object with keys [${Object.keys(x as object).sort().join(', ')}]`
          : typeof x

/**
 * @internal Throws unless `state` looks like a FRUGAL state (its counters are
 * tensors, its leaves a tree), so that the state of another optimizer fails
 * with a message instead of a `TypeError` deep inside.
 * @throws FrugalError `expected the state of frugal ({count, nextRefresh, refreshes, key, losses, leaves}), got an array of length 2 (at frugal.update); …`
 * @example checkFrugalState(state, 'frugal', 'update')
 */
export const checkFrugalState = (state: unknown, name: string, method: string): void => {
  const s = state as Record<string, unknown> | null
  const ok =
    s !== null &&
    typeof s === 'object' &&
    !Array.isArray(s) &&
    ['count', 'nextRefresh', 'refreshes', 'key'].every((k) => s[k] instanceof Tensor) &&
    s.leaves !== undefined
  if (!ok)
    throw new FrugalError(
      `expected the state of ${name} ({count, nextRefresh, refreshes, key, losses, leaves}), got ${describe(state)} (at ${name}.${method}); was it made by this optimizer's init?`,
    )
}

/**
 * @internal Throws unless `state` is an object with each of `keys` (the state
 * of a building block such as `scaleByAdam`; `count` must be a tensor).
 * @throws FrugalError `expected the state of adam ({count, mu, nu}), got an object with keys [count, key, leaves, …] (at adam.update); …`
 * @example checkStateKeys(state, ['count', 'mu', 'nu'], 'adam', 'update')
 */
export const checkStateKeys = (state: unknown, keys: readonly string[], name: string, method: string): void => {
  const s = state as Record<string, unknown> | null
  if (s === null || typeof s !== 'object' || Array.isArray(s) || s instanceof Tensor || keys.some((k) => !(k in s) || (k === 'count' && !(s[k] instanceof Tensor))))
    throw new FrugalError(
      `expected the state of ${name} ({${keys.join(', ')}}), got ${describe(state)} (at ${name}.${method}); was it made by this optimizer's init?`,
    )
}

/**
 * @internal Throws unless `state` is an array of `n` states (the state of `chain`).
 * @example checkChainState(state, 2, 'chain', 'update')
 */
export const checkChainState = (state: unknown, n: number, name: string, method: string): void => {
  if (!Array.isArray(state) || state.length !== n)
    throw new FrugalError(
      `expected the state of ${name} (an array of ${n} states, one per transformation in the chain), got ${describe(state)} (at ${name}.${method}); was it made by this optimizer's init?`,
    )
}
