import { CoreError } from './CoreError'
import { fromArray } from './creation'
import { householderQr } from './internal/linalg/householder'
import { svdTall } from './internal/linalg/svd'
import * as S from './Shape'
import { Tensor } from './Tensor'

/**
 * Host linear algebra for projectors: Householder QR and the thin SVD
 * (Golub–Kahan–Reinsch), on row-major arrays, computed in Float64. The
 * `*Host` functions take and return plain arrays; `qr` and `svd` wrap them for
 * concrete 2-D tensors and return float32 tensors on the current backend.
 */

/** A row-major host matrix. */
export type HostMatrix = Float64Array | Float32Array

const checkDims = (op: string, a: ArrayLike<number>, m: number, n: number): void => {
  if (!Number.isInteger(m) || !Number.isInteger(n) || m < 0 || n < 0)
    throw new CoreError(`${op}: dimensions must be non-negative integers, got m = ${m}, n = ${n}`)
  if (a.length !== m * n) throw new CoreError(`${op}: a ${m}×${n} matrix needs ${m * n} entries, got ${a.length}`)
}

/**
 * Reduced Householder QR of a row-major m×n matrix: `q` is m×k with orthonormal
 * columns, `r` is k×n upper triangular with a non-negative diagonal, k = min(m, n), A = QR.
 * @example
 * const { q, r } = qrHost(new Float64Array([3, 1, 4, 2]), 2, 2) // r[0] = 5
 */
export const qrHost = (a: HostMatrix, m: number, n: number): { q: Float64Array; r: Float64Array } => {
  checkDims('qrHost', a, m, n)
  return householderQr(a, m, n)
}

const transpose = (a: ArrayLike<number>, rows: number, cols: number): Float64Array => {
  const out = new Float64Array(rows * cols)
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) out[j * rows + i] = a[i * cols + j]
  return out
}

/**
 * Thin SVD of a row-major m×n matrix, A = U·diag(s)·Vᵀ: `u` is m×k and `vt` is
 * k×n with orthonormal columns/rows, `s` holds the k = min(m, n) singular values
 * in descending order, accurate to about 1e-14·‖A‖ (far below float32 round-off).
 * @throws CoreError when the sizes do not match or an entry is NaN or infinite
 * @example
 * const { s } = svdHost(new Float64Array([3, 0, 0, 4]), 2, 2) // s = [4, 3]
 */
export const svdHost = (a: HostMatrix, m: number, n: number): { u: Float64Array; s: Float64Array; vt: Float64Array } => {
  checkDims('svdHost', a, m, n)
  const bad = a.findIndex((x) => !Number.isFinite(x))
  if (bad >= 0)
    throw new CoreError(`svdHost: entry [${Math.floor(bad / n)}, ${bad % n}] is ${a[bad]}; the SVD needs finite entries`)
  if (m >= n) {
    const { ut, s, vt } = svdTall(a, m, n)
    return { u: transpose(ut, n, m), s, vt }
  }
  // A = (Aᵀ)ᵀ = (U'ΣV'ᵀ)ᵀ = V'ΣU'ᵀ
  const { ut, s, vt } = svdTall(transpose(a, m, n), n, m)
  return { u: transpose(vt, m, m), s, vt: ut }
}

const matrixOf = (op: string, x: Tensor): { data: Float64Array; m: number; n: number } => {
  if (!(x instanceof Tensor)) throw new CoreError(`${op}: expected a Tensor, got ${typeof x}`)
  if (x.rank !== 2) throw new CoreError(`${op}: expected a 2-D tensor (a matrix), got ${x.dtype}${S.show(x.shape)}`)
  return { data: Float64Array.from(x.dataSync()), m: x.shape[0], n: x.shape[1] }
}

/**
 * Reduced QR of a concrete 2-D tensor (read on the host): Q m×k with
 * orthonormal columns, R k×n upper triangular with R_ii ≥ 0, as float32 tensors.
 * @throws CoreError for a tensor that is not 2-D, or that is traced by jit
 * @example
 * const { q, r } = qr(tensor([[1, 2], [3, 4], [5, 6]])) // q: [3,2], r: [2,2]
 */
export const qr = (x: Tensor): { q: Tensor; r: Tensor } => {
  const { data, m, n } = matrixOf('qr', x)
  const k = Math.min(m, n)
  const { q, r } = householderQr(data, m, n)
  return { q: fromArray(Float32Array.from(q), [m, k]), r: fromArray(Float32Array.from(r), [k, n]) }
}

/**
 * Thin SVD of a concrete 2-D tensor (read on the host): U m×k, s [k]
 * descending, Vᵀ k×n, k = min(m, n), as float32 tensors.
 * @throws CoreError for a tensor that is not 2-D, traced by jit, or with non-finite entries
 * @example
 * const { u, s, vt } = svd(tensor([[3, 0], [0, 4]])) // s = [4, 3]
 */
export const svd = (x: Tensor): { u: Tensor; s: Tensor; vt: Tensor } => {
  const { data, m, n } = matrixOf('svd', x)
  const k = Math.min(m, n)
  const { u, s, vt } = svdHost(data, m, n)
  return {
    u: fromArray(Float32Array.from(u), [m, k]),
    s: fromArray(Float32Array.from(s), [k]),
    vt: fromArray(Float32Array.from(vt), [k, n]),
  }
}
