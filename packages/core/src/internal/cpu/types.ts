import type { TypedArray } from '../../DType'
import type { Aval, Primitive, PrimitiveParams } from '../../Primitive'

/**
 * A cpu tensor handle: the host typed array itself (Float32Array for float32,
 * Int32Array for int32, Uint8Array of 0/1 for bool), row-major and contiguous,
 * of length = size of the shape.
 */
export type CpuHandle = TypedArray

/**
 * A kernel specialised to fixed input and output avals: reads `inputs` and
 * overwrites every element of `dst` (a contiguous array of the output's dtype
 * and size). It never writes its inputs; `dst` never aliases an input unless
 * the kernel is elementwise and that input has the output's full size.
 */
export type Prepared = (inputs: readonly CpuHandle[], dst: CpuHandle) => void

/** Specialises the kernel of primitive `P` to its input avals, params and output aval. */
export type Preparer<P extends Primitive> = (avals: readonly Aval[], params: PrimitiveParams[P], out: Aval) => Prepared

/** One preparer per primitive: leaving one out is a compile error. */
export type PrepareTable = { readonly [P in Primitive]: Preparer<P> }

/**
 * A kernel that writes into a provided output array (the "into" form used by
 * compiled programs): `into(inputs, avals, params, out, dst)`.
 */
export type IntoKernel<P extends Primitive> = (
  inputs: readonly CpuHandle[],
  avals: readonly Aval[],
  params: PrimitiveParams[P],
  out: Aval,
  dst: CpuHandle,
) => void

/** One "into" kernel per primitive. */
export type IntoKernelTable = { readonly [P in Primitive]: IntoKernel<P> }
