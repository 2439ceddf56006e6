import { CoreError } from './CoreError'
import type { DType } from './DType'
import * as S from './Shape'
import type { Shape } from './Shape'

/**
 * The abstract value of a tensor: what tracing knows of it without its data.
 * @example
 * const a: Aval = { shape: [2, 3], dtype: 'float32' } // what tracers carry instead of data
 */
export interface Aval {
  readonly shape: Shape
  readonly dtype: DType
}

/**
 * The comparison operators of the `compare` primitive.
 * @example
 * bind('compare', [tensor([1]), tensor([2])], { op: 'lt' }) // [true]: what less(a, b) does
 */
export type CompareOp = 'lt' | 'le' | 'gt' | 'ge' | 'eq' | 'ne'

type None = Record<string, never>

/**
 * The closed primitive set and the parameters each one takes. Everything else
 * (sub, mean, softmax, relu, losses) is composed from these in `ops`.
 * Binary primitives and `where` broadcast their operands (numpy rules).
 * @example const p: PrimitiveParams['sum'] = { axes: [0] } // the params of one primitive
 */
export interface PrimitiveParams {
  neg: None
  exp: None
  log: None
  sqrt: None
  sin: None
  cos: None
  tanh: None
  sign: None
  add: None
  mul: None
  div: None
  max: None
  pow: None
  compare: { readonly op: CompareOp }
  where: None
  /** sum over `axes`, which are removed from the shape */
  reduceSum: { readonly axes: readonly number[] }
  /** max over `axes`, which are removed from the shape */
  reduceMax: { readonly axes: readonly number[] }
  /** index of the (first) maximum along `axis`, removed from the shape; int32 */
  argmax: { readonly axis: number }
  reshape: { readonly shape: Shape }
  transpose: { readonly perm: readonly number[] }
  /** numpy broadcast to `shape` (leading axes may be added) */
  broadcast: { readonly shape: Shape }
  /** contiguous box `start .. start+size` */
  slice: { readonly start: readonly number[]; readonly size: readonly number[] }
  /** zero padding, `lo[i]` before and `hi[i]` after axis i */
  pad: { readonly lo: readonly number[]; readonly hi: readonly number[] }
  /** joins n ≥ 1 inputs along `axis` */
  concat: { readonly axis: number }
  /** `take(x, indices, axis)`: shape x[:axis] ++ indices.shape ++ x[axis+1:] */
  gather: { readonly axis: number }
  /** inverse of gather: inputs (indices, updates); output has `size` at `axis`, duplicates add */
  scatterAdd: { readonly axis: number; readonly size: number }
  /** batched matmul [..., m, k] × [..., k, n] with broadcast batch axes */
  matmul: None
  cast: { readonly dtype: DType }
}

/** The name of a primitive. @example const p: Primitive = 'matmul' */
export type Primitive = keyof PrimitiveParams

/**
 * A table with one entry per primitive: a missing entry is a compile error.
 * @example
 * // one name per primitive, e.g. for a backend's kernel list; `{ neg: 'neg' }` alone does not compile
 * const names = Object.fromEntries(Object.keys(shapeRules).map((p) => [p, p])) as PrimitiveTable<{ [P in Primitive]: string }>
 */
export type PrimitiveTable<F extends { [P in Primitive]: unknown }> = { readonly [P in Primitive]: F[P] }

/** The unary elementwise primitives. @example unaryPrimitives.includes('exp') // true */
export const unaryPrimitives = ['neg', 'exp', 'log', 'sqrt', 'sin', 'cos', 'tanh', 'sign'] as const
/** The binary elementwise primitives (all broadcast). @example binaryPrimitives // ['add', 'mul', 'div', 'max', 'pow'] */
export const binaryPrimitives = ['add', 'mul', 'div', 'max', 'pow'] as const
/** A unary elementwise primitive. @example const p: UnaryPrimitive = 'tanh' */
export type UnaryPrimitive = (typeof unaryPrimitives)[number]
/** A binary elementwise primitive. @example const p: BinaryPrimitive = 'mul' */
export type BinaryPrimitive = (typeof binaryPrimitives)[number]

const fail = (op: string, avals: readonly Aval[], what: string): never => {
  throw new CoreError(`${op}: ${avals.map((a) => `${a.dtype}${S.show(a.shape)}`).join(' x ')}: ${what}`)
}

const floatOnly = new Set<Primitive>(['exp', 'log', 'sqrt', 'sin', 'cos', 'tanh', 'div', 'pow'])

const arity = (op: Primitive, xs: readonly Aval[], n: number) => {
  if (xs.length !== n) fail(op, xs, `takes ${n} input${n === 1 ? '' : 's'}, got ${xs.length}`)
}

const unary = (op: Primitive) => (xs: readonly Aval[]): Aval => {
  arity(op, xs, 1)
  const [x] = xs
  if (x.dtype === 'bool' || (floatOnly.has(op) && x.dtype !== 'float32'))
    fail(op, xs, `needs ${floatOnly.has(op) ? 'float32' : 'float32 or int32'}, got ${x.dtype}`)
  return x
}

