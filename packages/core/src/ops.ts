import { bind } from './bind'
import { CoreError } from './CoreError'
import type { DType } from './DType'
import { arange, full } from './creation'
import type { CompareOp } from './Primitive'
import * as S from './Shape'
import type { Shape } from './Shape'
import { Tensor } from './Tensor'

/**
 * A tensor or a JS number / boolean, which takes the dtype of the tensor it meets.
 * @example
 * add(tensor([1, 2]), 1) // the number 1 takes the tensor's dtype: [2, 3]
 */
export type TensorLike = Tensor | number | boolean

const lift = (x: TensorLike, like: Tensor | null, op: string): Tensor => {
  if (x instanceof Tensor) return x
  if (typeof x === 'number' || typeof x === 'boolean') return full([], x, like ? like.dtype : typeof x === 'boolean' ? 'bool' : 'float32')
  throw new CoreError(`${op}: expected a Tensor or a number, got ${x === null ? 'null' : typeof x}`)
}

const pair = (op: string, a: TensorLike, b: TensorLike): [Tensor, Tensor] => {
  const ta = a instanceof Tensor ? a : null
  const tb = b instanceof Tensor ? b : null
  return [lift(a, tb, op), lift(b, ta, op)]
}

// ---- elementwise unary primitives ----

/** −x. @example neg(tensor([1, -2])) // [-1, 2] */
export const neg = (x: Tensor): Tensor => bind('neg', [x], {})
/** eˣ. @example exp(tensor([0, 1])) // [1, 2.718] */
export const exp = (x: Tensor): Tensor => bind('exp', [x], {})
/** Natural logarithm. @example log(tensor([1, Math.E])) // [0, 1] */
export const log = (x: Tensor): Tensor => bind('log', [x], {})
/** Square root. @example sqrt(tensor([4, 9])) // [2, 3] */
export const sqrt = (x: Tensor): Tensor => bind('sqrt', [x], {})
/** Sine. @example sin(tensor([0, Math.PI / 2])) // [0, 1] */
export const sin = (x: Tensor): Tensor => bind('sin', [x], {})
/** Cosine. @example cos(tensor([0, Math.PI])) // [1, -1] */
export const cos = (x: Tensor): Tensor => bind('cos', [x], {})
/** Hyperbolic tangent. @example tanh(tensor([0, 100])) // [0, 1] */
export const tanh = (x: Tensor): Tensor => bind('tanh', [x], {})
/** −1, 0 or 1 by the sign of x. @example sign(tensor([-3, 0, 2])) // [-1, 0, 1] */
export const sign = (x: Tensor): Tensor => bind('sign', [x], {})

// ---- elementwise binary primitives (broadcasting) ----

/** a + b, broadcasting. @example add(tensor([1, 2]), 1) // [2, 3] */
export const add = (a: TensorLike, b: TensorLike): Tensor => bind('add', pair('add', a, b), {})
/** a · b, broadcasting. @example mul(tensor([1, 2]), tensor([[1], [10]])) // [[1, 2], [10, 20]] */
export const mul = (a: TensorLike, b: TensorLike): Tensor => bind('mul', pair('mul', a, b), {})
/** a / b, broadcasting (float32). @example div(tensor([1, 3]), 2) // [0.5, 1.5] */
export const div = (a: TensorLike, b: TensorLike): Tensor => bind('div', pair('div', a, b), {})
/** Elementwise maximum, broadcasting; NaN propagates. @example maximum(tensor([1, 5]), 3) // [3, 5] */
export const maximum = (a: TensorLike, b: TensorLike): Tensor => bind('max', pair('max', a, b), {})
/** aᵇ elementwise (float32). @example pow(tensor([2, 3]), 2) // [4, 9] */
export const pow = (a: TensorLike, b: TensorLike): Tensor => bind('pow', pair('pow', a, b), {})

const compare = (op: CompareOp) => (a: TensorLike, b: TensorLike): Tensor => bind('compare', pair(op, a, b), { op })
/** a < b as bool. @example less(tensor([1, 2, 3]), 2) // [true, false, false] */
export const less = compare('lt')
/** a ≤ b as bool. @example lessEqual(tensor([1, 2, 3]), 2) // [true, true, false] */
export const lessEqual = compare('le')
/** a > b as bool. @example greater(tensor([1, 2, 3]), 2) // [false, false, true] */
export const greater = compare('gt')
/** a ≥ b as bool. @example greaterEqual(tensor([1, 2, 3]), 2) // [false, true, true] */
export const greaterEqual = compare('ge')
/** a = b as bool. @example equal(tensor([1, 2, 3]), 2) // [false, true, false] */
export const equal = compare('eq')
/** a ≠ b as bool. @example notEqual(tensor([1, 2, 3]), 2) // [true, false, true] */
export const notEqual = compare('ne')

