/**
 * Batched matmul on tfjs with frugal-ts semantics (numpy batch broadcasting),
 * optionally with transposed operands, a bias and a relu: the one routine
 * behind the `matmul` kernel and the fused matmuls of compiled programs.
 *
 * tfjs's own BatchMatMul broadcasts batch axes only when one side has batch
 * size 1 (it indexes the other modulo its size), and tfjs-wasm's fused matmul
 * takes only rank-1 biases and is wrong on 3-D batches, so this routine
 * reshapes to the cases tfjs gets right:
 * - no batch on either side: one 2-D call;
 * - no batch on the right and `a` not transposed: `a`'s batch folded into its
 *   rows, one 2-D call (the common `[batch, seq, d] × [d, n]` case);
 * - otherwise a 3-D call, a side with partial broadcasting expanded first,
 *   bias and relu applied after.
 * Only 2-D calls use `tf.fused.matMul`.
 * @internal
 */
import { Shape as S } from '@frugal-ts/core'
type Shape = S.Shape
import type { Tf, TfTensor } from './types'

/** What to compute: `relu(op(a) · op(b) + bias)` where op transposes the last two axes when flagged. */
export interface LinearOptions {
  /** `a` holds the transpose of the left operand (its last two axes swapped) */
  readonly ta?: boolean
  /** `b` holds the transpose of the right operand */
  readonly tb?: boolean
  /** a float32 bias of `n` elements (any shape of that size), added to every row */
  readonly bias?: TfTensor
  /** apply relu after the bias */
  readonly relu?: boolean
}

/** The last two axes of the tensor stored for a logical operand shape `l` (swapped when transposed). */
const stored = (l: Shape, t: boolean): [number, number] => {
  const [r, c] = l.slice(-2)
  return t ? [c, r] : [r, c]
}

/**
 * `relu(op(a) · op(b) + bias)` with batch broadcasting.
 * @param a the stored left operand; its logical shape is `aShape`
 * @param b the stored right operand; its logical shape is `bShape`
 * @param out the logical result shape `[...batch, m, n]`
 */
export const linear = (tf: Tf, a: TfTensor, b: TfTensor, aShape: Shape, bShape: Shape, out: Shape, o: LinearOptions = {}): TfTensor => {
  const outShape = [...out]
  const ta = o.ta ?? false
  const tb = o.tb ?? false
  const [m, k] = aShape.slice(-2)
  const n = bShape[bShape.length - 1]
  const batch = out.slice(0, -2)
  const total = S.size(batch)
  const sa = S.size(aShape.slice(0, -2))
  const sb = S.size(bShape.slice(0, -2))
  const bias = o.bias === undefined ? undefined : tf.reshape(o.bias, [n])
  const epilogue = (y: TfTensor): TfTensor => {
    const z = bias ? tf.add(y, bias) : y
    return tf.reshape(o.relu ? tf.relu(z) : z, outShape)
  }
  if (k === 0) return epilogue(tf.zeros([total * m, n]))
  const call2d = (a2: TfTensor, b2: TfTensor, ta2: boolean): TfTensor =>
    bias !== undefined || o.relu
      ? tf.reshape(tf.fused.matMul({ a: a2, b: b2, transposeA: ta2, transposeB: tb, bias, activation: o.relu ? 'relu' : 'linear' }), outShape)
      : tf.reshape(tf.matMul(a2, b2, ta2, tb), outShape)
  if (sa === 1 && sb === 1) return call2d(tf.reshape(a, stored(aShape, ta)), tf.reshape(b, stored(bShape, tb)), ta)
  if (sb === 1 && !ta) return call2d(tf.reshape(a, [sa * m, k]), tf.reshape(b, stored(bShape, tb)), false)
  const as3d = (x: TfTensor, l: Shape, t: boolean, s: number): TfTensor => {
    const last = stored(l, t)
    if (s === 1 || s === total) return tf.reshape(x, [s, ...last])
    return tf.reshape(tf.broadcastTo(x, [...batch, ...last]), [total, ...last])
  }
  return epilogue(tf.matMul(as3d(a, aShape, ta, sa), as3d(b, bShape, tb, sb), ta, tb))
}