const binary = (op: Primitive) => (xs: readonly Aval[]): Aval => {
  arity(op, xs, 2)
  const [a, b] = xs
  if (a.dtype !== b.dtype) fail(op, xs, `dtypes ${a.dtype} and ${b.dtype} differ`)
  if (a.dtype === 'bool' || (floatOnly.has(op) && a.dtype !== 'float32'))
    fail(op, xs, `needs ${floatOnly.has(op) ? 'float32' : 'float32 or int32'}, got ${a.dtype}`)
  return { shape: S.broadcastShapes(op, a.shape, b.shape), dtype: a.dtype }
}

const checkAxes = (op: string, xs: readonly Aval[], axes: readonly number[]) => {
  const rank = xs[0].shape.length
  const seen = new Set<number>()
  for (const a of axes) {
    if (!Number.isInteger(a) || a < 0 || a >= rank) fail(op, xs, `axis ${a} is out of range for rank ${rank}`)
    if (seen.has(a)) fail(op, xs, `axis ${a} repeated`)
    seen.add(a)
  }
}

const reduce = (op: Primitive) => (xs: readonly Aval[], p: { readonly axes: readonly number[] }): Aval => {
  arity(op, xs, 1)
  checkAxes(op, xs, p.axes)
  if (xs[0].dtype === 'bool') fail(op, xs, 'needs float32 or int32, got bool')
  if (op === 'reduceMax') for (const a of p.axes) if (xs[0].shape[a] === 0) fail(op, xs, `max over empty axis ${a}`)
  return { shape: xs[0].shape.filter((_, i) => !p.axes.includes(i)), dtype: xs[0].dtype }
}

const intList = (xs: readonly number[]) => xs.every((d) => Number.isInteger(d) && d >= 0)

/**
 * Shape and dtype rule of every primitive: the output's aval, or a CoreError naming op and shapes.
 * @example
 * shapeRules.matmul([{ shape: [2, 3], dtype: 'float32' }, { shape: [3, 4], dtype: 'float32' }], {}) // { shape: [2, 4], dtype: 'float32' }
 */
