/**
 * gather (jnp.take along an axis) and its inverse scatterAdd. Both see the
 * data as `[before, n, after]` around the indexed axis and move contiguous
 * rows of `after` elements.
 * @internal
 */
import { CoreError } from '../../CoreError'
import type { Aval, PrimitiveParams } from '../../Primitive'
import * as S from '../../Shape'
import type { Prepared } from './types'

/** Throws a CoreError naming `op`, the first bad index and the valid range. */
export const checkIndices = (op: string, idx: Int32Array, k: number, n: number, axis: number): void => {
  for (let i = 0; i < k; i++) {
    const j = idx[i]
    if (j < 0 || j >= n)
      throw new CoreError(`${op}: index ${j} (at position ${i} of the indices) is out of range [0, ${n}) for axis ${axis} of size ${n}`)
  }
}

/** gather(x, indices; axis): shape x[:axis] ++ indices.shape ++ x[axis+1:]. */
export const prepareGather = (avals: readonly Aval[], p: PrimitiveParams['gather'], _out: Aval): Prepared => {
  const [x, idx] = avals
  const n = x.shape[p.axis]
  const before = S.size(x.shape.slice(0, p.axis))
  const after = S.size(x.shape.slice(p.axis + 1))
  const k = S.size(idx.shape)
  return (X, o) => {
    const src = X[0]
    const ix = X[1] as Int32Array
    checkIndices('gather', ix, k, n, p.axis)
    let q = 0
    for (let a = 0; a < before; a++) {
      const base = a * n * after
      for (let i = 0; i < k; i++) {
        const from = base + ix[i] * after
        if (after === 1) o[q++] = src[from]
        else for (let j = 0; j < after; j++) o[q++] = src[from + j]
      }
    }
  }
}

/** scatterAdd(indices, updates; axis, size): zeros of the output shape with updates added at indices (duplicates add). */
export const prepareScatterAdd = (avals: readonly Aval[], p: PrimitiveParams['scatterAdd'], out: Aval): Prepared => {
  const [idx, u] = avals
  const k = S.size(idx.shape)
  const before = S.size(u.shape.slice(0, p.axis))
  const after = S.size(u.shape.slice(p.axis + idx.shape.length))
  const n = p.size
  const int = out.dtype === 'int32'
  const bool = out.dtype === 'bool'
  return (X, o) => {
    const ix = X[0] as Int32Array
    const src = X[1]
    checkIndices('scatterAdd', ix, k, n, p.axis)
    o.fill(0)
    let q = 0
    for (let a = 0; a < before; a++) {
      const base = a * n * after
      for (let i = 0; i < k; i++) {
        const to = base + ix[i] * after
        if (int) for (let j = 0; j < after; j++) o[to + j] = (o[to + j] + src[q++]) | 0
        else if (bool) for (let j = 0; j < after; j++) o[to + j] |= src[q++]
        else for (let j = 0; j < after; j++) o[to + j] += src[q++]
      }
    }
  }
}
