/**
 * Test helpers for the cpu backend tests: fast-check arbitraries for shapes
 * and data, and straightforward float64 reference implementations that
 * decompose every index (slow and obviously right).
 */
import fc from 'fast-check'
import type { DType, TypedArray } from '../src/DType'
import { alloc } from '../src/DType'
import type { Aval } from '../src/Primitive'
import * as S from '../src/Shape'
import type { Shape } from '../src/Shape'
import { cpu } from '../src/internal/cpu/backend'

export const backend = cpu()

/** A host array with its shape (the reference's view of a tensor). */
export interface Arr {
  readonly shape: Shape
  readonly data: TypedArray
}

export const aval = (a: Arr): Aval => ({ shape: a.shape, dtype: dtypeOf(a.data) })
export const dtypeOf = (d: TypedArray): DType => (d instanceof Float32Array ? 'float32' : d instanceof Int32Array ? 'int32' : 'bool')

/** Runs the cpu kernel of `prim` and returns a copy of its output. */
export const run = (prim: string, inputs: readonly Arr[], params: object, outShape: Shape, outDtype: DType): TypedArray => {
  const k = (backend.kernels as unknown as Record<string, (...a: unknown[]) => TypedArray>)[prim]
  const out = { shape: outShape, dtype: outDtype }
  const h = k(
    inputs.map((x) => x.data),
    inputs.map(aval),
    params,
    out,
  )
  const copy = backend.readSync(h, out)
  backend.dispose(h, out)
  return copy
}

/** Deterministic pseudo-random numbers from a seed (mulberry32). */
export const rng = (seed: number) => {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const specials = [NaN, 0, -0, Infinity, -Infinity, 1, -1, 0.5]

/** `n` values of `dtype` from `seed`; float32 data includes NaN, ±0, ±Inf when `special`. */
export const fill = (dtype: DType, n: number, seed: number, special = false): TypedArray => {
  const r = rng(seed)
  const a = alloc(dtype, n)
  for (let i = 0; i < n; i++) {
    const u = r()
    if (dtype === 'bool') a[i] = u < 0.5 ? 1 : 0
    else if (dtype === 'int32') a[i] = u < 0.1 ? (u < 0.05 ? 2147483647 : -2147483648) : Math.floor((r() - 0.5) * 20)
    else a[i] = special && u < 0.2 ? specials[Math.floor(r() * specials.length)] : (r() - 0.5) * 8
  }
  return a
}

/** Shapes of rank 0..maxRank with dimensions 1..maxDim (0 allowed when `zero`). */
export const shapeArb = (maxRank = 4, maxDim = 5, zero = false) =>
  fc.array(fc.integer({ min: zero ? 0 : 1, max: maxDim }), { minLength: 0, maxLength: maxRank })

/** An output shape and `n` shapes that broadcast to it (leading axes dropped, some axes set to 1). */
export const broadcastShapesArb = (n: number) =>
  shapeArb(4, 4).chain((out) =>
    fc.tuple(
      fc.constant(out),
      fc.array(
        fc.tuple(fc.integer({ min: 0, max: out.length }), fc.array(fc.boolean(), { minLength: out.length, maxLength: out.length })).map(
          ([drop, ones]) => out.slice(drop).map((d, i) => (ones[i + drop] ? 1 : d)),
        ),
        { minLength: n, maxLength: n },
      ),
    ),
  )

/** Index tuple of flat position `i` in `shape`. */
export const unravel = (i: number, shape: Shape): number[] => {
  const idx = new Array<number>(shape.length)
  for (let k = shape.length - 1; k >= 0; k--) {
    idx[k] = i % shape[k]
    i = Math.floor(i / shape[k])
  }
  return idx
}

/** Flat position of an index tuple. */
export const ravel = (idx: readonly number[], shape: Shape): number => idx.reduce((p, v, k) => p * shape[k] + v, 0)

/** Flat position in `shape` of output index `idx`, reading `shape` broadcast to the output. */
export const bcastIndex = (idx: readonly number[], shape: Shape): number => {
  const off = idx.length - shape.length
  return shape.reduce((p, d, k) => p * d + (d === 1 ? 0 : idx[k + off]), 0)
}

/** Elementwise reference: `f` on broadcast inputs, in float64 (numbers). */
export const refMap = (outShape: Shape, inputs: readonly Arr[], f: (...xs: number[]) => number): number[] => {
  const n = S.size(outShape)
  const out: number[] = []
  for (let i = 0; i < n; i++) {
    const idx = unravel(i, outShape)
    out.push(f(...inputs.map((x) => x.data[bcastIndex(idx, x.shape)])))
  }
  return out
}

/** True when `a` equals `b` elementwise (NaN equals NaN; -0 equals 0) after storing `b` as dtype. */
export const sameAs = (a: TypedArray, b: readonly number[]): boolean => {
  if (a.length !== b.length) return false
  const want = alloc(dtypeOf(a), b.length)
  for (let i = 0; i < b.length; i++) want[i] = b[i]
  for (let i = 0; i < a.length; i++) if (!(a[i] === want[i] || (Number.isNaN(a[i]) && Number.isNaN(want[i])))) return false
  return true
}

/** True when `a` and `b` are typed arrays of one type with equal values, as `sameAs` compares them (NaN equals NaN; -0 equals 0). */
export const bitEqual = (a: TypedArray, b: TypedArray): boolean => a.constructor === b.constructor && sameAs(a, [...b])

/** Elementwise closeness: |a - b| ≤ atol + rtol·|b|, NaN matching NaN. */
export const close = (a: ArrayLike<number>, b: ArrayLike<number>, rtol = 1e-5, atol = 1e-5): boolean => {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) {
    const x = a[i]
    const y = b[i]
    if (Number.isNaN(x) || Number.isNaN(y)) {
      if (!(Number.isNaN(x) && Number.isNaN(y))) return false
    } else if (x !== y && !(Math.abs(x - y) <= atol + rtol * Math.abs(y))) return false
  }
  return true
}
