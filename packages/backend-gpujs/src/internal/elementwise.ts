/**
 * The elementwise primitives (unary, binary, compare, where, cast, and the
 * broadcast movement, which is the identity read through broadcast strides)
 * as gpu.js source expressions, so that one op and a fused chain of ops
 * generate the same kind of kernel.
 *
 * Every value is a float on the device: int32 as an integer-valued float
 * (exact within ±2^24), bool as 0 or 1.
 * @internal
 */
import type { CompareOp, DType, Primitive, PrimitiveParams } from '@frugal-ts/core'
import type { Body } from './source'

/** The primitives a fused kernel can chain. */
export const fusible: ReadonlySet<Primitive> = new Set<Primitive>([
  'neg', 'exp', 'log', 'sqrt', 'sin', 'cos', 'tanh', 'sign',
  'add', 'mul', 'div', 'max', 'pow', 'compare', 'where', 'cast', 'broadcast',
])

const compareOps: Readonly<Record<CompareOp, string>> = { lt: '<', le: '<=', gt: '>', ge: '>=', eq: '==', ne: '!=' }

const castExpr = (from: DType, to: DType, a: string): string => {
  if (from === to || to === 'float32') return a
  if (to === 'bool') return `(${a} != 0 ? 1 : 0)`
  if (from === 'bool') return a
  // float32 -> int32: truncate toward zero, saturate (2147483647 is 2^31 in float32; readback clamps it)
  return `(${a} >= 2147483647 ? 2147483647 : (${a} <= -2147483648 ? -2147483648 : Math.trunc(${a})))`
}

/** True for the source of a positive numeric literal (see `lit`). */
const isPositiveLiteral = (x: string): boolean => /^[0-9.]+(e[-+]?[0-9]+)?$/.test(x) && Number(x) > 0

/**
 * The statements and expression computing `prim` on argument expressions
 * `args` (variable names, so repeating them is free). `t` names this op's
 * temporaries uniquely within the kernel.
 */
export const exprOf = (prim: Primitive, params: unknown, ins: readonly DType[], out: DType, args: readonly string[], t: string): Body => {
  const [a, b, c] = args
  const int = ins[0] === 'int32'
  const e = (expr: string): Body => ({ pre: [], expr })
  switch (prim) {
    case 'neg':
      return e(`(-${a})`)
    case 'exp':
    case 'log':
    case 'sqrt':
    case 'sin':
    case 'cos':
    case 'tanh':
    case 'sign':
      return e(`Math.${prim}(${a})`)
    case 'add':
      return e(`(${a} + ${b})`)
    case 'mul':
      return e(`(${a} * ${b})`)
    case 'div':
      return e(`(${a} / ${b})`)
    case 'max':
      return e(int ? `(${a} > ${b} ? ${a} : ${b})` : `(${a} > ${b} || ${a} != ${a} ? ${a} : ${b})`)
    case 'pow':
      if (isPositiveLiteral(a)) return e(`Math.pow(${a}, ${b})`)
      // GLSL pow is undefined for negative bases: take |a|^b and restore the sign for integer exponents
      return {
        pre: [`const ${t}p = Math.pow(Math.abs(${a}), ${b});`, `const ${t}h = Math.floor(${b} * 0.5) * 2;`],
        expr:
          `(${b} == 0 ? 1 : (${a} > 0 ? ${t}p : (${a} == 0 ? (${b} > 0 ? 0 : Infinity) : ` +
          `(Math.floor(${b}) == ${b} ? (${t}h == ${b} ? ${t}p : -${t}p) : (0.0 / 0.0)))))`,
      }
    case 'compare':
      return e(`(${a} ${compareOps[(params as PrimitiveParams['compare']).op]} ${b} ? 1 : 0)`)
    case 'where':
      return e(`(${a} != 0 ? ${b} : ${c})`)
    case 'cast':
      return e(castExpr(ins[0], out, a))
    case 'broadcast':
      return e(a)
    default:
      throw new Error(`gpujs: ${prim} is not elementwise`)
  }
}
