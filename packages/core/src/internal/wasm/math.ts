/**
 * Float32 transcendental functions as f32x4 instruction sequences (they are
 * not WebAssembly instructions): `exp`, `log` and `tanh`, each a range
 * reduction and a short polynomial, accurate to a few float32 ulps (well
 * inside the conformance tolerance rtol 1e-5, atol 1e-6 against
 * `Math.*` rounded to float32), with IEEE special values (±∞, NaN, 0,
 * subnormals) handled; `sin` and `cos` in float64 lanes (range reduction
 * by π/2 and Taylor polynomials, good to float64 round-off for the angles
 * of positional encodings; large |x| lose accuracy as n·π/2 does in float64);
 * `pow` in float64 lanes too (exp(b·ln|a|), rounded to float32 once: within
 * a float32 ulp of `Math.pow`, with all of its special values).
 *
 * Each emitter reads its arguments from v128 locals and leaves the result on
 * the stack.
 * @internal
 */
import type { Code } from './emit'
import { V } from './emit'

const LOG2E = 1.4426950408889634
/** ln 2 split so that n·LN2_HI is exact for |n| < 2¹⁵ */
const LN2_HI = 0.693359375
const LN2_LO = -2.12194440e-4

/** Horner: pushes c[0] + z·(c[1] + z·(c[2] + …)) for the v128 local z. */
const horner = (c: Code, z: number, coef: readonly number[]) => {
  c.f32x4(coef[coef.length - 1])
  for (let i = coef.length - 2; i >= 0; i--) c.get(z).v(V.f32x4Mul).f32x4(coef[i]).v(V.f32x4Add)
}

/** 2ⁿ for an i32x4 local `n` in [-126, 127], as f32x4 on the stack. */
const pow2 = (c: Code, n: number) => c.get(n).i32x4(127).v(V.i32x4Add).i32(23).v(V.i32x4Shl)

/**
 * `exp(x)`: x = n·ln2 + r with |r| ≤ ln2/2, exp(r) by its Taylor polynomial
 * to r⁷ (truncation < 6e-9 relative), scaled by 2ⁿ in two halves so results
 * overflow to ∞ and underflow through the subnormals correctly. Below −104
 * (exp < half the smallest subnormal: 0, as the masked scores of causal
 * attention are) the lane computes exp 0 and is cleared at the end: a
 * multiplication that rounds to a subnormal or zero costs the CPU a
 * microcode assist, which made the softmax of masked scores 1.8× slower.
 */
export const emitExp = (c: Code, x: number): void => {
  const xc = c.local('v128')
  const n = c.local('v128')
  const r = c.local('v128')
  const p = c.local('v128')
  const ni = c.local('v128')
  const n1 = c.local('v128')
  const zero = c.local('v128')
  c.get(x).f32x4(-104).v(V.f32x4Lt).set(zero)
  // pmax/pmin (one instruction each; min/max's NaN and ±0 rules cost several): NaN in x stays NaN
  c.f32x4(0).get(x).f32x4(-104).v(V.f32x4Pmax).f32x4(89).v(V.f32x4Pmin).get(zero).v(V.bitselect).set(xc)
  c.get(xc).f32x4(LOG2E).v(V.f32x4Mul).v(V.f32x4Nearest).set(n)
  c.get(xc).get(n).f32x4(LN2_HI).v(V.f32x4Mul).v(V.f32x4Sub).get(n).f32x4(LN2_LO).v(V.f32x4Mul).v(V.f32x4Sub).set(r)
  horner(c, r, [1, 1, 1 / 2, 1 / 6, 1 / 24, 1 / 120, 1 / 720, 1 / 5040])
  c.set(p)
  c.get(n).v(V.i32x4TruncSatF32x4S).set(ni)
  c.get(ni).i32(1).v(V.i32x4ShrS).set(n1)
  c.get(ni).get(n1).v(V.i32x4Sub).set(ni)
  c.get(p)
  pow2(c, n1)
  c.v(V.f32x4Mul)
  pow2(c, ni)
  c.v(V.f32x4Mul)
  c.get(zero).v(V.andnot)
}

