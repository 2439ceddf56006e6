import { CoreError } from './CoreError'

/**
 * A pytree: nested plain objects and arrays whose leaves are anything else
 * (tensors, numbers, strings, booleans, class instances). `null` and
 * `undefined` are empty subtrees (they hold no leaves). Object keys are visited
 * in sorted order, so the structure does not depend on insertion order.
 * @example const params: Tree.Tree<Tensor> = { layers: [{ w: tensor([[1]]) }], bias: tensor([0]) }
 */
export type Tree<L> = L | readonly Tree<L>[] | { readonly [k: string]: Tree<L> } | null | undefined

/**
 * Where a leaf sits in a tree: object keys and array indices from the root.
 * @example
 * Tree.paths({ a: [tensor(1), tensor(2)] }) // [['a', 0], ['a', 1]]
 */
export type Path = readonly (string | number)[]

/**
 * Decides whether a node is a leaf (it is then not looked into).
 * @example
 * const isPair: Tree.IsLeaf = (x) => Array.isArray(x) && x.length === 2 && typeof x[0] === 'number'
 * Tree.leaves({ a: [1, 2] }, isPair) // [[1, 2]]
 */
export type IsLeaf = (x: unknown) => boolean

type Node =
  | { readonly kind: 'leaf' }
  | { readonly kind: 'empty'; readonly value: null | undefined }
  | { readonly kind: 'array'; readonly children: readonly Node[] }
  | { readonly kind: 'object'; readonly keys: readonly string[]; readonly children: readonly Node[] }

/**
 * The shape of a tree without its leaves (JAX's `PyTreeDef`): opaque, compare
 * it with `TreeDef.equals`, print it with `TreeDef.show`.
 * @example
 * const [leaves, def] = Tree.flatten({ w: tensor([1]), b: [tensor([2])] })
 * Tree.unflatten(def, leaves.map((t) => add(t, 1))) // { b: [[3]], w: [2] }
 */
export interface TreeDef {
  /** how many leaves a tree of this structure holds */
  readonly numLeaves: number
  /** @internal the structure itself */
  readonly node: Node
}

const isPlainObject = (x: unknown): x is Record<string, unknown> => {
  if (x === null || typeof x !== 'object' || Array.isArray(x)) return false
  const proto = Object.getPrototypeOf(x)
  return proto === Object.prototype || proto === null
}

/**
 * The default leaf test: everything except arrays, plain objects, `null` and `undefined`.
 * @example isLeafDefault(zeros([2])) // true
 * @example isLeafDefault({ w: 1 }) // false
 */
export const isLeafDefault: IsLeaf = (x) => !(x === null || x === undefined || Array.isArray(x) || isPlainObject(x))

const sortedKeys = (o: object): string[] => Object.keys(o).sort()

const leafTest = (isLeaf?: IsLeaf): IsLeaf => (isLeaf ? (x) => isLeaf(x) || isLeafDefault(x) : isLeafDefault)

/**
 * The structure of `x`, its leaves appended to `out` in canonical order and,
 * when `path` is given (the stack of keys from the root), their paths to
 * `paths`.
 */
const walk = (x: unknown, isLeaf: IsLeaf, out: unknown[], path: (string | number)[] | null, paths: Path[]): Node => {
  if (isLeaf(x)) {
    out.push(x)
    if (path) paths.push(path.slice())
    return LEAF
  }
  if (x === null || x === undefined) return { kind: 'empty', value: x }
  if (Array.isArray(x)) {
    const children = new Array<Node>(x.length)
    for (let i = 0; i < x.length; i++) {
      path?.push(i)
      children[i] = walk(x[i], isLeaf, out, path, paths)
      path?.pop()
    }
    return { kind: 'array', children }
  }
  const o = x as Record<string, unknown>
  const keys = sortedKeys(o)
  const children = keys.map((k) => {
    path?.push(k)
    const n = walk(o[k], isLeaf, out, path, paths)
    path?.pop()
    return n
  })
  return { kind: 'object', keys, children }
}

const LEAF: Node = { kind: 'leaf' }

/** The structure and leaves of a tree (no paths: the common, cheaper walk). */
const flat = <L>(tree: Tree<L>, isLeaf?: IsLeaf): { def: TreeDef; leaves: L[] } => {
  const out: unknown[] = []
  const node = walk(tree, leafTest(isLeaf), out, null, [])
  return { def: { numLeaves: out.length, node }, leaves: out as L[] }
}

