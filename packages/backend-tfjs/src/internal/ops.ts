/**
 * Every frugal-ts primitive as tfjs ops, with the semantics of the reference
 * `cpu` backend. These are raw: they create tfjs intermediates freely and must
 * run inside a `tf.tidy` (the eager kernels wrap each call in one, compiled
 * programs run all of them in one).
 *
 * Where tfjs differs from the reference, the op is composed so that it does
 * not (measured on tfjs 4.22, cpu and wasm):
 * - cast float32 → int32 truncates and saturates, NaN → 0 (tfjs wraps modulo
 *   2³² and tfjs-wasm maps NaN to −2³¹): clip, cast, then fix the top and NaN;
 * - cast → bool is `x ≠ 0` (tfjs-wasm truncates to a byte);
 * - `where` on bool branches uses logical ops (tfjs-wasm's Select is wrong on bool);
 * - sums over an empty axis are zeros (tfjs-wasm returns garbage), and every
 *   op with an empty result returns zeros without calling tfjs;
 * - int32 `mul` on tfjs-cpu multiplies 16-bit halves so that it wraps exactly
 *   like `Math.imul` (tfjs-cpu rounds the product through a double first);
 * - `scatterAdd` is `tf.scatterND` (tfjs-wasm has no UnsortedSegmentSum), its
 *   indices checked on tfjs-wasm (whose ScatterNd drops out-of-range ones);
 * - ordering comparisons of bool operands compare them as int32;
 * - float32 `sign` on tfjs-wasm is `step(x) − step(−x)`: tfjs-wasm's Sign
 *   returns 0 for |x| below about 1.2e-7 (and NaN stays NaN this way).
 * What stays different is listed in the package README (NaN corners of sign and max).
 * @internal
 */
import { CoreError, Shape as S } from '@frugal-ts/core'
import type { Aval, DType, Primitive, PrimitiveParams } from '@frugal-ts/core'
import { linear } from './matmul'
import type { Tf, TfTensor } from './types'

/** One primitive on tfjs tensors; must run inside `tf.tidy`. */
export type RawOp<P extends Primitive> = (xs: readonly TfTensor[], avals: readonly Aval[], params: PrimitiveParams[P], out: Aval) => TfTensor

/** One raw op per primitive: a missing one is a compile error. */
export type RawOps = { readonly [P in Primitive]: RawOp<P> }

/** The largest float32 below 2³¹. */
const belowTwo31 = 2147483520