/**
 * `log(x)`: x = m·2ᵉ with m in [√½, √2), log m = 2·atanh(s), s = (m−1)/(m+1),
 * |s| ≤ 0.172, by its series to s¹¹; subnormals are scaled by 2²³ first.
 * log 0 = −∞, log of a negative or NaN is NaN, log ∞ = ∞.
 */
export const emitLog = (c: Code, x: number): void => {
  const sub = c.local('v128')
  const bits = c.local('v128')
  const e = c.local('v128')
  const m = c.local('v128')
  const big = c.local('v128')
  const s = c.local('v128')
  const z = c.local('v128')
  const ef = c.local('v128')
  c.get(x).f32x4(1.1754943508222875e-38).v(V.f32x4Lt).set(sub)
  c.get(x).f32x4(8388608).v(V.f32x4Mul).get(x).get(sub).v(V.bitselect).set(bits)
  c.get(bits).i32(23).v(V.i32x4ShrU).i32x4(0xff).v(V.and).i32x4(127).v(V.i32x4Sub)
  c.i32x4(-23).get(sub).v(V.and).v(V.i32x4Add).set(e)
  c.get(bits).i32x4(0x007fffff).v(V.and).i32x4(0x3f800000).v(V.or).set(m)
  c.get(m).f32x4(Math.SQRT2).v(V.f32x4Gt).set(big)
  c.get(m).f32x4(0.5).v(V.f32x4Mul).get(m).get(big).v(V.bitselect).set(m)
  c.get(e).get(big).v(V.i32x4Sub).set(e)
  c.get(m).f32x4(1).v(V.f32x4Sub).get(m).f32x4(1).v(V.f32x4Add).v(V.f32x4Div).set(s)
  c.get(s).get(s).v(V.f32x4Mul).set(z)
  c.get(e).v(V.f32x4ConvertI32x4S).set(ef)
  // ef·LN2_HI + (2s·P(z) + ef·LN2_LO)
  c.get(ef).f32x4(LN2_HI).v(V.f32x4Mul)
  c.get(s).get(s).v(V.f32x4Add)
  horner(c, z, [1, 1 / 3, 1 / 5, 1 / 7, 1 / 9, 1 / 11])
  c.v(V.f32x4Mul).get(ef).f32x4(LN2_LO).v(V.f32x4Mul).v(V.f32x4Add).v(V.f32x4Add)
  c.set(s)
  // special values
  c.f32x4(-Infinity).get(s).get(x).f32x4(0).v(V.f32x4Eq).v(V.bitselect).set(s)
  c.f32x4(NaN).get(s).get(x).f32x4(0).v(V.f32x4Lt).v(V.bitselect).set(s)
  c.get(x).get(s).get(x).f32x4(Infinity).v(V.f32x4Eq).get(x).get(x).v(V.f32x4Ne).v(V.or).v(V.bitselect)
}

/**
 * `tanh(x)`: the odd Taylor polynomial to x¹³ for |x| < 0.3 (truncation
 * < 1e-9 relative), else sign(x)·(1 − 2/(exp(2|x|) + 1)).
 */
