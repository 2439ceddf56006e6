/**
 * The optimizer state as tfjs named weights, and back. The state is an opaque
 * pytree: its tensors become one weight each (named by their path in the
 * tree), and everything else — the tree's shape, numbers, strings, nulls —
 * one JSON document in a string weight, so a state whose structure changes
 * (FRUGAL's blocks moving) round-trips as well as a fixed one.
 * @internal
 */
import type * as tfc from '@tensorflow/tfjs-core'
import { Tensor, Tree } from '@frugal-ts/core'
import { TfjsOptimizersError } from '../TfjsOptimizersError'

/** The name of the weight holding the document. */
export const META = 'frugal-ts/meta'
/** The prefix of the state's tensors' weight names. */
export const PREFIX = 'frugal-ts/state'
const FORMAT = 'frugal-ts/tfjs-optimizer-state'

/** A tree node with its tensors replaced by their index: `[tag, value]`. */
type Skeleton =
  | readonly ['t', number]
  | readonly ['a', readonly Skeleton[]]
  | readonly ['o', Readonly<Record<string, Skeleton>>]
  | readonly ['n', number | string]
  | readonly ['s', string]
  | readonly ['b', boolean]
  | readonly ['null']
  | readonly ['undefined']

/** A tensor of the state as it is saved. */
export interface LeafSpec {
  readonly name: string
  readonly dtype: Tensor['dtype']
  readonly shape: readonly number[]
}

/** The document of the meta weight. */
export interface Meta {
  readonly format: typeof FORMAT
  readonly version: 1
  /** the state's parameter keys (tfjs variable names when first stepped), in the order gradients came */
  readonly keys: readonly string[]
  /** the shape of each key's variable */
  readonly shapes: readonly (readonly number[])[]
  readonly skeleton: Skeleton
  readonly leaves: readonly LeafSpec[]
}

const isPlain = (x: object) => {
  const p = Object.getPrototypeOf(x)
  return p === Object.prototype || p === null
}

/** The skeleton of a state and its tensors in skeleton order, with their paths. */
export const skeletonOf = (state: unknown): { skeleton: Skeleton; tensors: Tensor[]; paths: string[] } => {
  const tensors: Tensor[] = []
  const paths: string[] = []
  const walk = (x: unknown, path: (string | number)[]): Skeleton => {
    if (x instanceof Tensor) {
      tensors.push(x)
      paths.push(Tree.pathString(path))
      return ['t', tensors.length - 1]
    }
    if (x === null) return ['null']
    if (x === undefined) return ['undefined']
    if (typeof x === 'number') return ['n', Number.isFinite(x) ? x : String(x)]
    if (typeof x === 'string') return ['s', x]
    if (typeof x === 'boolean') return ['b', x]
    if (Array.isArray(x)) return ['a', x.map((c, i) => walk(c, [...path, i]))]
    if (typeof x === 'object' && isPlain(x))
      return ['o', Object.fromEntries(Object.keys(x).sort().map((k) => [k, walk((x as Record<string, unknown>)[k], [...path, k])]))]
    throw new TfjsOptimizersError(
      `the optimizer state cannot be saved: ${typeof x === 'object' ? 'an instance of a class' : `a ${typeof x}`} at state.${Tree.pathString(path) || '<root>'} (expected tensors, numbers, strings, booleans, nulls, arrays and plain objects)`,
    )
  }
  return { skeleton: walk(state, []), tensors, paths }
}

/** The state of a skeleton, given its tensors in skeleton order. */
export const fromSkeleton = (s: Skeleton, tensors: readonly Tensor[]): unknown => {
  switch (s[0]) {
    case 't':
      return tensors[s[1]]
    case 'a':
      return s[1].map((c) => fromSkeleton(c, tensors))
    case 'o':
      return Object.fromEntries(Object.entries(s[1]).map(([k, c]) => [k, fromSkeleton(c, tensors)]))
    case 'n':
      return typeof s[1] === 'number' ? s[1] : Number(s[1])
    case 's':
    case 'b':
      return s[1]
    case 'null':
      return null
    case 'undefined':
      return undefined
  }
}