const analyse = <L>(tree: Tree<L>, isLeaf?: IsLeaf): { def: TreeDef; items: [Path, L][] } => {
  const out: unknown[] = []
  const paths: Path[] = []
  const node = walk(tree, leafTest(isLeaf), out, [], paths)
  return { def: { numLeaves: out.length, node }, items: out.map((l, i): [Path, L] => [paths[i], l as L]) }
}

/**
 * The leaves of a tree in canonical order (depth first, object keys sorted).
 * @param isLeaf optional extra leaf test, tried before the default one
 * @example leaves({ b: [1, 2], a: 3 }) // [3, 1, 2]
 */
export const leaves = <L>(tree: Tree<L>, isLeaf?: IsLeaf): L[] => flat(tree, isLeaf).leaves

/**
 * The structure of a tree, without its leaves.
 * @example structure({ a: [1, 2], b: null }).numLeaves // 2
 */
export const structure = <L>(tree: Tree<L>, isLeaf?: IsLeaf): TreeDef => flat(tree, isLeaf).def

/**
 * The leaves and the structure of a tree; `unflatten(def, leaves)` rebuilds it.
 * @example const [ls, def] = flatten({ w: 1, b: [2, 3] }) // ls = [2, 3, 1]
 */
export const flatten = <L>(tree: Tree<L>, isLeaf?: IsLeaf): [L[], TreeDef] => {
  const { def, leaves } = flat(tree, isLeaf)
  return [leaves, def]
}

/**
 * Rebuilds a tree of structure `def` from leaves in canonical order.
 * @throws CoreError when the number of leaves differs from `def.numLeaves`
 * @example unflatten(structure({ a: 0, b: [0] }), [1, 2]) // { a: 1, b: [2] }
 */
export const unflatten = <L>(def: TreeDef, ls: readonly L[]): Tree<L> => {
  if (ls.length !== def.numLeaves)
    throw new CoreError(`Tree.unflatten: structure ${show(def)} has ${def.numLeaves} leaves, got ${ls.length}`)
  let i = 0
  const build = (n: Node): Tree<L> => {
    switch (n.kind) {
      case 'leaf':
        return ls[i++]
      case 'empty':
        return n.value
      case 'array':
        return n.children.map(build)
      case 'object':
        // fromEntries defines own properties, so even a '__proto__' key round-trips
        return Object.fromEntries(n.keys.map((k, j) => [k, build(n.children[j])]))
    }
  }
  return build(def.node)
}

/**
 * A tree of the same structure with `f` applied to every leaf (and its path).
 * @example map({ a: 1, b: [2] }, (x) => x * 10) // { a: 10, b: [20] }
 */
export const map = <A, B>(tree: Tree<A>, f: (leaf: A, path: Path) => B, isLeaf?: IsLeaf): Tree<B> => {
  const { def, items } = analyse(tree, isLeaf)
  return unflatten(def, items.map(([p, l]) => f(l, p)))
}

const describe = (n: Node): string =>
  n.kind === 'leaf'
    ? 'a leaf'
    : n.kind === 'empty'
      ? String(n.value)
      : n.kind === 'array'
        ? `an array of length ${n.children.length}`
        : `an object with keys [${n.keys.join(', ')}]`

/** The first place where two structures differ, or null when they agree. */
const firstDifference = (a: Node, b: Node, path: (string | number)[]): { path: Path; a: Node; b: Node } | null => {
  const same =
    a.kind === b.kind &&
    (a.kind !== 'array' || a.children.length === (b as typeof a).children.length) &&
    (a.kind !== 'object' || a.keys.join('\u0000') === (b as typeof a).keys.join('\u0000'))
  if (!same) return { path, a, b }
  if (a.kind === 'array' || a.kind === 'object') {
    const bc = (b as typeof a).children
    for (let i = 0; i < a.children.length; i++) {
      const d = firstDifference(a.children[i], bc[i], [...path, a.kind === 'array' ? i : a.keys[i]])
      if (d) return d
    }
  }
  return null
}