/** `x` where `cond` holds, else `y` (broadcasting). @example where(greater(x, 0), x, 0) */
export const where = (cond: Tensor, x: TensorLike, y: TensorLike): Tensor => {
  const [a, b] = pair('where', x, y)
  return bind('where', [cond, a, b], {})
}

/** Converts to another dtype (float→int truncates; anything→bool is x ≠ 0). @example cast(tensor([1.7, -1.7]), 'int32') // [1, -1] */
export const cast = (x: Tensor, dtype: DType): Tensor => (x.dtype === dtype ? x : bind('cast', [x], { dtype }))

// ---- composites ----

/** a − b. @example sub(tensor([3, 4]), 1) // [2, 3] */
export const sub = (a: TensorLike, b: TensorLike): Tensor => {
  const [x, y] = pair('sub', a, b)
  return add(x, neg(y))
}
/** Elementwise minimum. @example minimum(tensor([1, 5]), 3) // [1, 3] */
export const minimum = (a: TensorLike, b: TensorLike): Tensor => {
  const [x, y] = pair('minimum', a, b)
  return neg(maximum(neg(x), neg(y)))
}
/** x². @example square(tensor([-2, 3])) // [4, 9] */
export const square = (x: Tensor): Tensor => mul(x, x)
/** |x|. @example abs(tensor([-2, 3])) // [2, 3] */
export const abs = (x: Tensor): Tensor => mul(x, sign(x))
/** 1/x. @example reciprocal(tensor([2, 4])) // [0.5, 0.25] */
export const reciprocal = (x: Tensor): Tensor => div(1, x)
/** 1/√x. @example rsqrt(tensor([4, 16])) // [0.5, 0.25] */
export const rsqrt = (x: Tensor): Tensor => div(1, sqrt(x))
/** log(1 + x). @example log1p(tensor([0, Math.E - 1])) // [0, 1] */
export const log1p = (x: Tensor): Tensor => log(add(x, 1))
/** 1 / (1 + e⁻ˣ). @example sigmoid(tensor([0])) // [0.5] */
export const sigmoid = (x: Tensor): Tensor => div(1, add(exp(neg(x)), 1))
/** max(x, 0). @example relu(tensor([-1, 2])) // [0, 2] */
export const relu = (x: Tensor): Tensor => maximum(x, 0)
/** Clamps into [lo, hi]. @example clipByValue(tensor([-5, 0.5, 5]), -1, 1) // [-1, 0.5, 1] */
export const clipByValue = (x: Tensor, lo: TensorLike, hi: TensorLike): Tensor => minimum(maximum(x, lo), hi)
/** Logical not of a bool tensor. @example logicalNot(tensor([true, false])) // [false, true] */
export const logicalNot = (x: Tensor): Tensor => equal(x, false)
/** Logical and of bool tensors. @example logicalAnd(tensor([true, true]), tensor([true, false])) // [true, false] */
export const logicalAnd = (a: Tensor, b: Tensor): Tensor => where(a, b, false)
/** Logical or of bool tensors. @example logicalOr(tensor([false, false]), tensor([true, false])) // [true, false] */
export const logicalOr = (a: Tensor, b: Tensor): Tensor => where(a, true, b)
/** True where x is finite (not NaN, not ±∞). @example isFinite(tensor([1, Infinity, NaN])) // [true, false, false] */
export const isFinite = (x: Tensor): Tensor => less(abs(x), Infinity)
/** True where x is NaN. @example isNaN(tensor([1, NaN])) // [false, true] */
export const isNaN = (x: Tensor): Tensor => notEqual(x, x)

// ---- reductions ----

/**
 * Axes argument of reductions: one axis, several, or all when omitted.
 * @example
 * sum(tensor([[1, 2], [3, 4]]), [0]) // [4, 6]; sum(x) with no axes reduces all of them
 */
export type Axes = number | readonly number[] | undefined

const normAxes = (op: string, x: Tensor, axes: Axes): number[] => {
  const list = axes === undefined ? x.shape.map((_, i) => i) : typeof axes === 'number' ? [axes] : [...axes]
  return list.map((a) => S.normAxis(op, a, x.rank))
}