export const emitTanh = (c: Code, x: number): void => {
  const a = c.local('v128')
  const z = c.local('v128')
  const small = c.local('v128')
  const big = c.local('v128')
  c.get(x).v(V.f32x4Abs).set(a)
  c.get(x).get(x).v(V.f32x4Mul).set(z)
  c.get(x).get(x).get(z).v(V.f32x4Mul)
  horner(c, z, [-1 / 3, 2 / 15, -17 / 315, 62 / 2835, -1382 / 155925, 21844 / 6081075])
  c.v(V.f32x4Mul).v(V.f32x4Add).set(small)
  c.get(a).get(a).v(V.f32x4Add).set(z)
  emitExp(c, z)
  c.f32x4(1).v(V.f32x4Add).set(big)
  c.f32x4(1).f32x4(2).get(big).v(V.f32x4Div).v(V.f32x4Sub).set(big)
  // copy the sign of x onto the large-|x| result
  c.get(x).get(big).i32x4(-0x80000000).v(V.bitselect).set(big)
  c.get(small).get(big).get(a).f32x4(0.3).v(V.f32x4Lt).v(V.bitselect)
}

/** π/2 split: PIO2_HI has 33 significant bits, so n·PIO2_HI is exact for |n| < 2²⁰ */
const PIO2_HI = 1.5707963267341256
const PIO2_LO = 6.077100506506192e-11

const hornerF64 = (c: Code, z: number, coef: readonly number[]) => {
  c.f64x2(coef[coef.length - 1])
  for (let i = coef.length - 2; i >= 0; i--) c.get(z).v(V.f64x2Mul).f64x2(coef[i]).v(V.f64x2Add)
}

const fact = (n: number): number => (n <= 1 ? 1 : n * fact(n - 1))
/** sin r = r·S(r²), cos r = C(r²): Taylor coefficients to r¹⁷ and r¹⁶ (|r| ≤ π/4: truncation < 1e-17) */
const SIN = [0, 1, 2, 3, 4, 5, 6, 7, 8].map((k) => (k % 2 ? -1 : 1) / fact(2 * k + 1))
const COS = [0, 1, 2, 3, 4, 5, 6, 7, 8].map((k) => (k % 2 ? -1 : 1) / fact(2 * k))

/**
 * Runs `body` (which pushes an f64x2 computed from f64x2 locals) on the low
 * and then the high two lanes of the f32x4 locals `xs`, promoted to float64,
 * and pushes the four results rounded to float32.
 */
const inFloat64 = (c: Code, xs: readonly number[], body: (halves: readonly number[]) => void) => {
  for (const high of [false, true]) {
    const halves = xs.map((x) => {
      const h = c.local('v128')
      c.get(x)
      if (high) c.get(x).shuffle32([2, 3, 2, 3])
      c.v(V.f64x2PromoteLow).set(h)
      return h
    })
    body(halves)
    c.v(V.f32x4DemoteF64x2Zero)
  }
  c.shuffle32([0, 1, 4, 5])
}

/** sin or cos of the two f64 lanes in local `x`, pushed as f64x2 */
const sinCosF64 = (c: Code, x: number, cos: boolean) => {
  const n = c.local('v128')
  const r = c.local('v128')
  const z = c.local('v128')
  const s = c.local('v128')
  const k = c.local('v128')
  const q = c.local('v128')
  c.get(x).f64x2(2 / Math.PI).v(V.f64x2Mul).v(V.f64x2Nearest).set(n)
  c.get(x).get(n).f64x2(PIO2_HI).v(V.f64x2Mul).v(V.f64x2Sub).get(n).f64x2(PIO2_LO).v(V.f64x2Mul).v(V.f64x2Sub).set(r)
  c.get(r).get(r).v(V.f64x2Mul).set(z)
  c.get(r)
  hornerF64(c, z, SIN)
  c.v(V.f64x2Mul).set(s)
  hornerF64(c, z, COS)
  c.set(k)
  // quadrant q = (n + [cos ? 1 : 0]) mod 4: sin x = [s, k, −s, −k][q]
  c.get(n)
  if (cos) c.f64x2(1).v(V.f64x2Add)
  c.set(q)
  c.get(q).get(q).f64x2(0.25).v(V.f64x2Mul).v(V.f64x2Floor).f64x2(4).v(V.f64x2Mul).v(V.f64x2Sub).set(q)
  // odd quadrants take the cosine polynomial; quadrants 2 and 3 flip the sign
  c.get(k).get(s).get(q).f64x2(1).v(V.f64x2Eq).get(q).f64x2(3).v(V.f64x2Eq).v(V.or).v(V.bitselect).set(s)
  c.get(s).v(V.f64x2Neg).get(s).get(q).f64x2(2).v(V.f64x2Ge).v(V.bitselect)
}