/** The raw ops over the tfjs namespace `tf`. */
export const rawOps = (tf: Tf): RawOps => {
  const scalar = (v: number, dtype: DType) => tf.scalar(v, dtype)

  /** float32 → int32 as the reference: truncate toward 0, saturate at ±2³¹, NaN → 0 */
  const toInt32 = (x: TfTensor): TfTensor => {
    const t = tf.cast(tf.clipByValue(x, -2147483648, belowTwo31), 'int32')
    const top = tf.where(tf.greaterEqual(x, scalar(2147483648, 'float32')), scalar(2147483647, 'int32'), t)
    return tf.where(tf.notEqual(x, x), scalar(0, 'int32'), top)
  }

  /** int32 a·b modulo 2³² from 16-bit halves: every partial product is exact in a double */
  const imul = (a: TfTensor, b: TfTensor): TfTensor => {
    const base = scalar(65536, 'int32')
    const [la, lb] = [tf.mod(a, base), tf.mod(b, base)]
    const [ha, hb] = [tf.floorDiv(a, base), tf.floorDiv(b, base)]
    return tf.add(tf.mul(la, lb), tf.mul(tf.add(tf.mul(ha, lb), tf.mul(la, hb)), base))
  }

  const asInt = (x: TfTensor): TfTensor => (x.dtype === 'bool' ? tf.cast(x, 'int32') : x)

  /** tfjs-wasm's ScatterNd drops out-of-range indices silently (tfjs-cpu throws): check them as the reference does */
  const checkIndices = (idx: TfTensor, n: number, axis: number): void => {
    const ix = idx.dataSync()
    for (let i = 0; i < ix.length; i++)
      if (!(ix[i] >= 0 && ix[i] < n))
        throw new CoreError(`scatterAdd: index ${ix[i]} (at position ${i} of the indices) is out of range [0, ${n}) for axis ${axis} of size ${n}`)
  }

  return {
    neg: ([x]) => tf.neg(x),
    exp: ([x]) => tf.exp(x),
    log: ([x]) => tf.log(x),
    sqrt: ([x]) => tf.sqrt(x),
    sin: ([x]) => tf.sin(x),
    cos: ([x]) => tf.cos(x),
    tanh: ([x]) => tf.tanh(x),
    sign: ([x], [a]) => (a.dtype === 'float32' && tf.getBackend() === 'wasm' ? tf.sub(tf.step(x), tf.step(tf.neg(x))) : tf.sign(x)),
    add: ([a, b]) => tf.add(a, b),
    mul: ([a, b], [x]) => (x.dtype === 'int32' && tf.getBackend() === 'cpu' ? imul(a, b) : tf.mul(a, b)),
    div: ([a, b]) => tf.div(a, b),
    max: ([a, b]) => tf.maximum(a, b),
    pow: ([a, b]) => tf.pow(a, b),
    compare: ([a, b], _, p) => {
      switch (p.op) {
        case 'eq':
          return tf.equal(a, b)
        case 'ne':
          return tf.notEqual(a, b)
        case 'lt':
          return tf.less(asInt(a), asInt(b))
        case 'le':
          return tf.lessEqual(asInt(a), asInt(b))
        case 'gt':
          return tf.greater(asInt(a), asInt(b))
        case 'ge':
          return tf.greaterEqual(asInt(a), asInt(b))
      }
    },
    where: ([c, a, b], avals) =>
      avals[1].dtype === 'bool' ? tf.logicalOr(tf.logicalAnd(c, a), tf.logicalAnd(tf.logicalNot(c), b)) : tf.where(c, a, b),
    reduceSum: ([x], [a], p, out) => {
      if (p.axes.length === 0) return tf.clone(x)
      if (p.axes.some((ax) => a.shape[ax] === 0)) return tf.zeros(out.shape as number[], out.dtype)
      return tf.sum(x, [...p.axes])
    },
    reduceMax: ([x], _, p) => (p.axes.length === 0 ? tf.clone(x) : tf.max(x, [...p.axes])),
    // tfjs-webgpu returns shape [1] for a rank-1 input: reshape to the rule's output shape
    argmax: ([x], _, p, out) => tf.reshape(tf.argMax(x, p.axis), out.shape as number[]),
    reshape: ([x], _, p) => tf.reshape(x, [...p.shape]),
    transpose: ([x], _, p) => tf.transpose(x, [...p.perm]),
    broadcast: ([x], _, p) => tf.broadcastTo(x, [...p.shape]),
    slice: ([x], _, p) => (p.start.length === 0 ? tf.clone(x) : tf.slice(x, [...p.start], [...p.size])),
    pad: ([x], _, p) => (p.lo.length === 0 ? tf.clone(x) : tf.pad(x, p.lo.map((lo, i) => [lo, p.hi[i]] as [number, number]))),
    concat: (xs, _, p) => tf.concat([...xs], p.axis),
    gather: ([x, idx], _, p) => tf.gather(x, idx, p.axis),
    scatterAdd: ([idx, u], [ia, ua], p, out) => {
      // updates [pre, k, post] -> [k, pre*post], scatterND into [size, pre*post], back to [pre, size, post]
      const k = S.size(ia.shape)
      if (k === 0) return tf.zeros(out.shape as number[], out.dtype)
      const pre = S.size(ua.shape.slice(0, p.axis))
      const post = S.size(ua.shape.slice(p.axis + ia.shape.length))
      if (tf.getBackend() === 'wasm') checkIndices(idx, p.size, p.axis)
      // int32 scatterND on tfjs-webgpu returned garbage: sum in float32 there (exact below 2^24)
      const viaFloat = out.dtype === 'int32' && tf.getBackend() === 'webgpu'
      const src = out.dtype === 'bool' ? tf.cast(u, 'int32') : viaFloat ? tf.cast(u, 'float32') : u
      const rows = pre === 1 ? tf.reshape(src, [k, post]) : tf.reshape(tf.transpose(tf.reshape(src, [pre, k, post]), [1, 0, 2]), [k, pre * post])
      const summed = tf.scatterND(tf.reshape(idx, [k, 1]), rows, [p.size, pre * post])
      const back = pre === 1 ? summed : tf.transpose(tf.reshape(summed, [p.size, pre, post]), [1, 0, 2])
      const y = tf.reshape(back, out.shape as number[])
      return out.dtype === 'bool' ? tf.notEqual(y, scalar(0, 'int32')) : viaFloat ? tf.cast(y, 'int32') : y
    },
    matmul: ([a, b], [x, y], _, out) => linear(tf, a, b, x.shape, y.shape, out.shape),
    cast: ([x], [a], p) => {
      if (a.dtype === p.dtype) return tf.clone(x)
      if (p.dtype === 'bool') return tf.notEqual(x, scalar(0, a.dtype))
      if (p.dtype === 'int32' && a.dtype === 'float32') return toInt32(x)
      return tf.cast(x, p.dtype)
    },
  }
}

/**
 * `op` made safe to call on any inputs: an empty result is zeros without a
 * tfjs call (tfjs-wasm mishandles some empty shapes), and a result that is one
 * of the inputs (tfjs returns its input from some no-op cases) is cloned, so
 * every call gives a tensor of its own.
 */
export const guarded =
  <P extends Primitive>(tf: Tf, op: RawOp<P>): RawOp<P> =>
  (xs, avals, params, out) => {
    if (S.size(out.shape) === 0) return tf.zeros(out.shape as number[], out.dtype)
    const y = op(xs, avals, params, out)
    return xs.includes(y) ? tf.clone(y) : y
  }
