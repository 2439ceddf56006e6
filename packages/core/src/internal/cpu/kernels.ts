/**
 * The cpu kernel tables: `prepare` (specialise a kernel to its avals once,
 * run it many times: what compiled programs use) and `into` (run a kernel
 * writing into a given output array).
 * @internal
 */
import type { Aval, Primitive } from '../../Primitive'
import { prepareElementwise } from './elementwise'
import { prepareGather, prepareScatterAdd } from './indexing'
import { prepareMatmul } from './matmul'
import { prepareBroadcast, prepareConcat, preparePad, prepareReshape, prepareSlice, prepareTranspose } from './movement'
import { prepareArgmax, prepareReduceMax, prepareReduceSum } from './reduce'
import type { CpuHandle, IntoKernelTable, Prepared, PrepareTable } from './types'

const ew =
  (prim: Primitive) =>
  (avals: readonly Aval[], params: unknown, out: Aval): Prepared =>
    prepareElementwise(prim, avals, params, out)

/** One preparer per primitive: `prepare[prim](avals, params, out)(inputs, dst)`. */
export const prepare: PrepareTable = {
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
  reduceSum: prepareReduceSum,
  reduceMax: prepareReduceMax,
  argmax: prepareArgmax,
  reshape: prepareReshape,
  transpose: prepareTranspose,
  broadcast: prepareBroadcast,
  slice: prepareSlice,
  pad: preparePad,
  concat: prepareConcat,
  gather: prepareGather,
  scatterAdd: prepareScatterAdd,
  matmul: prepareMatmul,
}

const intoOf =
  (p: Primitive) =>
  (inputs: readonly CpuHandle[], avals: readonly Aval[], params: unknown, out: Aval, dst: CpuHandle): void =>
    (prepare[p] as (a: readonly Aval[], q: unknown, o: Aval) => Prepared)(avals, params, out)(inputs, dst)

/** One "into" kernel per primitive: `into[prim](inputs, avals, params, out, dst)` overwrites `dst`. */
export const into = Object.fromEntries(
  (Object.keys(prepare) as Primitive[]).map((p) => [p, intoOf(p)]),
) as unknown as IntoKernelTable
