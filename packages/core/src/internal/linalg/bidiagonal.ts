import { accumulate } from './householder'

/**
 * Householder bidiagonalisation (Golub–Kahan): A = U·B·Vᵀ with B upper
 * bidiagonal, for a row-major m×n A with m ≥ n, in Float64. The factors are
 * returned transposed (row r of ut is column r of U) for the QR sweeps of svd.ts.
 */

export interface Bidiagonal {
  readonly d: Float64Array
  readonly e: Float64Array
  /** Uᵀ of the left factor, n×m (row r = column r of U) */
  readonly ut: Float64Array
  /** Vᵀ of the right factor, n×n */
  readonly vt: Float64Array
}

/** Householder data of x (strided): β, τ and the factor 1/(α − β) that scales x[1..] into v[1..]. */
const householder = (a: Float64Array, off: number, stride: number, len: number): { beta: number; tau: number; inv: number } => {
  const alpha = a[off]
  let scale = 0
  for (let i = 1; i < len; i++) scale = Math.max(scale, Math.abs(a[off + i * stride]))
  if (scale === 0) return { beta: alpha, tau: 0, inv: 0 }
  let ss = 0
  for (let i = 1; i < len; i++) ss += (a[off + i * stride] / scale) ** 2
  const h = Math.hypot(alpha, scale * Math.sqrt(ss))
  const beta = alpha >= 0 ? -h : h
  return { beta, tau: (beta - alpha) / beta, inv: 1 / (alpha - beta) }
}

/**
 * A = U·B·Vᵀ with B upper bidiagonal (diagonal d, superdiagonal e), for a
 * row-major m×n A with m ≥ n. One pass over the trailing rows per step: each
 * row gets the left and the right reflector, and feeds the next step's vᵀA.
 */
export const bidiagonalise = (src: ArrayLike<number>, m: number, n: number): Bidiagonal => {
  const a = Float64Array.from(src)
  const d = new Float64Array(n)
  const e = new Float64Array(Math.max(n - 1, 0))
  const tauq = new Float64Array(n)
  const taup = new Float64Array(n)
  const w = new Float64Array(n)
  const z = new Float64Array(n)
  const u = new Float64Array(n)
  // z = Σ_{i>0} a[i,0]·a[i,1:], the first step's vᵀA without its scaling
  for (let i = 1; i < m; i++) for (let j = 1, x = a[i * n]; j < n; j++) z[j] += x * a[i * n + j]
  for (let k = 0; k < n; k++) {
    const ck = k * n
    const L = householder(a, ck + k, n, m - k)
    tauq[k] = L.tau
    d[k] = L.beta
    a[ck + k] = L.beta
    for (let i = k + 1; i < m; i++) a[i * n + k] *= L.inv
    if (k === n - 1) break
    // w = vᵀ·A[k:, k+1:], then row k gets the left reflector
    for (let j = k + 1; j < n; j++) {
      w[j] = a[ck + j] + L.inv * z[j]
      a[ck + j] -= L.tau * w[j]
    }
    const R = householder(a, ck + k + 1, 1, n - k - 1)
    taup[k] = R.tau
    e[k] = R.beta
    a[ck + k + 1] = R.beta
    u[k + 1] = 1
    for (let j = k + 2; j < n; j++) u[j] = a[ck + j] *= R.inv
    z.fill(0)
    updateRow(a, n, k, k + 1, L.tau, R.tau, w, u, null)
    let i = k + 2
    for (; i + 4 <= m; i += 4) updateRows4(a, n, k, i, L.tau, R.tau, w, u, z)
    for (; i < m; i++) updateRow(a, n, k, i, L.tau, R.tau, w, u, z)
  }
  const uq = accumulate(m, n, n, 0, tauq, (j, r) => a[r * n + j])
  const vq = accumulate(n, n, n - 1, 1, taup, (j, r) => a[j * n + r])
  return { d, e, ut: transpose(uq, m, n), vt: transpose(vq, n, n) }
}

/**
 * Row i of the trailing matrix (columns k+1…) gets the left reflector (v_i = a[i,k],
 * vᵀA = w) and the right one (u); then z += a[i,k+1]·a[i,k+2:] feeds the next step.
 */
const updateRow = (
  a: Float64Array,
  n: number,
  k: number,
  i: number,
  tl: number,
  tr: number,
  w: Float64Array,
  u: Float64Array,
  z: Float64Array | null,
): void => {
  const ri = i * n
  const f = tl * a[ri + k]
  let s = 0
  for (let j = k + 1; j < n; j++) {
    const r = a[ri + j] - f * w[j]
    a[ri + j] = r
    s += r * u[j]
  }
  const g = tr * s
  const x = (a[ri + k + 1] -= g)
  for (let j = k + 2; j < n; j++) {
    const r = a[ri + j] - g * u[j]
    a[ri + j] = r
    if (z) z[j] += x * r
  }
}

/** updateRow for rows i…i+3 at once (each w, u, z entry is loaded once for four rows). */
const updateRows4 = (
  a: Float64Array,
  n: number,
  k: number,
  i: number,
  tl: number,
  tr: number,
  w: Float64Array,
  u: Float64Array,
  z: Float64Array,
): void => {
  const r0 = i * n
  const r1 = r0 + n
  const r2 = r1 + n
  const r3 = r2 + n
  const f0 = tl * a[r0 + k]
  const f1 = tl * a[r1 + k]
  const f2 = tl * a[r2 + k]
  const f3 = tl * a[r3 + k]
  let s0 = 0
  let s1 = 0
  let s2 = 0
  let s3 = 0
  for (let j = k + 1; j < n; j++) {
    const wj = w[j]
    const uj = u[j]
    const p0 = a[r0 + j] - f0 * wj
    const p1 = a[r1 + j] - f1 * wj
    const p2 = a[r2 + j] - f2 * wj
    const p3 = a[r3 + j] - f3 * wj
    a[r0 + j] = p0
    a[r1 + j] = p1
    a[r2 + j] = p2
    a[r3 + j] = p3
    s0 += p0 * uj
    s1 += p1 * uj
    s2 += p2 * uj
    s3 += p3 * uj
  }
  const g0 = tr * s0
  const g1 = tr * s1
  const g2 = tr * s2
  const g3 = tr * s3
  const x0 = (a[r0 + k + 1] -= g0)
  const x1 = (a[r1 + k + 1] -= g1)
  const x2 = (a[r2 + k + 1] -= g2)
  const x3 = (a[r3 + k + 1] -= g3)
  for (let j = k + 2; j < n; j++) {
    const uj = u[j]
    const p0 = a[r0 + j] - g0 * uj
    const p1 = a[r1 + j] - g1 * uj
    const p2 = a[r2 + j] - g2 * uj
    const p3 = a[r3 + j] - g3 * uj
    a[r0 + j] = p0
    a[r1 + j] = p1
    a[r2 + j] = p2
    a[r3 + j] = p3
    z[j] += x0 * p0 + x1 * p1 + x2 * p2 + x3 * p3
  }
}

const transpose = (x: Float64Array, rows: number, cols: number): Float64Array => {
  const out = new Float64Array(rows * cols)
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) out[j * rows + i] = x[i * cols + j]
  return out
}

