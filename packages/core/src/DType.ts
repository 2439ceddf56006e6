/** The element types a tensor can hold. @example const d: DType = tensor([1, 2], 'int32').dtype // 'int32' */
export type DType = 'float32' | 'int32' | 'bool'

/** The typed array each dtype is stored in on the host. @example const data: TypedArray = tensor([1, 2]).dataSync() // Float32Array [1, 2] */
export type TypedArray = Float32Array | Int32Array | Uint8Array

/** @internal map from dtype to its host array type */
export interface ArrayOf {
  float32: Float32Array
  int32: Int32Array
  bool: Uint8Array
}

/** Every dtype, in a fixed order (useful for arbitraries and codecs). @example dtypes // ['float32', 'int32', 'bool'] */
export const dtypes: readonly DType[] = ['float32', 'int32', 'bool']

/** Bytes per element of each dtype. @example byteSize.float32 // 4; byteSize.bool // 1 */
export const byteSize: Readonly<Record<DType, number>> = { float32: 4, int32: 4, bool: 1 }

/**
 * A zeroed host array of `n` elements of `dtype`.
 * @example alloc('int32', 3) // Int32Array [0, 0, 0]
 */
export const alloc = <D extends DType>(dtype: D, n: number): ArrayOf[D] => {
  switch (dtype) {
    case 'float32':
      return new Float32Array(n) as ArrayOf[D]
    case 'int32':
      return new Int32Array(n) as ArrayOf[D]
    default:
      return new Uint8Array(n) as ArrayOf[D]
  }
}

/**
 * True for the string names of the dtypes above.
 * @example
 * isDType('int32') // true
 * isDType('float64') // false
 */
export const isDType = (x: unknown): x is DType => x === 'float32' || x === 'int32' || x === 'bool'

/** The dtype a host typed array stores. */
export const dtypeOfArray = (a: TypedArray): DType =>
  a instanceof Float32Array ? 'float32' : a instanceof Int32Array ? 'int32' : 'bool'
