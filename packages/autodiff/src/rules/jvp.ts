import type { Aval, Primitive, PrimitiveParams, Tensor } from '@frugal-ts/core'
import {
  add, bind, cast, cos, div, equal, full, greater, less, log, matmul, mul, neg, pow, sin, sub, sum, where,
} from '@frugal-ts/core'
import { unreduce } from './util'

/**
 * A forward-mode rule: the tangent of the output given the primal inputs,
 * their tangents and the primal output (already computed).
 * @example
 * // the rule of sin: d sin(x) = cos(x) · dx
 * const sinJvp: JvpRule<'sin'> = ([x], [dx]) => mul(cos(x), dx)
 */
export type JvpRule<P extends Primitive> = (
  primals: readonly Tensor[],
  tangents: readonly Tensor[],
  out: Tensor,
  params: PrimitiveParams[P],
) => Tensor

/** Zero tangent for outputs that are not differentiable (bool, int32, sign, compare, argmax). */
const zeroTangent = (out: Aval): Tensor => full(out.shape, 0, out.dtype)

/** Applies the same (linear) primitive to the tangents. */
const linear = <P extends Primitive>(prim: P): JvpRule<P> => (_, ts, __, p) => bind(prim, ts, p)

const safeLog = (a: Tensor): Tensor => {
  const pos = greater(a, 0)
  return where(pos, log(where(pos, a, 1)), 0)
}

/**
 * The JVP rule of every primitive: a missing one is a compile error.
 * @example
 * const x = tensor([0])
 * jvpRules.sin([x], [tensor([1])], sin(x), {}) // [1]: cos(0) · 1
 */
export const jvpRules: { readonly [P in Primitive]: JvpRule<P> } = {
  neg: (_, [t]) => neg(t),
  exp: (_, [t], y) => mul(t, y),
  log: ([x], [t]) => div(t, x),
  sqrt: (_, [t], y) => div(t, mul(y, 2)),
  sin: ([x], [t]) => mul(t, cos(x)),
  cos: ([x], [t]) => neg(mul(t, sin(x))),
  tanh: (_, [t], y) => mul(t, sub(1, mul(y, y))),
  sign: (_, __, y) => zeroTangent(y),
  add: (_, [ta, tb]) => add(ta, tb),
  mul: ([a, b], [ta, tb]) => add(mul(ta, b), mul(a, tb)),
  div: ([, b], [ta, tb], y) => div(sub(ta, mul(tb, y)), b),
  max: ([a, b], [ta, tb]) => where(greater(a, b), ta, where(less(a, b), tb, mul(add(ta, tb), 0.5))),
  pow: ([a, b], [ta, tb], y) => add(mul(ta, mul(b, pow(a, sub(b, 1)))), mul(tb, mul(y, safeLog(a)))),
  compare: (_, __, y) => zeroTangent(y),
  where: ([c], [, tx, ty]) => where(c, tx, ty),
  reduceSum: linear('reduceSum'),
  reduceMax: ([x], [t], y, p) => {
    const mask = cast(equal(x, unreduce(y, x.shape, p.axes)), 'float32')
    return div(sum(mul(t, mask), [...p.axes]), sum(mask, [...p.axes]))
  },
  argmax: (_, __, y) => zeroTangent(y),
  reshape: linear('reshape'),
  transpose: linear('transpose'),
  broadcast: linear('broadcast'),
  slice: linear('slice'),
  pad: linear('pad'),
  concat: linear('concat'),
  gather: ([, idx], [t], _, p) => bind('gather', [t, idx], p),
  scatterAdd: ([idx], [, t], _, p) => bind('scatterAdd', [idx, t], p),
  matmul: ([a, b], [ta, tb]) => add(matmul(ta, b), matmul(a, tb)),
  cast: ([x], [t], y) => (x.dtype === 'float32' && y.dtype === 'float32' ? t : zeroTangent(y)),
}