const keep = (x: Tensor, y: Tensor, axes: number[], keepDims: boolean): Tensor =>
  keepDims ? reshape(y, x.shape.map((d, i) => (axes.includes(i) ? 1 : d))) : y

/** Sum over `axes` (all by default). @example sum(tensor([[1, 2], [3, 4]]), 0) // [4, 6] */
export const sum = (x: Tensor, axes?: Axes, keepDims = false): Tensor => {
  const ax = normAxes('sum', x, axes)
  return keep(x, bind('reduceSum', [x], { axes: ax }), ax, keepDims)
}
/** Maximum over `axes` (all by default). @example max(tensor([[1, 5], [3, 2]]), 1) // [5, 3] */
export const max = (x: Tensor, axes?: Axes, keepDims = false): Tensor => {
  const ax = normAxes('max', x, axes)
  return keep(x, bind('reduceMax', [x], { axes: ax }), ax, keepDims)
}
/** Minimum over `axes` (all by default). @example min(tensor([[1, 5], [3, 2]]), 1) // [1, 2] */
export const min = (x: Tensor, axes?: Axes, keepDims = false): Tensor => neg(max(neg(x), axes, keepDims))
/** Mean over `axes` (all by default). @example mean(tensor([[1, 2], [3, 4]]), 0) // [2, 3] */
export const mean = (x: Tensor, axes?: Axes, keepDims = false): Tensor => {
  const ax = normAxes('mean', x, axes)
  const n = ax.reduce((k, a) => k * x.shape[a], 1)
  return div(sum(x, ax, keepDims), n)
}
/** Index of the first maximum along `axis` (int32). @example argmax(tensor([[1, 5], [3, 2]])) // [1, 0] (int32) */
export const argmax = (x: Tensor, axis = -1): Tensor => bind('argmax', [x], { axis: S.normAxis('argmax', axis, x.rank) })

// ---- movement ----

/**
 * Same data, new shape; one entry may be −1 (inferred).
 * @example reshape(arange(6), [2, -1]) // int32[2,3]
 */
export const reshape = (x: Tensor, shape: Shape): Tensor => {
  const holes = shape.filter((d) => d === -1).length
  let target = [...shape]
  if (holes > 1) throw new CoreError(`reshape: ${S.show(x.shape)} to ${S.show(shape)}: at most one -1 allowed`)
  if (holes === 1) {
    const known = S.size(shape.filter((d) => d !== -1))
    if (known === 0 || x.size % known !== 0)
      throw new CoreError(`reshape: cannot reshape ${S.show(x.shape)} (${x.size} elements) to ${S.show(shape)}`)
    target = shape.map((d) => (d === -1 ? x.size / known : d))
  }
  return S.equals(target, x.shape) ? x : bind('reshape', [x], { shape: target })
}
/** Permutes axes (reverses them by default). @example transpose(zeros([2, 3])).shape // [3, 2] */
export const transpose = (x: Tensor, perm?: readonly number[]): Tensor => {
  const p = perm ? perm.map((a) => S.normAxis('transpose', a, x.rank)) : x.shape.map((_, i) => x.rank - 1 - i)
  return p.every((d, i) => d === i) && p.length === x.rank ? x : bind('transpose', [x], { perm: p })
}
/** Swaps the last two axes. @example matrixTranspose(tensor([[1, 2, 3]])) // [[1], [2], [3]] */
export const matrixTranspose = (x: Tensor): Tensor => {
  if (x.rank < 2) throw new CoreError(`matrixTranspose: needs rank >= 2, got ${S.show(x.shape)}`)
  const perm = x.shape.map((_, i) => i)
  ;[perm[x.rank - 2], perm[x.rank - 1]] = [perm[x.rank - 1], perm[x.rank - 2]]
  return transpose(x, perm)
}
/** Numpy broadcast to `shape`. @example broadcastTo(tensor([1, 2]), [2, 2]) // [[1, 2], [1, 2]] */
export const broadcastTo = (x: Tensor, shape: Shape): Tensor =>
  S.equals(x.shape, shape) ? x : bind('broadcast', [x], { shape: [...shape] })
