/**
 * Reductions: reduceSum, reduceMax over axis sets, and argmax.
 *
 * The input's axes are coalesced into alternating runs of kept and reduced
 * axes. The innermost run is walked as a contiguous plain loop: when it is
 * reduced, each contiguous row folds into one accumulator (a row sum); when it
 * is kept, each row is added elementwise into a row of accumulators (a column
 * sum, as for bias gradients summed over the batch axis). float32 sums
 * accumulate in float64 and are rounded once at the end.
 * @internal
 */
import type { Aval, PrimitiveParams } from '../../Primitive'
import * as S from '../../Shape'
import type { CpuHandle, Prepared } from './types'

let scratch = new Float64Array(256)

/** A float64 scratch array of at least `n` elements (shared, grown on demand; kernels are synchronous). */
const scratchOf = (n: number): Float64Array => {
  if (scratch.length < n) scratch = new Float64Array(Math.max(n, scratch.length * 2))
  return scratch
}

/** Consecutive axes of one kind: `n` elements, reduced or kept. */
export interface Run {
  readonly n: number
  readonly reduced: boolean
}

/** Drops size-1 axes and merges neighbours that are both kept or both reduced (the JS and wasm reductions' view of a shape). */
export const runs = (shape: readonly number[], axes: readonly number[]): Run[] => {
  const out: { n: number; reduced: boolean }[] = []
  shape.forEach((n, i) => {
    if (n === 1) return
    const reduced = axes.includes(i)
    const last = out[out.length - 1]
    if (last && last.reduced === reduced) last.n *= n
    else out.push({ n, reduced })
  })
  return out
}

/**
 * Calls `block(p, q)` for every contiguous block of `inLen` input elements, in
 * memory order: `p` is the block's input offset, `q` the output offset it maps
 * to. `outer` are the runs left of the block; `outLen` the output elements one
 * block covers (1 for a reduced block, its kept length otherwise).
 */
const forBlocks = (outer: readonly Run[], inLen: number, outLen: number, block: (p: number, q: number) => void) => {
  const k = outer.length
  const ostr = new Array<number>(k)
  let acc = outLen
  for (let i = k - 1; i >= 0; i--) {
    ostr[i] = outer[i].reduced ? 0 : acc
    if (!outer[i].reduced) acc *= outer[i].n
  }
  const idx = new Array<number>(k).fill(0)
  const total = outer.reduce((s, r) => s * r.n, 1)
  let q = 0
  for (let t = 0, p = 0; t < total; t++, p += inLen) {
    block(p, q)
    for (let i = k - 1; i >= 0; i--) {
      q += ostr[i]
      if (++idx[i] < outer[i].n) break
      q -= ostr[i] * outer[i].n
      idx[i] = 0
    }
  }
}

/** Σ x[p .. p+len] in float64, four partial sums to break the add latency chain. */
const rowSum = (x: CpuHandle, p: number, len: number): number => {
  let s0 = 0, s1 = 0, s2 = 0, s3 = 0
  let i = 0
  for (; i + 3 < len; i += 4) {
    s0 += x[p + i]
    s1 += x[p + i + 1]
    s2 += x[p + i + 2]
    s3 += x[p + i + 3]
  }
  for (; i < len; i++) s0 += x[p + i]
  return s0 + s1 + (s2 + s3)
}

/** Σ x[p .. p+len] wrapping like int32. */
const rowSumInt = (x: CpuHandle, p: number, len: number): number => {
  let s = 0
  for (let i = 0; i < len; i++) s = (s + x[p + i]) | 0
  return s
}

/** acc[q..q+len] += Σ over `rows` consecutive rows of x from p, four rows at a time. */
const addRows = (x: CpuHandle, p: number, rows: number, len: number, acc: Float64Array, q: number) => {
  let r = 0
  for (; r + 4 <= rows; r += 4) {
    const p0 = p + r * len, p1 = p0 + len, p2 = p1 + len, p3 = p2 + len
    for (let j = 0; j < len; j++) acc[q + j] += x[p0 + j] + x[p1 + j] + (x[p2 + j] + x[p3 + j])
  }
  for (; r < rows; r++) {
    const p0 = p + r * len
    for (let j = 0; j < len; j++) acc[q + j] += x[p0 + j]
  }
}

/** As addRows for int32, wrapping. */
const addRowsInt = (x: CpuHandle, p: number, rows: number, len: number, acc: CpuHandle, q: number) => {
  for (let r = 0; r < rows; r++) {
    const p0 = p + r * len
    for (let j = 0; j < len; j++) acc[q + j] = (acc[q + j] + x[p0 + j]) | 0
  }
}

/** max(m, x[p .. p+len]) propagating NaN; one test per four elements while none exceeds m. */
const rowMax = (x: CpuHandle, p: number, len: number, m: number): number => {
  if (m !== m) return m
  let i = 0
  for (; i + 3 < len; i += 4) {
    const j = p + i
    if (x[j] <= m && x[j + 1] <= m && x[j + 2] <= m && x[j + 3] <= m) continue
    for (let k = j; k < j + 4; k++) {
      const v = x[k]
      if (!(v <= m)) {
        m = v
        if (v !== v) return v
      }
    }
  }
  for (; i < len; i++) {
    const v = x[p + i]
    if (!(v <= m)) {
      m = v
      if (v !== v) return v
    }
  }
  return m
}