/**
 * `sin(x)` or `cos(x)` of four float32 lanes: each half promoted to float64,
 * reduced by π/2 (Cody–Waite in two parts), evaluated by Taylor
 * polynomials, and rounded back to float32 once.
 */
export const emitSinCos = (c: Code, x: number, cos: boolean): void => inFloat64(c, [x], ([h]) => sinCosF64(c, h, cos))

/** ln 2 split: LN2_HI64 has 32 significant bits, so n·LN2_HI64 is exact for |n| < 2²¹ */
const LN2_HI64 = 6.93147180369123816490e-01
const LN2_LO64 = 1.90821492927058770002e-10
/** 2·atanh s = 2s·A(s²) to s¹⁵ (|s| ≤ 0.172: truncation < 4e-14 relative) */
const ATANH = [0, 1, 2, 3, 4, 5, 6, 7].map((k) => 1 / (2 * k + 1))
/** exp r to r¹² (|r| ≤ ln2/2: truncation < 2e-16 relative) */
const EXP = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12].map((k) => 1 / fact(k))

/**
 * ln|a| of the f64 lanes in local `a`, into local `ln`: |a| = m·2ᵉ with m in
 * [√½, √2) taken from the bits (float32 subnormals are normal in float64),
 * then e·ln2 + 2·atanh((m−1)/(m+1)). ±0 give −∞, ±∞ give ∞, NaN stays NaN.
 */
const lnAbsF64 = (c: Code, a: number, ln: number) => {
  const x = c.local('v128')
  const e = c.local('v128')
  const m = c.local('v128')
  const big = c.local('v128')
  const s = c.local('v128')
  const z = c.local('v128')
  c.get(a).v(V.f64x2Abs).set(x)
  // the exponent field is bits 20–30 of each lane's high word (i32 lanes 1 and 3)
  c.get(x).i32(20).v(V.i32x4ShrU).set(e)
  c.get(e).get(e).shuffle32([1, 3, 1, 3]).v(V.f64x2ConvertLowI32x4S).f64x2(1023).v(V.f64x2Sub).set(e)
  // the mantissa: clear the sign and exponent (the bits of −∞), set the exponent of 1
  c.get(x).f64x2(-Infinity).v(V.andnot).f64x2(1).v(V.or).set(m)
  c.get(m).f64x2(Math.SQRT2).v(V.f64x2Gt).set(big)
  c.get(m).f64x2(0.5).v(V.f64x2Mul).get(m).get(big).v(V.bitselect).set(m)
  c.get(e).f64x2(1).v(V.f64x2Add).get(e).get(big).v(V.bitselect).set(e)
  c.get(m).f64x2(1).v(V.f64x2Sub).get(m).f64x2(1).v(V.f64x2Add).v(V.f64x2Div).set(s)
  c.get(s).get(s).v(V.f64x2Mul).set(z)
  // e·LN2_HI64 + (2s·A(z) + e·LN2_LO64)
  c.get(e).f64x2(LN2_HI64).v(V.f64x2Mul)
  c.get(s).get(s).v(V.f64x2Add)
  hornerF64(c, z, ATANH)
  c.v(V.f64x2Mul).get(e).f64x2(LN2_LO64).v(V.f64x2Mul).v(V.f64x2Add).v(V.f64x2Add).set(ln)
  c.f64x2(-Infinity).get(ln).get(x).f64x2(0).v(V.f64x2Eq).v(V.bitselect).set(ln)
  c.get(x).get(ln).get(x).f64x2(Infinity).v(V.f64x2Eq).get(x).get(x).v(V.f64x2Ne).v(V.or).v(V.bitselect).set(ln)
}

