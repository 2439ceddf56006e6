import type { Primitive, PrimitiveParams, Tensor } from '@frugal-ts/core'
import {
  add, cast, cos, div, equal, greater, log, matmul, matrixTranspose, mul, neg, pad, pow, reshape, scatterAdd, sin, slice,
  sub, sum, take, transpose, where,
} from '@frugal-ts/core'
import { invertPerm, unbroadcast, unreduce } from './util'

/**
 * A reverse-mode rule: given the output cotangent `ct`, the primal inputs and
 * the primal output, the cotangent of each input (null where it is zero or the
 * input is not differentiable). Written in core ops, so rules are themselves
 * differentiable (grad of grad, Hessian-vector products).
 * @example
 * // the rule of sin: x̄ = ȳ · cos(x)
 * const sinVjp: VjpRule<'sin'> = (ct, [x]) => [mul(ct, cos(x))]
 */
export type VjpRule<P extends Primitive> = (
  ct: Tensor,
  inputs: readonly Tensor[],
  out: Tensor,
  params: PrimitiveParams[P],
) => (Tensor | null)[]

/** Cotangent of max(a, b) for a: 1 where a > b, ½ at ties (as in JAX). */
const maxShare = (a: Tensor, b: Tensor): Tensor =>
  add(cast(greater(a, b), 'float32'), mul(cast(equal(a, b), 'float32'), 0.5))

/** log(a) where a > 0, else 0: the pow rule's exponent term without NaN. */
const safeLog = (a: Tensor): Tensor => {
  const pos = greater(a, 0)
  return where(pos, log(where(pos, a, 1)), 0)
}

/**
 * The VJP rule of every primitive: a missing one is a compile error.
 * @example
 * Object.keys(vjpRules).length // one rule per primitive: a missing one is a compile error
 */
export const vjpRules: { readonly [P in Primitive]: VjpRule<P> } = {
  neg: (ct) => [neg(ct)],
  exp: (ct, _, y) => [mul(ct, y)],
  log: (ct, [x]) => [div(ct, x)],
  sqrt: (ct, _, y) => [div(ct, mul(y, 2))],
  sin: (ct, [x]) => [mul(ct, cos(x))],
  cos: (ct, [x]) => [neg(mul(ct, sin(x)))],
  tanh: (ct, _, y) => [mul(ct, sub(1, mul(y, y)))],
  sign: () => [null],
  add: (ct, [a, b]) => [unbroadcast(ct, a.shape), unbroadcast(ct, b.shape)],
  mul: (ct, [a, b]) => [unbroadcast(mul(ct, b), a.shape), unbroadcast(mul(ct, a), b.shape)],
  div: (ct, [a, b], y) => [unbroadcast(div(ct, b), a.shape), unbroadcast(neg(div(mul(ct, y), b)), b.shape)],
  max: (ct, [a, b]) => [unbroadcast(mul(ct, maxShare(a, b)), a.shape), unbroadcast(mul(ct, maxShare(b, a)), b.shape)],
  pow: (ct, [a, b], y) => [
    unbroadcast(mul(ct, mul(b, pow(a, sub(b, 1)))), a.shape),
    unbroadcast(mul(ct, mul(y, safeLog(a))), b.shape),
  ],
  compare: () => [null, null],
  where: (ct, [c, x, y]) => [null, unbroadcast(where(c, ct, 0), x.shape), unbroadcast(where(c, 0, ct), y.shape)],
  reduceSum: (ct, [x], _, p) => [unreduce(ct, x.shape, p.axes)],
  reduceMax: (ct, [x], y, p) => {
    const mask = cast(equal(x, unreduce(y, x.shape, p.axes)), 'float32')
    const count = unreduce(sum(mask, [...p.axes]), x.shape, p.axes)
    return [div(mul(unreduce(ct, x.shape, p.axes), mask), count)]
  },
  argmax: () => [null],
  reshape: (ct, [x]) => [reshape(ct, x.shape)],
  transpose: (ct, _, __, p) => [transpose(ct, invertPerm(p.perm))],
  broadcast: (ct, [x]) => [unbroadcast(ct, x.shape)],
  slice: (ct, [x], _, p) => [pad(ct, x.shape.map((d, i) => [p.start[i], d - p.start[i] - p.size[i]] as [number, number]))],
  pad: (ct, [x], _, p) => [slice(ct, p.lo, x.shape)],
  concat: (ct, xs, _, p) => {
    let offset = 0
    return xs.map((x) => {
      const start = x.shape.map((_, i) => (i === p.axis ? offset : 0))
      offset += x.shape[p.axis]
      return slice(ct, start, x.shape)
    })
  },
  gather: (ct, [x, idx], _, p) => [scatterAdd(idx, ct, p.axis, x.shape[p.axis]), null],
  scatterAdd: (ct, [idx], _, p) => [null, take(ct, idx, p.axis)],
  matmul: (ct, [a, b]) => [
    unbroadcast(matmul(ct, matrixTranspose(b)), a.shape),
    unbroadcast(matmul(matrixTranspose(a), ct), b.shape),
  ],
  cast: (ct, [x], y) => [x.dtype === 'float32' && y.dtype === 'float32' ? ct : null],
}

