/**
 * The planner of every primitive: one or more generated kernels, a zero-copy
 * alias (reshape), or nothing at all (an empty output).
 * @internal
 */
import type { Aval, Primitive, PrimitiveParams } from '@frugal-ts/core'
import type { FusedOp } from './fused'
import { fusedSource } from './fused'
import { concatPlan, gatherPlan, matmulPlan, padPlan, scatterAddPlan } from './indexing'
import { argmaxPlan, reducePlan } from './reduce'
import { mapSource, sizeOf, stridesOf } from './source'
import type { Plan } from './stage'
import { inputs, single, stage } from './stage'

const elementwise = (avals: readonly Aval[], params: unknown, out: Aval, prim: Primitive): Plan => {
  const op: FusedOp = { prim, params, inputs: avals.map((_, k) => ({ leaf: k })), inDtypes: avals.map((a) => a.dtype), outDtype: out.dtype }
  return single(stage(fusedSource(out.shape, avals.map((a) => a.shape), [op]), sizeOf(out.shape), inputs(avals.length)))
}

/** A strided copy: operand 0 read at `base + Σ coord·strides` over the output shape. */
const copy = (out: readonly number[], base: number, strides: readonly number[]): Plan =>
  single(stage(mapSource(out, [{ base, strides }], ([x]) => ({ pre: [], expr: x })), sizeOf(out), [{ input: 0 }]))

type Planner<P extends Primitive> = (avals: readonly Aval[], params: PrimitiveParams[P], out: Aval) => Plan

const ew = <P extends Primitive>(prim: P): Planner<P> => (avals, params, out) => elementwise(avals, params, out, prim)

/** One planner per primitive: leaving one out is a compile error. */
const planners: { readonly [P in Primitive]: Planner<P> } = {
  neg: ew('neg'),
  exp: ew('exp'),
  log: ew('log'),
  sqrt: ew('sqrt'),
  sin: ew('sin'),
  cos: ew('cos'),
  tanh: ew('tanh'),
  sign: ew('sign'),
  add: ew('add'),
  mul: ew('mul'),
  div: ew('div'),
  max: ew('max'),
  pow: ew('pow'),
  compare: ew('compare'),
  where: ew('where'),
  cast: ew('cast'),
  broadcast: ew('broadcast'),
  reduceSum: (avals, p, out) => reducePlan('sum', avals[0], p.axes, out),
  reduceMax: (avals, p, out) => reducePlan('max', avals[0], p.axes, out),
  argmax: (avals, p) => argmaxPlan(avals[0], p.axis),
  reshape: () => ({ kind: 'alias' }),
  transpose: (avals, p, out) => {
    const s = stridesOf(avals[0].shape)
    return copy(out.shape, 0, p.perm.map((d) => s[d]))
  },
  slice: (avals, p, out) => {
    const s = stridesOf(avals[0].shape)
    return copy(out.shape, p.start.reduce((b, st, j) => b + st * s[j], 0), s)
  },
  pad: (avals, p, out) => padPlan(avals[0], p.lo, out),
  concat: (avals, p, out) => concatPlan(avals, p.axis, out),
  gather: (avals, p, out) => gatherPlan(avals, p.axis, out),
  scatterAdd: (avals, p, out) => scatterAddPlan(avals, p, out),
  matmul: (avals, _p, out) => matmulPlan(avals, out),
}

/** Every primitive, in the order of the planner table. */
export const primitives = Object.keys(planners) as Primitive[]

/** The plan of `prim` on inputs `avals` with `params`, producing `out`. */
export const planOf = (prim: Primitive, avals: readonly Aval[], params: unknown, out: Aval): Plan => {
  if (sizeOf(out.shape) === 0) return { kind: 'empty' }
  return (planners[prim] as Planner<Primitive>)(avals, params as never, out)
}
