/**
 * Batched float32 matmul `[..., m, k] × [..., k, n]` with numpy-broadcast batch
 * axes, built on a register-blocked GEMM: B is packed into `k × 4` column
 * panels (read contiguously), and a 4×4 micro-kernel keeps its 16 partial
 * sums in locals (float64) while streaming four rows of A. Narrow problems
 * (m < 4 or n < 4) take plain row loops instead.
 * @internal
 */
import type { Aval } from '../../Primitive'
import * as S from '../../Shape'
import { broadcastStrides } from './loops'
import type { Prepared } from './types'

type F32 = Float32Array

let panel = new Float32Array(4 * 256)
let row64 = new Float64Array(256)

/** m < 4: C[i,:] = Σ_p A[i,p] · B[p,:], accumulated per row in float64. */
const gemmRows = (A: F32, ao: number, B: F32, bo: number, C: F32, co: number, m: number, k: number, n: number) => {
  if (row64.length < n) row64 = new Float64Array(n)
  const acc = row64
  for (let i = 0; i < m; i++) {
    acc.fill(0, 0, n)
    for (let p = 0; p < k; p++) {
      const a = A[ao + i * k + p]
      const b = bo + p * n
      for (let j = 0; j < n; j++) acc[j] += a * B[b + j]
    }
    const o = co + i * n
    for (let j = 0; j < n; j++) C[o + j] = acc[j]
  }
}

/** n < 4: each output element is one dot product. */
const gemmDots = (A: F32, ao: number, B: F32, bo: number, C: F32, co: number, m: number, k: number, n: number) => {
  for (let i = 0; i < m; i++)
    for (let j = 0; j < n; j++) {
      let s = 0
      const a = ao + i * k
      for (let p = 0, q = bo + j; p < k; p++, q += n) s += A[a + p] * B[q]
      C[co + i * n + j] = s
    }
}

/** Copies columns j0 .. j0+3 of B (zero past n) into a `k × 4` row-major panel. */
const packPanel = (B: F32, bo: number, k: number, n: number, j0: number): F32 => {
  if (panel.length < 4 * k) panel = new Float32Array(4 * k)
  const bp = panel
  const w = Math.min(4, n - j0)
  for (let p = 0, q = 0, r = bo + j0; p < k; p++, q += 4, r += n) {
    bp[q] = B[r]
    bp[q + 1] = w > 1 ? B[r + 1] : 0
    bp[q + 2] = w > 2 ? B[r + 2] : 0
    bp[q + 3] = w > 3 ? B[r + 3] : 0
  }
  return bp
}

/**
 * C = A · B for row-major `A: m × k` at offset `ao`, `B: k × n` at `bo`, into
 * `C: m × n` at `co` (overwritten).
 */
