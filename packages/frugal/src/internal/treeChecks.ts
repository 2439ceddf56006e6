import { Tensor, Tree } from '@frugal-ts/core'
import { FrugalError } from '../FrugalError'
import type { GradientTransformation, Params } from '../GradientTransformation'
import { checkChainState } from './stateChecks'

/**
 * @internal Checks that gradients (updates) fit their parameters exactly.
 *
 * A tree's signature (structure, and every leaf's shape and dtype) is a
 * string key, cached per tree object; two trees fit when their keys are
 * equal, and only a mismatch walks both trees to say where. Under `jit` the
 * step is traced once per input signature, so the check runs at trace time
 * only and a compiled step pays nothing per call.
 */

const keys = new WeakMap<object, string>()

const leafKey = (x: unknown): string =>
  x instanceof Tensor ? `${x.dtype}[${x.shape.join(',')}]` : x === null || x === undefined ? '_' : `?${typeof x}`

const build = (x: unknown): string => {
  if (Array.isArray(x)) return `[${x.map(build).join(';')}]`
  if (x !== null && typeof x === 'object' && !(x instanceof Tensor)) {
    const o = x as Record<string, unknown>
    return `{${Object.keys(o).sort().map((k) => `${JSON.stringify(k)}:${build(o[k])}`).join(';')}}`
  }
  return leafKey(x)
}

/** @internal The signature key of a tree (cached per tree object). @example signatureKey({ w: zeros([2]) }) // '{"w":float32[2]}' */
export const signatureKey = (tree: unknown): string => {
  if (tree === null || typeof tree !== 'object') return leafKey(tree)
  let k = keys.get(tree)
  if (k === undefined) keys.set(tree, (k = build(tree)))
  return k
}

/** @internal how a leaf or subtree is shown in messages: `float32[4, 2]`, `an object with keys [a, b]`. @example showLeaf(zeros([2])) // 'float32[2]' */
export const showLeaf = (x: unknown): string => show(x)

const show = (x: unknown): string =>
  x instanceof Tensor
    ? `${x.dtype}[${x.shape.join(', ')}]`
    : Array.isArray(x)
      ? `an array of length ${x.length}`
      : x === null || x === undefined
        ? String(x)
        : typeof x === 'object'
          ? `an object with keys [${Object.keys(x).sort().join(', ')}]`
          : `a ${typeof x}`

/** The first place two trees differ, with what each holds there. */
const firstMismatch = (a: unknown, b: unknown, path: (string | number)[]): [string, unknown, unknown] | null => {
  const empty = (x: unknown) => x === null || x === undefined
  if (empty(a) && empty(b)) return null
  if (Array.isArray(b)) {
    if (!Array.isArray(a) || a.length !== b.length) return [Tree.pathString(path), a, b]
    for (let i = 0; i < b.length; i++) {
      const d = firstMismatch(a[i], b[i], [...path, i])
      if (d) return d
    }
    return null
  }
  if (b !== null && typeof b === 'object' && !(b instanceof Tensor)) {
    const isObj = a !== null && typeof a === 'object' && !(a instanceof Tensor) && !Array.isArray(a)
    if (!isObj || Object.keys(a).sort().join('\0') !== Object.keys(b).sort().join('\0')) return [Tree.pathString(path), a, b]
    for (const k of Object.keys(b).sort()) {
      const d = firstMismatch((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], [...path, k])
      if (d) return d
    }
    return null
  }
  return leafKey(a) === leafKey(b) ? null : [Tree.pathString(path), a, b]
}

/**
 * @internal The first place where `tree` does not have the signature of `reference`: its path and what each holds, or null.
 * @example mismatch({ w: ones([2]) }, { w: zeros([3]) }) // ['w', float32[2], float32[3]]
 */
export const mismatch = (tree: unknown, reference: unknown): [string, unknown, unknown] | null =>
  signatureKey(tree) === signatureKey(reference) ? null : firstMismatch(tree, reference, [])

/**
 * @internal Throws unless `updates` has the structure of `reference` and
 * every leaf exactly its shape and dtype (no broadcasting).
 * @param at the optimizer and method (`adam.update`)
 * @param what what the reference is, for the message (`the parameter`)
 * @param subject what `updates` is, for the message (`the gradient`)
 * @throws FrugalError `adam.update: the gradient at b is float32[4, 4], the parameter is float32[4]; expected exactly the parameter's shape and dtype (no broadcasting) (at adam.update b)`
 * @example checkFits(grads, params, 'adam.update', 'the parameter')
 */
export const checkFits = (updates: unknown, reference: unknown, at: string, what = 'the parameter', subject = 'the gradient'): void => {
  if (signatureKey(updates) === signatureKey(reference)) return
  const d = firstMismatch(updates, reference, [])
  if (d === null) return // only null vs undefined differ
  const [path, got, want] = d
  const where = path || '<root>'
  const leafy = got instanceof Tensor && want instanceof Tensor
  throw new FrugalError(
    `${at}: ${subject} at ${where} is ${show(got)}, ${what} is ${show(want)}; ` +
      `expected exactly ${leafy ? `${what}'s shape and dtype (no broadcasting)` : `${what}'s tree structure`} (at ${at} ${where})`,
  )
}

/**
 * @internal Throws unless every leaf of `params` is a float32 tensor (the
 * optimizers here keep float32 moments and rates).
 * @throws FrugalError `adam.init: the parameter at step is int32[2]; optimizers update float32 parameters only (at adam.init step)`
 * @example checkFloatParams(params, 'adam.init')
 */
export const checkFloatParams = (params: Params, at: string): void => {
  for (const [p, x] of Tree.leavesWithPath(params as Tree.Tree<unknown>)) {
    const where = Tree.pathString(p) || '<root>'
    if (!(x instanceof Tensor))
      throw new FrugalError(`${at}: the parameter at ${where} is ${show(x)}, expected a float32 tensor (at ${at} ${where})`)
    if (x.dtype !== 'float32')
      throw new FrugalError(
        `${at}: the parameter at ${where} is ${show(x)}; optimizers update float32 parameters only, cast it or leave it out of the tree (at ${at} ${where})`,
      )
  }
}

/**
 * @internal A transformation whose `init` checks for float32 parameters and
 * whose `update`/`refresh` check the gradients against the parameters (when
 * given) before anything else: the wrapper every named optimizer gets.
 * @param chainLength for an alias that is a `chain` of this many blocks: its state is checked to be an array of as many states
 * @example export const adam = (lr) => guarded('adam', chain(scaleByAdam(), scaleByLearningRate(lr)))
 */
export const guarded = <S, T extends GradientTransformation<S>>(name: string, t: T, chainLength?: number): T => {
  const out = {
    ...t,
    init: (params: Params) => {
      checkFloatParams(params, `${name}.init`)
      return t.init(params)
    },
    update: (updates: Params, state: S, params?: Params) => {
      if (chainLength !== undefined) checkChainState(state, chainLength, name, 'update')
      if (params !== undefined) checkFits(updates, params, `${name}.update`)
      return t.update(updates, state, params)
    },
  }
  const refresh = t.refresh
  if (refresh)
    (out as GradientTransformation<S>).refresh = (updates, state, params) => {
      if (params !== undefined) checkFits(updates, params, `${name}.refresh`)
      return refresh.call(t, updates, state, params)
    }
  return out as T
}