const bad = (what: string): never => {
  throw new TfjsOptimizersError(`the optimizer weights are not a frugal-ts optimizer state: ${what} (at weight '${META}')`)
}

/** Checks the skeleton's tags and tensor indices (each index below `count`). */
const checkSkeleton = (s: unknown, count: number, path: string): void => {
  if (!Array.isArray(s) || typeof s[0] !== 'string') return bad(`malformed node at state${path}`)
  const [tag, v] = s as [string, unknown]
  if (tag === 't') {
    if (!Number.isInteger(v) || (v as number) < 0 || (v as number) >= count) bad(`tensor index ${String(v)} out of range at state${path}`)
  } else if (tag === 'a') {
    if (!Array.isArray(v)) bad(`malformed array at state${path}`)
    ;(v as unknown[]).forEach((c, i) => checkSkeleton(c, count, `${path}.${i}`))
  } else if (tag === 'o') {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) bad(`malformed object at state${path}`)
    for (const [k, c] of Object.entries(v as object)) checkSkeleton(c, count, `${path}.${k}`)
  } else if (tag === 'n') {
    if (typeof v !== 'number' && v !== 'NaN' && v !== 'Infinity' && v !== '-Infinity') bad(`malformed number at state${path}`)
  } else if (tag === 's' || tag === 'b') {
    if (typeof v !== (tag === 's' ? 'string' : 'boolean')) bad(`malformed ${tag === 's' ? 'string' : 'boolean'} at state${path}`)
  } else if (tag !== 'null' && tag !== 'undefined') bad(`unknown node '${tag}' at state${path}`)
}

const isShape = (s: unknown): s is number[] => Array.isArray(s) && s.every((d) => Number.isInteger(d) && d >= 0)

/** Parses and checks the meta document. */
export const parseMeta = (text: string): Meta => {
  let m: unknown
  try {
    m = JSON.parse(text)
  } catch (e) {
    return bad(`its document is not JSON (${(e as Error).message})`)
  }
  const d = m as Partial<Meta>
  if (typeof m !== 'object' || m === null || d.format !== FORMAT) return bad(`expected format '${FORMAT}'`)
  if (d.version !== 1) bad(`version ${String(d.version)}, expected 1`)
  if (!Array.isArray(d.keys) || !d.keys.every((k) => typeof k === 'string')) bad('keys must be a list of strings')
  if (!Array.isArray(d.shapes) || d.shapes.length !== d.keys!.length || !d.shapes.every(isShape)) bad('shapes must be one shape per key')
  if (!Array.isArray(d.leaves)) bad('leaves must be a list')
  d.leaves!.forEach((l, i) => {
    if (typeof l?.name !== 'string' || !['float32', 'int32', 'bool'].includes(l.dtype) || !isShape(l.shape)) bad(`malformed leaf ${i}`)
  })
  checkSkeleton(d.skeleton, d.leaves!.length, '')
  return d as Meta
}

/** Checks a saved tensor against its spec. */
export const checkLeaf = (spec: LeafSpec, t: tfc.Tensor | undefined): tfc.Tensor => {
  if (t === undefined) throw new TfjsOptimizersError(`the optimizer weights lack the state tensor '${spec.name}' that '${META}' lists (at weight '${spec.name}')`)
  if (t.dtype !== spec.dtype || t.shape.length !== spec.shape.length || t.shape.some((d, i) => d !== spec.shape[i]))
    throw new TfjsOptimizersError(
      `the optimizer weight '${spec.name}' is ${t.dtype}[${t.shape.join(', ')}], expected ${spec.dtype}[${spec.shape.join(', ')}] (at weight '${spec.name}')`,
    )
  return t
}