export const gemm = (A: F32, ao: number, B: F32, bo: number, C: F32, co: number, m: number, k: number, n: number): void => {
  if (m === 0 || n === 0) return
  if (m < 4) return gemmRows(A, ao, B, bo, C, co, m, k, n)
  if (n < 4) return gemmDots(A, ao, B, bo, C, co, m, k, n)
  const m4 = m - (m % 4)
  for (let j0 = 0; j0 < n; j0 += 4) {
    const bp = packPanel(B, bo, k, n, j0)
    const w = Math.min(4, n - j0)
    for (let i0 = 0; i0 < m4; i0 += 4) {
      let c00 = 0, c01 = 0, c02 = 0, c03 = 0, c10 = 0, c11 = 0, c12 = 0, c13 = 0
      let c20 = 0, c21 = 0, c22 = 0, c23 = 0, c30 = 0, c31 = 0, c32 = 0, c33 = 0
      const a0 = ao + i0 * k, a1 = a0 + k, a2 = a1 + k, a3 = a2 + k
      for (let p = 0, q = 0; p < k; p++, q += 4) {
        const b0 = bp[q], b1 = bp[q + 1], b2 = bp[q + 2], b3 = bp[q + 3]
        let x = A[a0 + p]
        c00 += x * b0; c01 += x * b1; c02 += x * b2; c03 += x * b3
        x = A[a1 + p]
        c10 += x * b0; c11 += x * b1; c12 += x * b2; c13 += x * b3
        x = A[a2 + p]
        c20 += x * b0; c21 += x * b1; c22 += x * b2; c23 += x * b3
        x = A[a3 + p]
        c30 += x * b0; c31 += x * b1; c32 += x * b2; c33 += x * b3
      }
      const o = co + i0 * n + j0
      if (w === 4) {
        C[o] = c00; C[o + 1] = c01; C[o + 2] = c02; C[o + 3] = c03
        C[o + n] = c10; C[o + n + 1] = c11; C[o + n + 2] = c12; C[o + n + 3] = c13
        C[o + 2 * n] = c20; C[o + 2 * n + 1] = c21; C[o + 2 * n + 2] = c22; C[o + 2 * n + 3] = c23
        C[o + 3 * n] = c30; C[o + 3 * n + 1] = c31; C[o + 3 * n + 2] = c32; C[o + 3 * n + 3] = c33
      } else {
        storeEdge(C, o, n, w, c00, c01, c02, c03)
        storeEdge(C, o + n, n, w, c10, c11, c12, c13)
        storeEdge(C, o + 2 * n, n, w, c20, c21, c22, c23)
        storeEdge(C, o + 3 * n, n, w, c30, c31, c32, c33)
      }
    }
    for (let i = m4; i < m; i++) {
      let c0 = 0, c1 = 0, c2 = 0, c3 = 0
      const a = ao + i * k
      for (let p = 0, q = 0; p < k; p++, q += 4) {
        const x = A[a + p]
        c0 += x * bp[q]; c1 += x * bp[q + 1]; c2 += x * bp[q + 2]; c3 += x * bp[q + 3]
      }
      storeEdge(C, co + i * n + j0, n, w, c0, c1, c2, c3)
    }
  }
}

/** Stores the first `w` of four values of a micro-tile row. */
const storeEdge = (C: F32, o: number, _n: number, w: number, v0: number, v1: number, v2: number, v3: number) => {
  C[o] = v0
  if (w > 1) C[o + 1] = v1
  if (w > 2) C[o + 2] = v2
  if (w > 3) C[o + 3] = v3
}

/**
 * The matmul kernel. When B has no batch of its own (or a broadcast one) and
 * A's batch is full, the batch folds into A's rows: one GEMM of `(batch·m) × k`.
 */
export const prepareMatmul = (avals: readonly Aval[], _p: unknown, out: Aval): Prepared => {
  const [a, b] = avals
  const r = out.shape.length
  const [m, n] = [out.shape[r - 2], out.shape[r - 1]]
  const k = a.shape[a.shape.length - 1]
  const batch = out.shape.slice(0, -2)
  const nb = S.size(batch)
  const aStr = broadcastStrides(a.shape.slice(0, -2), batch).map((s) => s * m * k)
  const bStr = broadcastStrides(b.shape.slice(0, -2), batch).map((s) => s * k * n)
  const foldable = bStr.every((s) => s === 0) && S.size(a.shape.slice(0, -2)) === nb
  if (foldable) return (X, o) => gemm(X[0] as F32, 0, X[1] as F32, 0, o as F32, 0, nb * m, k, n)
  return (X, o) => {
    const idx = new Array<number>(batch.length).fill(0)
    let ao = 0
    let bo = 0
    for (let t = 0; t < nb; t++) {
      gemm(X[0] as F32, ao, X[1] as F32, bo, o as F32, t * m * n, m, k, n)
      for (let i = batch.length - 1; i >= 0; i--) {
        ao += aStr[i]
        bo += bStr[i]
        if (++idx[i] < batch[i]) break
        ao -= aStr[i] * batch[i]
        bo -= bStr[i] * batch[i]
        idx[i] = 0
      }
    }
  }
}