/** Inserts a length-1 axis at `axis`. @example expandDims(tensor([1, 2]), 0).shape // [1, 2] */
export const expandDims = (x: Tensor, axis: number): Tensor => {
  const a = S.normAxis('expandDims', axis, x.rank + 1)
  return reshape(x, [...x.shape.slice(0, a), 1, ...x.shape.slice(a)])
}
/** Removes length-1 axes (all of them by default). @example squeeze(tensor([[1, 2]])).shape // [2] */
export const squeeze = (x: Tensor, axes?: Axes): Tensor => {
  const ax = axes === undefined ? x.shape.flatMap((d, i) => (d === 1 ? [i] : [])) : normAxes('squeeze', x, axes)
  for (const a of ax) if (x.shape[a] !== 1) throw new CoreError(`squeeze: axis ${a} of ${S.show(x.shape)} has length ${x.shape[a]}, not 1`)
  return reshape(x, x.shape.filter((_, i) => !ax.includes(i)))
}
/**
 * The box starting at `start` with `size` (−1: to the end).
 * @example slice(x, [0, 1], [-1, 2])
 */
export const slice = (x: Tensor, start: readonly number[], size?: readonly number[]): Tensor => {
  if (start.length !== x.rank) throw new CoreError(`slice: start [${start.join(',')}] needs ${x.rank} entries for ${S.show(x.shape)}`)
  const sz = size ?? x.shape.map(() => -1)
  const full = sz.map((d, i) => (d === -1 ? x.shape[i] - start[i] : d))
  if (full.every((d, i) => d === x.shape[i]) && start.every((s) => s === 0)) return x
  return bind('slice', [x], { start: [...start], size: full })
}
/** Zero padding: `[lo, hi]` per axis. @example pad(x, [[1, 1], [0, 2]]) */
export const pad = (x: Tensor, widths: readonly (readonly [number, number])[]): Tensor => {
  if (widths.length !== x.rank) throw new CoreError(`pad: ${widths.length} pad widths for ${S.show(x.shape)} (rank ${x.rank})`)
  return bind('pad', [x], { lo: widths.map((w) => w[0]), hi: widths.map((w) => w[1]) })
}
/** Joins tensors along `axis`. @example concat([tensor([1]), tensor([2, 3])]) // [1, 2, 3] */
export const concat = (xs: readonly Tensor[], axis = 0): Tensor => {
  if (xs.length === 0) throw new CoreError('concat: needs at least one tensor')
  if (xs.length === 1) return xs[0]
  return bind('concat', xs, { axis: S.normAxis('concat', axis, xs[0].rank) })
}
/** Stacks same-shaped tensors along a new axis. @example stack([tensor([1, 2]), tensor([3, 4])]) // [[1, 2], [3, 4]] */
export const stack = (xs: readonly Tensor[], axis = 0): Tensor => {
  if (xs.length === 0) throw new CoreError('stack: needs at least one tensor')
  return concat(xs.map((x) => expandDims(x, axis)), axis)
}
/** `jnp.take`: rows/entries of `x` at int32 `indices` along `axis`. @example take(table, tokens, 0) */
export const take = (x: Tensor, indices: Tensor, axis = 0): Tensor =>
  bind('gather', [x, indices], { axis: S.normAxis('take', axis, x.rank) })
/**
 * Adds `updates` into a zero tensor with `size` entries at `axis`, at `indices` (inverse of take).
 * @example
 * scatterAdd(tensor([0, 2, 0], 'int32'), tensor([1, 2, 3]), 0, 3) // [4, 0, 2]
 */
export const scatterAdd = (indices: Tensor, updates: Tensor, axis: number, size: number): Tensor =>
  bind('scatterAdd', [indices, updates], { axis, size })
/**
 * Batched matrix product with broadcast batch axes; 1-D operands are treated as row/column vectors.
 * @example
 * matmul(tensor([[1, 2]]), tensor([[3], [4]])) // [[11]]
 */
export const matmul = (a: Tensor, b: Tensor): Tensor => {
  if (a.rank === 1 && b.rank === 1) return sum(mul(a, b))
  if (a.rank === 1) return squeeze(matmul(reshape(a, [1, -1]), b), -2)
  if (b.rank === 1) return squeeze(matmul(a, reshape(b, [-1, 1])), -1)
  return bind('matmul', [a, b], {})
}
/**
 * One-hot encoding of int32 `labels` with `depth` classes along a new last axis, float32.
 * @example
 * oneHot(tensor([0, 2], 'int32'), 3) // [[1, 0, 0], [0, 0, 1]]
 */
export const oneHot = (labels: Tensor, depth: number): Tensor =>
  cast(equal(expandDims(labels, -1), arange(depth)), 'float32')
