import type { DType } from '../DType'
import * as S from '../Shape'
import { Tensor } from '../Tensor'
import type { Tolerance } from './tolerances'
import { tolerances } from './tolerances'

/**
 * What `allClose` compares: a tensor (its data and shape) or plain numbers (shape `[length]`).
 * @example const c: Comparable = new Float32Array([1, 2]) // or tensor([1, 2])
 */
export type Comparable = Tensor | ArrayLike<number>

interface Flat {
  readonly data: ArrayLike<number>
  readonly shape: readonly number[]
  readonly dtype: DType | null
}

const flat = (x: Comparable): Flat =>
  x instanceof Tensor ? { data: x.dataSync(), shape: x.shape, dtype: x.dtype } : { data: x, shape: [x.length], dtype: null }

const close = (a: number, e: number, tol: Tolerance): boolean => {
  if (Number.isNaN(a) || Number.isNaN(e)) return Number.isNaN(a) && Number.isNaN(e)
  if (!Number.isFinite(a) || !Number.isFinite(e)) return a === e
  return Math.abs(a - e) <= tol.atol + tol.rtol * Math.abs(e)
}

const defaultTolerance = (a: Flat, e: Flat): Tolerance => tolerances[e.dtype ?? a.dtype ?? 'float32']

/** The first reason `actual` and `expected` differ, or null when they are close. */
const mismatch = (actual: Comparable, expected: Comparable, tol?: Tolerance): string | null => {
  const a = flat(actual)
  const e = flat(expected)
  const t = tol ?? defaultTolerance(a, e)
  const shapes = `actual shape ${S.show(a.shape)}, expected shape ${S.show(e.shape)}`
  const bothTensors = a.dtype !== null && e.dtype !== null
  if (a.data.length !== e.data.length || (bothTensors && !S.equals(a.shape, e.shape)))
    return `allClose: shapes differ: ${shapes}`
  for (let i = 0; i < e.data.length; i++)
    if (!close(a.data[i], e.data[i], t))
      return (
        `allClose: element ${i} differs: actual ${a.data[i]}, expected ${e.data[i]} ` +
        `(|diff| ${Math.abs(a.data[i] - e.data[i])}, rtol ${t.rtol}, atol ${t.atol}); ${shapes}`
      )
  return null
}

/**
 * True when every element of `actual` is within `atol + rtol·|expected|` of
 * the matching element of `expected` and the shapes agree (two tensors: equal
 * shapes; otherwise equal lengths). NaN equals NaN; ±Infinity only equals itself.
 * The tolerance defaults to `tolerances[dtype]` of `expected`.
 * @param actual the value under test
 * @param expected the reference value
 * @example
 * allClose(tensor([1, NaN]), [1 + 1e-7, NaN], { rtol: 1e-5, atol: 1e-6 }) // true
 */
export const allClose = (actual: Comparable, expected: Comparable, tol?: Tolerance): boolean =>
  mismatch(actual, expected, tol) === null

/**
 * As `allClose`, but throws an Error naming the first mismatching index, both
 * values and both shapes.
 * @param what prefixed to the message (e.g. which op and inputs)
 * @throws Error when the values are not close
 * @example
 * assertAllClose(matmul(a, b), expected, tolerances.float32)
 */
export const assertAllClose = (actual: Comparable, expected: Comparable, tol?: Tolerance, what?: string): void => {
  const m = mismatch(actual, expected, tol)
  if (m !== null) throw new Error(what ? `${what}: ${m}` : m)
}
