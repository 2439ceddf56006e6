/**
 * Elementwise primitives (unary, binary, compare, where, cast) as JS
 * expressions, so that one op and a fused chain of ops compile to the same
 * kind of generated loop (see `loops.ts`).
 * @internal
 */
import type { DType } from '../../DType'
import type { Aval, CompareOp, Primitive, PrimitiveParams } from '../../Primitive'
import * as S from '../../Shape'
import { broadcastStrides, contiguous, prepareFlatLoop, prepareLoop } from './loops'
import type { LoopBody } from './loops'
import type { Prepared } from './types'

/** The elementwise primitives: those that `exprOf` can write and `fuse` can chain. */
export const elementwisePrimitives = new Set<Primitive>([
  'neg', 'exp', 'log', 'sqrt', 'sin', 'cos', 'tanh', 'sign',
  'add', 'mul', 'div', 'max', 'pow', 'compare', 'where', 'cast',
])

const compareOps: Readonly<Record<CompareOp, string>> = { lt: '<', le: '<=', gt: '>', ge: '>=', eq: '===', ne: '!==' }

const saturateInt32 = (a: string) => `(${a} >= 2147483647 ? 2147483647 : ${a} <= -2147483648 ? -2147483648 : ${a} | 0)`

const castExpr = (from: DType, to: DType, a: string): string => {
  if (from === to) return a
  if (to === 'bool') return `(${a} !== 0 ? 1 : 0)`
  if (to === 'int32') return from === 'float32' ? saturateInt32(a) : a
  return a // int32 / bool -> float32: the value itself (rounded to float32 where stored)
}

/**
 * The JS expression computing `prim` on argument expressions `args`
 * (identifiers, so repeating them is free). The result is exact for int32
 * (wrapping) and bool (0/1); for float32 it is the double result, which the
 * caller rounds with `Math.fround` or by storing into a Float32Array.
 * @param ins the input dtypes; `out` the output dtype
 */
export const exprOf = (prim: Primitive, params: unknown, ins: readonly DType[], out: DType, args: readonly string[]): string => {
  const [a, b, c] = args
  const int = ins[0] === 'int32'
  switch (prim) {
    case 'neg':
      return int ? `((-${a}) | 0)` : `(-${a})`
    case 'exp':
    case 'log':
    case 'sqrt':
    case 'sin':
    case 'cos':
    case 'tanh':
      return `Math.${prim}(${a})`
    case 'sign':
      // branchless: random signs defeat branch prediction (3-4x slower on 10 M elements); the `||` (taken
      // for ±0 and NaN, which it returns as they are, as Math.sign does) is predictable
      return int ? `((+(${a} > 0)) - (+(${a} < 0)))` : `((+(${a} > 0)) - (+(${a} < 0)) || ${a})`
    case 'add':
      return int ? `((${a} + ${b}) | 0)` : `(${a} + ${b})`
    case 'mul':
      return int ? `Math.imul(${a}, ${b})` : `(${a} * ${b})`
    case 'div':
      return `(${a} / ${b})`
    case 'max':
      return int ? `(${a} > ${b} ? ${a} : ${b})` : `(${a} > ${b} || ${a} !== ${a} ? ${a} : ${b})`
    case 'pow':
      return `Math.pow(${a}, ${b})`
    case 'compare':
      return `(${a} ${compareOps[(params as PrimitiveParams['compare']).op]} ${b} ? 1 : 0)`
    case 'where':
      return `(${a} !== 0 ? ${b} : ${c})`
    case 'cast':
      return castExpr(ins[0], out, a)
    default:
      throw new Error(`cpu: ${prim} is not elementwise`)
  }
}

/** A cache-key fragment naming prim, params and dtypes. */
export const exprKey = (prim: Primitive, params: unknown, ins: readonly DType[], out: DType): string =>
  `${prim}${prim === 'compare' ? (params as PrimitiveParams['compare']).op : ''}(${ins.join(',')})>${out}`

const bodies = new Map<string, LoopBody>()

/**
 * The kernel of one elementwise primitive: a generated strided loop over the
 * output, inputs broadcast numpy-style.
 */
export const prepareElementwise = (prim: Primitive, avals: readonly Aval[], params: unknown, out: Aval): Prepared => {
  const dts = avals.map((x) => x.dtype)
  const key = exprKey(prim, params, dts, out.dtype)
  let body = bodies.get(key)
  if (body === undefined) {
    const args = avals.map((_, i) => `a${i}`)
    body = { key, nIn: avals.length, pre: '', exprs: [exprOf(prim, params, dts, out.dtype, args)] }
    bodies.set(key, body)
  }
  const n = S.size(out.shape)
  const sizes = avals.map((x) => S.size(x.shape))
  if (sizes.every((m) => m === n || m === 1)) return prepareFlatLoop(body, n, sizes.map((m) => m !== n))
  const ins = avals.map((x) => ({ base: 0, strides: broadcastStrides(x.shape, out.shape) }))
  return prepareLoop(body, out.shape, contiguous(out.shape), ins)
}
