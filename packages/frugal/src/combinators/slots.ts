import type { Tensor } from '@frugal-ts/core'
import { Tree } from '@frugal-ts/core'
import { FrugalError } from '../FrugalError'
import type { Params } from '../GradientTransformation'

/**
 * A per-leaf choice made by a function of the leaf's path and value (the update, or the parameter at `init`).
 * @example
 * const label: LeafFn<string> = (path, leaf) => (leaf.rank === 2 ? 'adam' : 'sgd')
 * partition({ adam: adam(1e-3), sgd: sgd(0.1) }, label)
 */
export type LeafFn<T> = (path: Tree.Path, leaf: Tensor) => T

/**
 * A per-leaf choice (a mask, a partition label): a function of the leaf's path
 * and value, or a pytree of values with the structure of the params, or a
 * prefix of it (a value on an inner node applies to every leaf below).
 * @example const mask: LeafSpec<boolean> = (path, w) => w.rank === 2
 * @example const labels: LeafSpec<string> = { embed: 'frozen', layers: 'adam' }
 */
export type LeafSpec<T> = Tree.Tree<T> | LeafFn<T>

/** @internal An empty subtree (null or undefined): a slot that holds no leaf. @example isEmpty(null) // true */
export const isEmpty = (x: unknown): x is null | undefined => x === null || x === undefined

/**
 * @internal The slots of a tree: its leaves and its empty (null/undefined)
 * positions, in canonical order. Combinators blank out leaves with `null`
 * (an empty subtree: no leaf, no state) and merge results back slot by slot.
 * @example slotsOf({ a: t, b: null })[0] // [t, null]
 */
export const slotsOf = (tree: Params): [readonly (Tensor | null | undefined)[], Tree.TreeDef] =>
  Tree.flatten(tree, isEmpty) as [(Tensor | null | undefined)[], Tree.TreeDef]

const kind = (x: unknown): string => (Array.isArray(x) ? `an array of length ${x.length}` : isEmpty(x) ? String(x) : Tree.isLeafDefault(x) ? JSON.stringify(x) ?? typeof x : `an object with keys [${Object.keys(x as object).sort().join(', ')}]`)

const walk = (spec: unknown, tree: unknown, path: (string | number)[], out: unknown[], at: string): void => {
  const where = () => [at, ...path].join('.')
  if (isEmpty(tree)) return void out.push(undefined)
  const treeLeaf = Tree.isLeafDefault(tree)
  if (!isEmpty(spec) && Tree.isLeafDefault(spec)) {
    // a value on a leaf, or on an inner node: it applies to every slot below
    for (const slot of slotsOf(tree as Params)[0]) out.push(isEmpty(slot) ? undefined : spec)
    return
  }
  const sameKind = Array.isArray(tree)
    ? Array.isArray(spec) && spec.length === tree.length
    : !treeLeaf && !isEmpty(spec) && !Array.isArray(spec) && Object.keys(spec as object).sort().join('\0') === Object.keys(tree as object).sort().join('\0')
  if (!sameKind)
    throw new FrugalError(`expected ${treeLeaf ? 'a value' : kind(tree)} like the params, got ${kind(spec)} (at ${where()})`)
  if (Array.isArray(tree)) tree.forEach((t, i) => walk((spec as unknown[])[i], t, [...path, i], out, at))
  else for (const k of Object.keys(tree as object).sort()) walk((spec as Record<string, unknown>)[k], (tree as Record<string, unknown>)[k], [...path, k], out, at)
}

/**
 * @internal The value of `spec` for every slot of `tree` (undefined on empty
 * slots), checked by `valid`.
 * @param at where the spec sits, for messages (`masked.mask`)
 * @param expected what a valid value is, for messages (`a boolean`)
 * @throws FrugalError naming the path when the spec does not fit the tree or a value is invalid
 * @example resolveSpec({ w: 'adam', b: 'sgd' }, params, 'partition.labels', 'a string label', isString) // ['sgd', 'adam']
 */
export const resolveSpec = <T>(
  spec: LeafSpec<T>,
  tree: Params,
  at: string,
  expected: string,
  valid: (x: unknown) => x is T,
): (T | undefined)[] => {
  const out: unknown[] = []
  if (typeof spec === 'function') {
    for (const [path, leaf] of Tree.leavesWithPath(tree, isEmpty))
      out.push(isEmpty(leaf) ? undefined : (spec as LeafFn<T>)(path, leaf as Tensor))
  } else walk(spec, tree, [], out, at)
  const [slots] = slotsOf(tree)
  const paths = Tree.paths(tree, isEmpty)
  out.forEach((v, i) => {
    if (!isEmpty(slots[i]) && !valid(v))
      throw new FrugalError(`expected ${expected} for the leaf at ${Tree.pathString(paths[i]) || '<root>'}, got ${kind(v)} (at ${[at, ...paths[i]].join('.')})`)
  })
  return out as (T | undefined)[]
}

/** @internal `tree` with the slots where `keep` is false blanked out (null). @example selectSlots({ a: t, b: u }, [true, false]) // { a: t, b: null } */
export const selectSlots = (tree: Params, keep: readonly boolean[]): Params => {
  const [slots, def] = slotsOf(tree)
  return Tree.unflatten(def, slots.map((s, i) => (keep[i] ? s : null))) as Params
}

/** @internal The slots of `part`, checked to line up with those of the tree it was selected from. @example partSlots(innerUpdates, slots.length, 'masked') */
export const partSlots = (part: Params, n: number, at: string): readonly (Tensor | null | undefined)[] => {
  const [slots] = slotsOf(part)
  if (slots.length !== n)
    throw new FrugalError(`an inner transformation changed the tree structure: ${slots.length} slots, expected ${n} (at ${at})`)
  return slots
}

/** @internal Rebuilds a tree of the structure `def` from its slots. @example fromSlots(def, slots) */
export const fromSlots = (def: Tree.TreeDef, slots: readonly (Tensor | null | undefined)[]): Params =>
  Tree.unflatten(def, slots) as Params

/** @internal Booleans of a mask spec for every slot (false on empty slots). @example maskBits((path) => path[0] === 'w', { b: t, w: u }, 'masked.mask') // [false, true] */
export const maskBits = (mask: LeafSpec<boolean>, tree: Params, at: string): boolean[] =>
  resolveSpec(mask, tree, at, 'a boolean', (x): x is boolean => typeof x === 'boolean').map((b) => b === true)