/** o[q+j] = max(o[q+j], x[p+j]) for j < len, propagating NaN. */
const maxInto = (x: CpuHandle, p: number, o: CpuHandle, q: number, len: number) => {
  for (let j = 0; j < len; j++) {
    const v = x[p + j]
    const m = o[q + j]
    if (!(v <= m) && m === m) o[q + j] = v
  }
}

/** Index of the first maximum of x[p .. p+n] (NaN counts as the maximum). */
const rowArgmax = (x: CpuHandle, p: number, n: number): number => {
  let best = x[p]
  let at = 0
  if (best !== best) return 0
  let i = 1
  for (; i + 3 < n; i += 4) {
    const j = p + i
    if (x[j] <= best && x[j + 1] <= best && x[j + 2] <= best && x[j + 3] <= best) continue
    for (let k = 0; k < 4; k++) {
      const v = x[j + k]
      if (!(v <= best)) {
        best = v
        at = i + k
        if (v !== v) return at
      }
    }
  }
  for (; i < n; i++) {
    const v = x[p + i]
    if (!(v <= best)) {
      best = v
      at = i
      if (v !== v) return at
    }
  }
  return at
}

/** The runs and block layout of a reduction: the innermost reduced run, or the innermost (reduced, kept) pair. */
const layout = (shape: readonly number[], axes: readonly number[]) => {
  const rs = runs(shape, axes)
  const last = rs[rs.length - 1]
  if (last.reduced) return { innerKept: false, rows: 1, len: last.n, outer: rs.slice(0, -1) }
  const rows = rs[rs.length - 2].n
  return { innerKept: true, rows, len: last.n, outer: rs.slice(0, -2) }
}

/** reduceSum over `axes`; float32 accumulates in float64, int32 wraps. */
export const prepareReduceSum = (avals: readonly Aval[], p: PrimitiveParams['reduceSum'], out: Aval): Prepared => {
  const size = S.size(out.shape)
  if (S.size(avals[0].shape) === 0) return (_, o) => o.fill(0)
  if (runs(avals[0].shape, p.axes).every((r) => !r.reduced)) return (X, o) => o.set(X[0])
  const { innerKept, rows, len, outer } = layout(avals[0].shape, p.axes)
  const int = avals[0].dtype === 'int32'
  if (!innerKept && outer.every((r) => !r.reduced)) {
    // row sums: each output element is one contiguous row
    return (X, o) => {
      const x = X[0]
      if (int) for (let q = 0, p = 0; q < size; q++, p += len) o[q] = rowSumInt(x, p, len)
      else for (let q = 0, p = 0; q < size; q++, p += len) o[q] = rowSum(x, p, len)
    }
  }
  const inLen = rows * len
  const outLen = innerKept ? len : 1
  return (X, o) => {
    const x = X[0]
    if (int) {
      o.fill(0)
      if (innerKept) forBlocks(outer, inLen, outLen, (p, q) => addRowsInt(x, p, rows, len, o, q))
      else forBlocks(outer, inLen, outLen, (p, q) => (o[q] = (o[q] + rowSumInt(x, p, len)) | 0))
      return
    }
    const acc = scratchOf(size)
    acc.fill(0, 0, size)
    if (innerKept) forBlocks(outer, inLen, outLen, (p, q) => addRows(x, p, rows, len, acc, q))
    else forBlocks(outer, inLen, outLen, (p, q) => (acc[q] += rowSum(x, p, len)))
    for (let i = 0; i < size; i++) o[i] = acc[i]
  }
}

/** reduceMax over `axes`; NaN propagates (like jnp.max). */
export const prepareReduceMax = (avals: readonly Aval[], p: PrimitiveParams['reduceMax'], out: Aval): Prepared => {
  const size = S.size(out.shape)
  if (S.size(avals[0].shape) === 0) return () => {}
  if (runs(avals[0].shape, p.axes).every((r) => !r.reduced)) return (X, o) => o.set(X[0])
  const { innerKept, rows, len, outer } = layout(avals[0].shape, p.axes)
  const lowest = avals[0].dtype === 'int32' ? -2147483648 : -Infinity
  const inLen = rows * len
  return (X, o) => {
    const x = X[0]
    o.fill(lowest, 0, size)
    if (innerKept)
      forBlocks(outer, inLen, len, (p, q) => {
        for (let r = 0, pr = p; r < rows; r++, pr += len) maxInto(x, pr, o, q, len)
      })
    else forBlocks(outer, inLen, 1, (p, q) => (o[q] = rowMax(x, p, len, o[q])))
  }
}

/** argmax(axis): the first index of the maximum; NaN counts as the maximum (like numpy). */
export const prepareArgmax = (avals: readonly Aval[], p: PrimitiveParams['argmax'], _out: Aval): Prepared => {
  const shape = avals[0].shape
  const n = shape[p.axis]
  const before = S.size(shape.slice(0, p.axis))
  const after = S.size(shape.slice(p.axis + 1))
  return (X, o) => {
    const x = X[0]
    if (after === 1) {
      for (let a = 0, base = 0; a < before; a++, base += n) o[a] = rowArgmax(x, base, n)
      return
    }
    const best = scratchOf(after)
    for (let a = 0; a < before; a++) {
      const base = a * n * after
      const ob = a * after
      for (let j = 0; j < after; j++) {
        best[j] = x[base + j]
        o[ob + j] = 0
      }
      for (let i = 1; i < n; i++) {
        const row = base + i * after
        for (let j = 0; j < after; j++) {
          const v = x[row + j]
          const b = best[j]
          if ((v > b || v !== v) && b === b) {
            best[j] = v
            o[ob + j] = i
          }
        }
      }
    }
  }
}
