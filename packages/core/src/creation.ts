import { currentBackend } from './Backends'
import { CoreError } from './CoreError'
import type { DType, TypedArray } from './DType'
import { alloc, byteSize, dtypeOfArray } from './DType'
import { concrete } from './Memory'
import * as S from './Shape'
import type { Shape } from './Shape'
import type { NestedArray, Tensor } from './Tensor'

/**
 * A tensor holding a copy of a host typed array, on the current backend.
 * @param data Float32Array, Int32Array or Uint8Array (bool)
 * @param shape defaults to `[data.length]`
 * @example fromArray(new Float32Array([1, 2, 3, 4]), [2, 2])
 */
export const fromArray = (data: TypedArray, shape: Shape = [data.length], dtype: DType = dtypeOfArray(data)): Tensor => {
  if (!S.isShape(shape)) throw new CoreError(`fromArray: shape ${JSON.stringify(shape)} is not a list of non-negative integers`)
  if (S.size(shape) !== data.length)
    throw new CoreError(`fromArray: shape ${S.show(shape)} needs ${S.size(shape)} elements, got ${data.length}`)
  if (dtype !== dtypeOfArray(data)) data = convert(data, dtype)
  const b = currentBackend()
  return concrete(b, b.fromHost(data, { shape, dtype }), [...shape], dtype)
}

const convert = (data: TypedArray | ArrayLike<number>, dtype: DType): TypedArray => {
  const out = alloc(dtype, data.length)
  if (dtype === 'bool') for (let i = 0; i < data.length; i++) out[i] = data[i] ? 1 : 0
  else if (dtype === 'int32') for (let i = 0; i < data.length; i++) out[i] = Math.trunc(data[i])
  else out.set(data)
  return out
}

const inferShape = (x: NestedArray): number[] => {
  const shape: number[] = []
  let cur: NestedArray = x
  while (Array.isArray(cur)) {
    shape.push(cur.length)
    cur = cur[0]
  }
  return shape
}

const flattenNested = (x: NestedArray, shape: Shape, axis: number, out: number[], where: string): void => {
  if (axis === shape.length) {
    if (typeof x !== 'number' && typeof x !== 'boolean')
      throw new CoreError(`tensor: ragged or non-numeric data at ${where} (expected a number)`)
    out.push(typeof x === 'boolean' ? (x ? 1 : 0) : x)
    return
  }
  if (!Array.isArray(x) || x.length !== shape[axis])
    throw new CoreError(`tensor: ragged data at ${where}: expected an array of length ${shape[axis]}`)
  x.forEach((v, i) => flattenNested(v, shape, axis + 1, out, `${where}[${i}]`))
}

/**
 * A tensor from a number, a boolean, nested arrays or a typed array.
 * Numbers default to float32, booleans to bool.
 * @example tensor([[1, 2], [3, 4]]) // float32[2,2]
 * @example tensor([1, 2, 3], 'int32')
 */
export const tensor = (data: NestedArray | TypedArray, dtype?: DType): Tensor => {
  if (ArrayBuffer.isView(data)) return fromArray(data as TypedArray, [data.length], dtype ?? dtypeOfArray(data as TypedArray))
  const shape = inferShape(data)
  const flat: number[] = []
  flattenNested(data, shape, 0, flat, 'data')
  let leaf: NestedArray = data
  while (Array.isArray(leaf)) leaf = leaf[0]
  const dt = dtype ?? (typeof leaf === 'boolean' ? 'bool' : 'float32')
  return fromArray(convert(flat, dt), shape, dt)
}

/** A scalar tensor. @example scalar(2) // float32[] */
export const scalar = (value: number | boolean, dtype?: DType): Tensor => tensor(value, dtype)

/** A tensor of `shape` filled with `value`. @example full([2, 3], 7) */
export const full = (shape: Shape, value: number | boolean, dtype: DType = typeof value === 'boolean' ? 'bool' : 'float32'): Tensor => {
  if (!S.isShape(shape)) throw new CoreError(`full: shape ${JSON.stringify(shape)} is not a list of non-negative integers`)
  const v = typeof value === 'boolean' ? (value ? 1 : 0) : dtype === 'float32' ? value : Math.trunc(value)
  const b = currentBackend()
  const n = S.size(shape)
  if (b.fill) {
    // on the backend's own memory: an allocation it cannot make fails here, before any host array is made
    let h
    try {
      h = b.fill(v, { shape: [...shape], dtype })
    } catch (e) {
      if (e instanceof RangeError)
        throw new CoreError(`full: ${dtype}${S.show(shape)} needs ${(n * byteSize[dtype]).toLocaleString('en-US')} bytes: ${e.message}`)
      throw e
    }
    return concrete(b, h, [...shape], dtype)
  }
  const a = alloc(dtype, n)
  a.fill(v)
  return fromArray(a, shape, dtype)
}

/** Zeros of `shape`. @example zeros([2, 2]) */
export const zeros = (shape: Shape, dtype: DType = 'float32'): Tensor => full(shape, 0, dtype)

/** Ones of `shape`. @example ones([3]) */
export const ones = (shape: Shape, dtype: DType = 'float32'): Tensor => full(shape, 1, dtype)

/** Zeros with the shape and dtype of `x`. @example zerosLike(tensor([1, 2], 'int32')) // [0, 0] (int32) */
export const zerosLike = (x: { shape: Shape; dtype: DType }): Tensor => full(x.shape, 0, x.dtype)

/** Ones with the shape and dtype of `x`. @example onesLike(tensor([[1, 2]])) // [[1, 1]] */
export const onesLike = (x: { shape: Shape; dtype: DType }): Tensor => full(x.shape, 1, x.dtype)

/**
 * `[start, start+step, …)` below `stop`; one argument means `[0, n)`.
 * @example arange(4) // [0, 1, 2, 3] int32
 * @example arange(0, 1, 0.25, 'float32') // [0, 0.25, 0.5, 0.75]
 */
export const arange = (start: number, stop?: number, step = 1, dtype: DType = 'int32'): Tensor => {
  if (stop === undefined) [start, stop] = [0, start]
  if (step === 0) throw new CoreError('arange: step must not be 0')
  const n = Math.max(0, Math.ceil((stop - start) / step))
  const a = alloc(dtype, n)
  for (let i = 0; i < n; i++) a[i] = start + i * step
  return fromArray(a, [n], dtype)
}

/** The n×n identity matrix. @example eye(3) */
export const eye = (n: number, dtype: DType = 'float32'): Tensor => {
  const a = alloc(dtype, n * n)
  for (let i = 0; i < n; i++) a[i * n + i] = 1
  return fromArray(a, [n, n], dtype)
}