/**
 * exp of the f64 lanes in local `y`, pushed as f64x2: y clamped to ±120 (far
 * past float32's range; NaN stays NaN), y = n·ln2 + r with |r| ≤ ln2/2,
 * exp r by its Taylor polynomial, times 2ⁿ built from its bits.
 */
const expF64 = (c: Code, y: number) => {
  const n = c.local('v128')
  const r = c.local('v128')
  c.get(y).f64x2(-120).v(V.f64x2Max).f64x2(120).v(V.f64x2Min).set(y)
  c.get(y).f64x2(LOG2E).v(V.f64x2Mul).v(V.f64x2Nearest).set(n)
  c.get(y).get(n).f64x2(LN2_HI64).v(V.f64x2Mul).v(V.f64x2Sub).get(n).f64x2(LN2_LO64).v(V.f64x2Mul).v(V.f64x2Sub).set(r)
  hornerF64(c, r, EXP)
  // 2ⁿ: (n + 1023) << 20 in i32 lanes 0 and 1, moved to the high words of the f64 lanes
  c.get(n).v(V.i32x4TruncSatF64x2SZero).i32x4(1023).v(V.i32x4Add).i32(20).v(V.i32x4Shl).i32x4(0).shuffle32([4, 0, 4, 1])
  c.v(V.f64x2Mul)
}

/**
 * aᵇ of the f64 lanes in locals `a`, `b`, pushed as f64x2, with the special
 * values of `Math.pow`: the magnitude exp(b·ln|a|) already gives those of
 * zero, infinite and NaN operands (0·∞ = NaN is JS's 1^±∞); then a negative
 * base (−0 and −∞ too) to an odd power gives a negative result, a finite
 * negative base to a non-integer power NaN, and b = ±0 gives 1.
 */
const powF64 = (c: Code, a: number, b: number) => {
  const y = c.local('v128')
  const r = c.local('v128')
  const odd = c.local('v128')
  lnAbsF64(c, a, y)
  c.get(y).get(b).v(V.f64x2Mul).set(y)
  expF64(c, y)
  c.set(r)
  // b − 2·floor(b/2) = 1: copy the sign of a
  c.get(b).get(b).f64x2(0.5).v(V.f64x2Mul).v(V.f64x2Floor).f64x2(2).v(V.f64x2Mul).v(V.f64x2Sub).f64x2(1).v(V.f64x2Eq).set(odd)
  c.get(a).get(r).get(odd).f64x2(-0).v(V.and).v(V.bitselect).set(r)
  // −∞ < a < 0 and floor(b) ≠ b: NaN
  c.f64x2(NaN).get(r)
  c.get(a).f64x2(0).v(V.f64x2Lt).get(a).f64x2(-Infinity).v(V.f64x2Gt).v(V.and)
  c.get(b).v(V.f64x2Floor).get(b).v(V.f64x2Ne).v(V.and)
  c.v(V.bitselect).set(r)
  // b = ±0: 1, even for a NaN
  c.f64x2(1).get(r).get(b).f64x2(0).v(V.f64x2Eq).v(V.bitselect)
}

/**
 * `pow(a, b)` of four float32 lanes (locals `a`, `b`): each half promoted to
 * float64, ln|a| and exp in float64 (relative error about 1e-14), and the
 * result rounded to float32 once, so it is within a float32 ulp of
 * `Math.fround(Math.pow(a, b))` (it differs only where the float64 result
 * lies within 1e-14 of a float32 rounding boundary), overflowing to ±∞ and
 * underflowing through the subnormals to ±0 in the rounding.
 */
export const emitPow = (c: Code, a: number, b: number): void => inFloat64(c, [a, b], ([ha, hb]) => powF64(c, ha, hb))