export const shapeRules: { readonly [P in Primitive]: (inputs: readonly Aval[], params: PrimitiveParams[P]) => Aval } = {
  neg: unary('neg'),
  exp: unary('exp'),
  log: unary('log'),
  sqrt: unary('sqrt'),
  sin: unary('sin'),
  cos: unary('cos'),
  tanh: unary('tanh'),
  sign: unary('sign'),
  add: binary('add'),
  mul: binary('mul'),
  div: binary('div'),
  max: binary('max'),
  pow: binary('pow'),
  compare: (xs, p) => {
    arity('compare', xs, 2)
    const [a, b] = xs
    if (a.dtype !== b.dtype) fail(`compare(${p.op})`, xs, `dtypes ${a.dtype} and ${b.dtype} differ`)
    return { shape: S.broadcastShapes(`compare(${p.op})`, a.shape, b.shape), dtype: 'bool' }
  },
  where: (xs) => {
    arity('where', xs, 3)
    const [c, a, b] = xs
    if (c.dtype !== 'bool') fail('where', xs, `condition must be bool, got ${c.dtype}`)
    if (a.dtype !== b.dtype) fail('where', xs, `branch dtypes ${a.dtype} and ${b.dtype} differ`)
    return { shape: S.broadcastShapes('where', c.shape, a.shape, b.shape), dtype: a.dtype }
  },
  reduceSum: reduce('reduceSum'),
  reduceMax: reduce('reduceMax'),
  argmax: (xs, p) => {
    arity('argmax', xs, 1)
    checkAxes('argmax', xs, [p.axis])
    if (xs[0].shape[p.axis] === 0) fail('argmax', xs, `argmax over empty axis ${p.axis}`)
    return { shape: xs[0].shape.filter((_, i) => i !== p.axis), dtype: 'int32' }
  },
  reshape: (xs, p) => {
    arity('reshape', xs, 1)
    if (!S.isShape(p.shape) || S.size(p.shape) !== S.size(xs[0].shape))
      fail('reshape', xs, `cannot reshape ${S.size(xs[0].shape)} elements to ${S.show(p.shape)}`)
    return { shape: [...p.shape], dtype: xs[0].dtype }
  },
  transpose: (xs, p) => {
    arity('transpose', xs, 1)
    const r = xs[0].shape.length
    const sorted = [...p.perm].sort((a, b) => a - b)
    if (p.perm.length !== r || sorted.some((d, i) => d !== i))
      fail('transpose', xs, `perm [${p.perm.join(',')}] is not a permutation of ${r} axes`)
    return { shape: p.perm.map((d) => xs[0].shape[d]), dtype: xs[0].dtype }
  },
  broadcast: (xs, p) => {
    arity('broadcast', xs, 1)
    const s = xs[0].shape
    const ok =
      S.isShape(p.shape) &&
      p.shape.length >= s.length &&
      s.every((d, i) => d === 1 || d === p.shape[p.shape.length - s.length + i])
    if (!ok) fail('broadcast', xs, `cannot broadcast to ${S.show(p.shape)}`)
    return { shape: [...p.shape], dtype: xs[0].dtype }
  },
  slice: (xs, p) => {
    arity('slice', xs, 1)
    const s = xs[0].shape
    const ok =
      p.start.length === s.length &&
      p.size.length === s.length &&
      intList(p.start) &&
      intList(p.size) &&
      s.every((d, i) => p.start[i] + p.size[i] <= d)
    if (!ok) fail('slice', xs, `start [${p.start.join(',')}] size [${p.size.join(',')}] is out of bounds`)
    return { shape: [...p.size], dtype: xs[0].dtype }
  },
  pad: (xs, p) => {
    arity('pad', xs, 1)
    const s = xs[0].shape
    if (p.lo.length !== s.length || p.hi.length !== s.length || !intList(p.lo) || !intList(p.hi))
      fail('pad', xs, `lo [${p.lo.join(',')}] hi [${p.hi.join(',')}] must be ${s.length} non-negative integers each`)
    return { shape: s.map((d, i) => d + p.lo[i] + p.hi[i]), dtype: xs[0].dtype }
  },
  concat: (xs, p) => {
    if (xs.length === 0) throw new CoreError('concat: needs at least one input')
    const r = xs[0].shape.length
    if (!Number.isInteger(p.axis) || p.axis < 0 || p.axis >= r) fail('concat', xs, `axis ${p.axis} is out of range for rank ${r}`)
    for (const x of xs) {
      if (x.dtype !== xs[0].dtype) fail('concat', xs, 'dtypes differ')
      if (x.shape.length !== r || x.shape.some((d, i) => i !== p.axis && d !== xs[0].shape[i]))
        fail('concat', xs, `shapes differ off axis ${p.axis}`)
    }
    const shape = [...xs[0].shape]
    shape[p.axis] = xs.reduce((n, x) => n + x.shape[p.axis], 0)
    return { shape, dtype: xs[0].dtype }
  },
  gather: (xs, p) => {
    arity('gather', xs, 2)
    const [x, idx] = xs
    if (idx.dtype !== 'int32') fail('gather', xs, `indices must be int32, got ${idx.dtype}`)
    if (!Number.isInteger(p.axis) || p.axis < 0 || p.axis >= x.shape.length)
      fail('gather', xs, `axis ${p.axis} is out of range for rank ${x.shape.length}`)
    return { shape: [...x.shape.slice(0, p.axis), ...idx.shape, ...x.shape.slice(p.axis + 1)], dtype: x.dtype }
  },
  scatterAdd: (xs, p) => {
    arity('scatterAdd', xs, 2)
    const [idx, u] = xs
    if (idx.dtype !== 'int32') fail('scatterAdd', xs, `indices must be int32, got ${idx.dtype}`)
    const k = idx.shape.length
    const ok =
      Number.isInteger(p.axis) &&
      p.axis >= 0 &&
      p.axis + k <= u.shape.length &&
      idx.shape.every((d, i) => d === u.shape[p.axis + i]) &&
      Number.isInteger(p.size) &&
      p.size >= 0
    if (!ok) fail('scatterAdd', xs, `updates must have the indices' shape at axis ${p.axis}`)
    return { shape: [...u.shape.slice(0, p.axis), p.size, ...u.shape.slice(p.axis + k)], dtype: u.dtype }
  },
  matmul: (xs) => {
    arity('matmul', xs, 2)
    const [a, b] = xs
    if (a.shape.length < 2 || b.shape.length < 2) fail('matmul', xs, 'both operands need rank >= 2')
    if (a.dtype !== b.dtype) fail('matmul', xs, `dtypes ${a.dtype} and ${b.dtype} differ`)
    if (a.dtype !== 'float32') fail('matmul', xs, `needs float32, got ${a.dtype}`)
    const [m, k] = a.shape.slice(-2)
    const [k2, n] = b.shape.slice(-2)
    if (k !== k2)
      throw new CoreError(`matmul: ${S.show(a.shape)} x ${S.show(b.shape)}: inner dimensions ${k} and ${k2} differ`)
    const batch = S.broadcastShapes('matmul', a.shape.slice(0, -2), b.shape.slice(0, -2))
    return { shape: [...batch, m, n], dtype: 'float32' }
  },
  cast: (xs, p) => {
    arity('cast', xs, 1)
    return { shape: xs[0].shape, dtype: p.dtype }
  },
}

/**
 * The output aval of `prim` on `inputs`, or a CoreError that names the op and the shapes.
 * @example
 * inferAval('add', [{ shape: [2, 1], dtype: 'float32' }, { shape: [3], dtype: 'float32' }], {}) // { shape: [2, 3], dtype: 'float32' }
 */
export const inferAval = <P extends Primitive>(prim: P, inputs: readonly Aval[], params: PrimitiveParams[P]): Aval =>
  (shapeRules[prim] as (i: readonly Aval[], p: PrimitiveParams[P]) => Aval)(inputs, params)
