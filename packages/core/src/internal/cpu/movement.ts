/**
 * Movement kernels: reshape, transpose, broadcast, slice, pad, concat. Each is
 * a strided copy (a generated loop, see `loops.ts`) between row-major arrays.
 * @internal
 */
import type { DType } from '../../DType'
import type { Aval, PrimitiveParams } from '../../Primitive'
import * as S from '../../Shape'
import { broadcastStrides, contiguous, copyBody, prepareLoop } from './loops'
import type { Operand } from './loops'
import type { CpuHandle, Prepared } from './types'

const copy = (dtype: DType, dims: readonly number[], out: Operand, x: Operand) => prepareLoop(copyBody(dtype), dims, out, [x])

const dot = (a: readonly number[], b: readonly number[]) => a.reduce((s, v, i) => s + v * b[i], 0)

/** reshape: a copy (never an alias: handles are disposed independently). */
export const prepareReshape = (): Prepared => (X, o) => o.set(X[0])

const tileSize = 16

/** Cache-blocked 2-D transpose of `rows × cols` at offsets (the common matmul-backward case). */
const transpose2d = (x: CpuHandle, xo: number, o: CpuHandle, oo: number, rows: number, cols: number) => {
  for (let r0 = 0; r0 < rows; r0 += tileSize) {
    const r1 = Math.min(rows, r0 + tileSize)
    for (let c0 = 0; c0 < cols; c0 += tileSize) {
      const c1 = Math.min(cols, c0 + tileSize)
      for (let c = c0; c < c1; c++) {
        const ob = oo + c * rows
        for (let r = r0; r < r1; r++) o[ob + r] = x[xo + r * cols + c]
      }
    }
  }
}

/** transpose(perm): out axis i is input axis perm[i]. Batched 2-D transposes are cache-blocked. */
export const prepareTranspose = (avals: readonly Aval[], p: PrimitiveParams['transpose'], out: Aval): Prepared => {
  const x = avals[0]
  const xs = S.strides(x.shape)
  const r = x.shape.length
  const lastTwoSwapped = r >= 2 && p.perm[r - 1] === r - 2 && p.perm[r - 2] === r - 1 && p.perm.slice(0, -2).every((d, i) => d === i)
  const rows = x.shape[r - 2]
  const cols = x.shape[r - 1]
  if (lastTwoSwapped && rows >= tileSize && cols >= tileSize) {
    const batch = S.size(x.shape) / (rows * cols)
    return (X, o) => {
      for (let b = 0; b < batch; b++) transpose2d(X[0], b * rows * cols, o, b * rows * cols, rows, cols)
    }
  }
  return copy(out.dtype, out.shape, contiguous(out.shape), { base: 0, strides: p.perm.map((d) => xs[d]) })
}

/** broadcast(shape): numpy rule, leading axes may be added. */
export const prepareBroadcast = (avals: readonly Aval[], _p: PrimitiveParams['broadcast'], out: Aval): Prepared =>
  copy(out.dtype, out.shape, contiguous(out.shape), { base: 0, strides: broadcastStrides(avals[0].shape, out.shape) })

/** slice(start, size): the box `start .. start+size`. */
export const prepareSlice = (avals: readonly Aval[], p: PrimitiveParams['slice'], out: Aval): Prepared => {
  const xs = S.strides(avals[0].shape)
  return copy(out.dtype, out.shape, contiguous(out.shape), { base: dot(p.start, xs), strides: xs })
}

/** pad(lo, hi) with zeros: zero the output, then copy the input into its interior. */
export const preparePad = (avals: readonly Aval[], p: PrimitiveParams['pad'], out: Aval): Prepared => {
  const os = S.strides(out.shape)
  const inner = copy(out.dtype, avals[0].shape, { base: dot(p.lo, os), strides: os }, contiguous(avals[0].shape))
  return (X, o) => {
    o.fill(0)
    inner(X, o)
  }
}

/** concat(axis): each input copied into its slab of the output. */
export const prepareConcat = (avals: readonly Aval[], p: PrimitiveParams['concat'], out: Aval): Prepared => {
  const os = S.strides(out.shape)
  let offset = 0
  const parts = avals.map((x) => {
    const loop = copy(out.dtype, x.shape, { base: offset * os[p.axis], strides: os }, contiguous(x.shape))
    offset += x.shape[p.axis]
    return loop
  })
  const one: CpuHandle[] = []
  return (X, o) => {
    for (let i = 0; i < parts.length; i++) {
      one[0] = X[i]
      parts[i](one, o)
    }
  }
}
