/** The element types a tensor can hold. */
export type DType = 'float32' | 'int32' | 'bool'

/** The typed array each dtype is stored in on the host. */
export type TypedArray = Float32Array | Int32Array | Uint8Array

/** @internal map from dtype to its host array type */
export interface ArrayOf {
  float32: Float32Array
  int32: Int32Array
  bool: Uint8Array
}

/** Every dtype, in a fixed order (useful for arbitraries and codecs). */
export const dtypes: readonly DType[] = ['float32', 'int32', 'bool']

/** Bytes per element of each dtype. */
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

/** True for the string names of the dtypes above. */
export const isDType = (x: unknown): x is DType => x === 'float32' || x === 'int32' || x === 'bool'

/** The dtype a host typed array stores. */
export const dtypeOfArray = (a: TypedArray): DType =>
  a instanceof Float32Array ? 'float32' : a instanceof Int32Array ? 'int32' : 'bool'