const showNode = (n: Node): string => {
  switch (n.kind) {
    case 'leaf':
      return '*'
    case 'empty':
      return String(n.value)
    case 'array':
      return `[${n.children.map(showNode).join(', ')}]`
    case 'object':
      return `{${n.keys.map((k, i) => `${k}: ${showNode(n.children[i])}`).join(', ')}}`
  }
}

/** True when two structures are the same (null and undefined count as the same empty node). */
const equals = (a: TreeDef, b: TreeDef): boolean => firstDifference(a.node, b.node, []) === null

/** A structure printed with `*` for leaves: `{b: [*, *], w: *}`. */
const show = (def: TreeDef): string => showNode(def.node)

/**
 * Functions on structures.
 * @example TreeDef.equals(structure({ a: 1, b: 2 }), structure({ b: 0, a: 0 })) // true
 * @example TreeDef.show(structure({ w: 1, b: [2, 3] })) // '{b: [*, *], w: *}'
 */
export const TreeDef = { equals, show } as const

/**
 * Combines the leaves of trees of the same structure: `f(leafOfTree0, leafOfTree1, …, path)`.
 * The first tree's structure is the result's.
 * @throws CoreError naming the first path where the structures differ and what each tree has there
 * @example zipWith([{ a: 1 }, { a: 2 }], (x, y) => x + y) // { a: 3 }
 */
export function zipWith<A, R>(trees: readonly [Tree<A>], f: (a: A, path: Path) => R, isLeaf?: IsLeaf): Tree<R>
export function zipWith<A, B, R>(
  trees: readonly [Tree<A>, Tree<B>],
  f: (a: A, b: B, path: Path) => R,
  isLeaf?: IsLeaf,
): Tree<R>
export function zipWith<A, B, C, R>(
  trees: readonly [Tree<A>, Tree<B>, Tree<C>],
  f: (a: A, b: B, c: C, path: Path) => R,
  isLeaf?: IsLeaf,
): Tree<R>
export function zipWith<T extends readonly unknown[], R>(
  trees: { readonly [K in keyof T]: Tree<T[K]> },
  f: (...args: [...T, Path]) => R,
  isLeaf?: IsLeaf,
): Tree<R>
export function zipWith(
  trees: readonly Tree<unknown>[],
  f: (...args: any[]) => unknown,
  isLeaf?: IsLeaf,
): Tree<unknown> {
  if (trees.length === 0) throw new CoreError('Tree.zipWith: needs at least one tree, got none')
  const analysed = trees.map((t) => analyse(t, isLeaf))
  const first = analysed[0]
  analysed.forEach(({ def }, i) => {
    const d = firstDifference(first.def.node, def.node, [])
    if (d)
      throw new CoreError(
        `Tree.zipWith: tree structures differ at ${pathString(d.path) || '<root>'}: tree 0 has ${describe(d.a)}, tree ${i} has ${describe(d.b)}`,
      )
  })
  const out = first.items.map(([p], j) => f(...analysed.map((a) => a.items[j][1]), p))
  return unflatten(first.def, out)
}

/**
 * The pairs of corresponding leaves of two trees of the same structure.
 * @throws CoreError as `zipWith` when the structures differ
 * @example zip({ a: 1, b: 2 }, { a: 'x', b: 'y' }) // [[1, 'x'], [2, 'y']]
 */
export const zip = <A, B>(a: Tree<A>, b: Tree<B>, isLeaf?: IsLeaf): Array<[A, B]> => {
  const pairs: Array<[A, B]> = []
  zipWith([a, b] as const, (x: A, y: B) => (pairs.push([x, y]), null), isLeaf)
  return pairs
}

/**
 * The path of every leaf, in canonical order.
 * @example paths({ a: [5, 6] }) // [['a', 0], ['a', 1]]
 */
export const paths = <L>(tree: Tree<L>, isLeaf?: IsLeaf): Path[] => analyse(tree, isLeaf).items.map(([p]) => p)

/**
 * Every leaf with its path, in canonical order.
 * @example leavesWithPath({ a: [5] }) // [[['a', 0], 5]]
 */
export const leavesWithPath = <L>(tree: Tree<L>, isLeaf?: IsLeaf): Array<[Path, L]> => analyse(tree, isLeaf).items

/**
 * A path written with dots, as in error messages and partition labels.
 * @example pathString(['layers', 0, 'attn', 'wq']) // 'layers.0.attn.wq'
 */
export const pathString = (path: Path): string => path.join('.')
