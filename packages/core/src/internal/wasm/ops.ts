/**
 * Elementwise primitives as SIMD instruction sequences over four lanes, with
 * the exact semantics of the JS kernels (`cpu/elementwise.ts`): float32
 * lanes are f32x4 (each op rounds to float32, so results equal op-by-op
 * results bit for bit, except the approximated `exp`, `log`, `tanh`, `sin`,
 * `cos`, `pow`), int32
 * lanes are i32x4 (wrapping), and bool lanes are masks (0 or all ones) in
 * registers, 0/1 bytes in memory.
 * @internal
 */
import type { DType } from '../../DType'
import type { CompareOp, Primitive, PrimitiveParams } from '../../Primitive'
import type { Code } from './emit'
import { V } from './emit'
import { emitExp, emitLog, emitPow, emitSinCos, emitTanh } from './math'

/** Why `prim` on these dtypes has no SIMD lowering, or undefined when it has one. */
export const unsupportedOp = (prim: Primitive, ins: readonly DType[]): string | undefined => {
  switch (prim) {
    case 'neg': case 'exp': case 'log': case 'sqrt': case 'tanh': case 'sign': case 'sin': case 'cos':
    case 'add': case 'mul': case 'div': case 'max': case 'pow': case 'compare': case 'where': case 'cast':
      return ins.some((d) => d === 'bool') && prim !== 'compare' && prim !== 'where' && prim !== 'cast'
        ? `${prim} on bool`
        : undefined
    default:
      return `${prim} is not elementwise`
  }
}

const fcmp: Readonly<Record<CompareOp, number>> = { lt: V.f32x4Lt, le: V.f32x4Le, gt: V.f32x4Gt, ge: V.f32x4Ge, eq: V.f32x4Eq, ne: V.f32x4Ne }
const icmp: Readonly<Record<CompareOp, number>> = { lt: V.i32x4LtS, le: V.i32x4LeS, gt: V.i32x4GtS, ge: V.i32x4GeS, eq: V.i32x4Eq, ne: V.i32x4Ne }

/** Pushes a bool lane value as int32 0/1 (masks are 0/−1). */
const bool01 = (c: Code, x: number) => c.get(x).v(V.i32x4Neg)

const cast = (c: Code, from: DType, to: DType, a: number) => {
  if (from === to) return c.get(a)
  if (to === 'bool') return from === 'float32' ? c.get(a).f32x4(0).v(V.f32x4Ne) : c.get(a).i32x4(0).v(V.i32x4Ne)
  if (to === 'int32') return from === 'float32' ? c.get(a).v(V.i32x4TruncSatF32x4S) : bool01(c, a)
  return from === 'int32' ? c.get(a).v(V.f32x4ConvertI32x4S) : c.get(a).f32x4(1).v(V.and)
}

/**
 * Pushes the four lanes of `prim` applied to the v128 locals `args` (of
 * dtypes `ins`), as a value of dtype `out`. Assumes `unsupportedOp` said yes.
 */
export const emitOp = (c: Code, prim: Primitive, params: unknown, ins: readonly DType[], out: DType, args: readonly number[]): void => {
  const [a, b, w] = args
  const int = ins[0] === 'int32'
  switch (prim) {
    case 'neg':
      c.get(a).v(int ? V.i32x4Neg : V.f32x4Neg)
      return
    case 'sqrt':
      c.get(a).v(V.f32x4Sqrt)
      return
    case 'exp':
      return emitExp(c, a)
    case 'log':
      return emitLog(c, a)
    case 'tanh':
      return emitTanh(c, a)
    case 'sin':
    case 'cos':
      return emitSinCos(c, a, prim === 'cos')
    case 'sign':
      if (int) c.get(a).i32x4(0).v(V.i32x4LtS).i32x4(0).get(a).v(V.i32x4LtS).v(V.i32x4Sub) // (a<0 mask) − (0<a mask)
      else
        // |a| > 0 ? copysign(1, a) : a (±0 and NaN stay as they are): five instructions
        c.get(a).i32x4(-0x80000000).v(V.and).f32x4(1).v(V.or).get(a).get(a).v(V.f32x4Abs).f32x4(0).v(V.f32x4Gt).v(V.bitselect)
      return
    case 'add':
      c.get(a).get(b).v(int ? V.i32x4Add : V.f32x4Add)
      return
    case 'mul':
      c.get(a).get(b).v(int ? V.i32x4Mul : V.f32x4Mul)
      return
    case 'div':
      c.get(a).get(b).v(V.f32x4Div)
      return
    case 'pow':
      return emitPow(c, a, b)
    case 'max':
      // JS: a > b || a !== a ? a : b (propagates NaN, keeps b on ties)
      if (int) c.get(a).get(b).v(V.i32x4MaxS)
      else c.get(a).get(b).get(a).get(b).v(V.f32x4Gt).get(a).get(a).v(V.f32x4Ne).v(V.or).v(V.bitselect)
      return
    case 'compare': {
      const op = (params as PrimitiveParams['compare']).op
      if (ins[0] === 'float32') c.get(a).get(b).v(fcmp[op])
      else if (ins[0] === 'int32') c.get(a).get(b).v(icmp[op])
      else {
        bool01(c, a)
        bool01(c, b)
        c.v(icmp[op])
      }
      return
    }
    case 'where':
      c.get(b).get(w).get(a).v(V.bitselect)
      return
    case 'cast':
      cast(c, ins[0], out, a)
      return
    default:
      throw new Error(`wasm: ${prim} is not elementwise`)
  }
}

/** Log2 of the bytes per element of a dtype in memory. */
export const shiftOf: Readonly<Record<DType, number>> = { float32: 2, int32: 2, bool: 0 }

/**
 * Pushes the lanes at the address on the stack plus `offset` bytes: four
 * elements, or with `one` only the first (the tail loop), as the register
 * form of `dtype`.
 */
export const emitLoad = (c: Code, dtype: DType, one: boolean, splat = false, offset = 0): void => {
  if (dtype !== 'bool') {
    c.vmem(one || splat ? (splat ? V.load32Splat : V.load32Zero) : V.load, offset)
    return
  }
  if (one || splat) c.mem(0x2d, 0, offset).v(V.i32x4Splat)
  else c.vmem(V.load32Zero, offset).v(V.i16x8ExtendLowI8x16U).v(V.i32x4ExtendLowI16x8U)
  c.v(V.i32x4Neg)
}

/**
 * Stores the register value in local `x` at the address on the stack plus
 * `offset` bytes: four elements, or with `one` only the first.
 */
export const emitStore = (c: Code, dtype: DType, one: boolean, x: number, offset = 0): void => {
  if (dtype !== 'bool') {
    c.get(x)
    if (one) c.vlane(V.store32Lane, 0, offset)
    else c.vmem(V.store, offset)
    return
  }
  // 0/1 lanes narrowed to bytes; only the first four bytes are stored
  bool01(c, x)
  bool01(c, x)
  c.v(V.i16x8NarrowI32x4U).get(x).v(V.i8x16NarrowI16x8U)
  c.vlane(one ? V.store8Lane : V.store32Lane, 0, offset)
}
