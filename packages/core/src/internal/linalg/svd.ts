import { CoreError } from '../../CoreError'
import { bidiagonalise } from './bidiagonal'

/**
 * Thin SVD by Golub–Kahan–Reinsch: Householder bidiagonalisation, then
 * implicit-shift QR sweeps on the bidiagonal (Golub & Van Loan, Matrix
 * Computations, §8.6). Everything in Float64. The singular vectors are kept as
 * rows (uT: k×m, vT: k×n) so that every plane rotation touches two contiguous rows.
 */

/** Deflation threshold relative to ‖B‖ (LAPACK dbdsqr uses about 90 ulps): ample for float32 results. */
const TOL = 100 * 2 ** -52

/** Rows i and j of a row-major matrix (row length ld): [x_i, x_j] ← [c·x_i + s·x_j, −s·x_i + c·x_j]. */
const rotateRows = (t: Float64Array, ld: number, i: number, j: number, c: number, s: number): void => {
  const oi = i * ld
  const oj = j * ld
  for (let p = 0; p < ld; p++) {
    const x = t[oi + p]
    const y = t[oj + p]
    t[oi + p] = c * x + s * y
    t[oj + p] = c * y - s * x
  }
}

/**
 * The rotations (cs[k], sn[k]) of rows (k, k+1), k = l…h−1 in that order, as
 * `rotateRows` would apply them; four at a time in one pass over the columns
 * (each entry is loaded and stored once per four rotations).
 */
const rotateSequence = (t: Float64Array, ld: number, l: number, h: number, cs: Float64Array, sn: Float64Array): void => {
  let k = l
  for (; k + 4 <= h; k += 4) {
    const [c0, c1, c2, c3] = [cs[k], cs[k + 1], cs[k + 2], cs[k + 3]]
    const [s0, s1, s2, s3] = [sn[k], sn[k + 1], sn[k + 2], sn[k + 3]]
    const o0 = k * ld
    const o1 = o0 + ld
    const o2 = o1 + ld
    const o3 = o2 + ld
    const o4 = o3 + ld
    for (let p = 0; p < ld; p++) {
      let x = t[o0 + p]
      let y = t[o1 + p]
      t[o0 + p] = c0 * x + s0 * y
      x = c0 * y - s0 * x
      y = t[o2 + p]
      t[o1 + p] = c1 * x + s1 * y
      x = c1 * y - s1 * x
      y = t[o3 + p]
      t[o2 + p] = c2 * x + s2 * y
      x = c2 * y - s2 * x
      y = t[o4 + p]
      t[o3 + p] = c3 * x + s3 * y
      t[o4 + p] = c3 * y - s3 * x
    }
  }
  for (; k < h; k++) rotateRows(t, ld, k, k + 1, cs[k], sn[k])
}

/** [c, s, r] with [c s; −s c]·[f; g] = [r; 0]. */
const givens = (f: number, g: number): [number, number, number] => {
  if (g === 0) return [1, 0, f]
  const r = Math.hypot(f, g)
  return [f / r, g / r, r]
}

/**
 * Singular values still to be found, as sorted squares: the shifts of the
 * vector pass. A sweep shifted by an exact σ² of the block deflates in about
 * one step, where the Wilkinson shift takes about two.
 */
class Shifts {
  private readonly sq: Float64Array
  private readonly used: Uint8Array
  constructor(sigmas: Float64Array) {
    this.sq = Float64Array.from(sigmas, (x) => x * x).sort()
    this.used = new Uint8Array(sigmas.length)
  }
  /** the index of the unused square nearest to x, or −1 */
  private find(x: number): number {
    const { sq, used } = this
    let lo = 0
    let hi = sq.length
    while (lo < hi) {
      const mid = (lo + hi) >> 1
      if (sq[mid] < x) lo = mid + 1
      else hi = mid
    }
    let a = lo - 1
    let b = lo
    while (a >= 0 && used[a]) a--
    while (b < sq.length && used[b]) b++
    if (a < 0) return b < sq.length ? b : -1
    if (b >= sq.length) return a
    return x - sq[a] <= sq[b] - x ? a : b
  }
  /** the unused σ² nearest to the shift mu (mu itself when none is left) */
  nearest(mu: number): number {
    const i = this.find(mu)
    return i < 0 ? mu : this.sq[i]
  }
  /** marks the σ found at the bottom of the matrix as used */
  remove(sigma: number): void {
    const i = this.find(sigma * sigma)
    if (i >= 0) this.used[i] = 1
  }
}

/**
 * Diagonalises B in place (GVL Alg. 8.6.2), rotating the rows of ut and vt
 * along when given; with vectors, first finds the singular values without them
 * and uses them as shifts.
 */
const diagonalise = (d: Float64Array, e: Float64Array, vectors: { ut: Float64Array; m: number; vt: Float64Array } | null): void => {
  const n = d.length
  let anorm = 0
  for (let i = 0; i < n; i++) anorm = Math.max(anorm, Math.abs(d[i]) + (i < n - 1 ? Math.abs(e[i]) : 0))
  const tol = TOL * anorm
  let shifts: Shifts | null = null
  if (vectors && n > 16) {
    const s = Float64Array.from(d)
    diagonalise(s, Float64Array.from(e), null)
    shifts = new Shifts(s)
  }
  let h = n - 1
  let sweeps = 0
  let tries = 0
  const maxSweeps = 30 * Math.max(n, 1)
  const rot: Rotations = { cr: new Float64Array(n), sr: new Float64Array(n), cl: new Float64Array(n), sl: new Float64Array(n) }
  while (h > 0) {
    if (Math.abs(e[h - 1]) <= tol) {
      e[h - 1] = 0
      shifts?.remove(d[h])
      h--
      tries = 0
      continue
    }
    let l = h - 1
    while (l > 0 && Math.abs(e[l - 1]) > tol) l--
    if (l > 0) e[l - 1] = 0
    if (++sweeps > maxSweeps) throw new CoreError(`svd: the bidiagonal QR iteration did not converge after ${maxSweeps} sweeps`)
    let zero = -1
    for (let k = l; k <= h; k++)
      if (Math.abs(d[k]) <= tol) {
        d[k] = 0
        zero = k
        break
      }
    if (zero >= 0 && zero < h) chaseRowRight(d, e, vectors?.ut ?? null, vectors?.m ?? 0, zero, h)
    else if (zero === h) chaseColumnUp(d, e, vectors?.vt ?? null, n, l, h)
    else {
      const mu = wilkinson(d, e, l, h)
      qrSweep(d, e, vectors, l, h, shifts && ++tries <= 3 ? shifts.nearest(mu) : mu, rot)
    }
  }
}

/** The eigenvalue of the trailing 2×2 of BᵀB (block l…h) nearer its last entry. */
const wilkinson = (d: Float64Array, e: Float64Array, l: number, h: number): number => {
  const t11 = d[h - 1] * d[h - 1] + (h - 1 > l ? e[h - 2] * e[h - 2] : 0)
  const t12 = d[h - 1] * e[h - 1]
  const t22 = d[h] * d[h] + e[h - 1] * e[h - 1]
  const half = (t11 - t22) / 2
  return half === 0 ? t22 - Math.abs(t12) : t22 - (t12 * t12) / (half + Math.sign(half) * Math.hypot(half, t12))
}

/** d[k] = 0: zeroes row k's superdiagonal by left rotations with rows k+1…h. */
const chaseRowRight = (d: Float64Array, e: Float64Array, ut: Float64Array | null, m: number, k: number, h: number): void => {
  let g = e[k]
  e[k] = 0
  for (let j = k + 1; j <= h && g !== 0; j++) {
    const [c, s, r] = givens(d[j], g)
    d[j] = r
    if (j < h) {
      g = -s * e[j]
      e[j] = c * e[j]
    }
    if (ut) rotateRows(ut, m, j, k, c, s)
  }
}

/** d[h] = 0: zeroes column h's superdiagonal by right rotations with columns h−1…l. */
const chaseColumnUp = (d: Float64Array, e: Float64Array, vt: Float64Array | null, n: number, l: number, h: number): void => {
  let g = e[h - 1]
  e[h - 1] = 0
  for (let j = h - 1; j >= l && g !== 0; j--) {
    const [c, s, r] = givens(d[j], g)
    d[j] = r
    if (j > l) {
      g = -s * e[j - 1]
      e[j - 1] = c * e[j - 1]
    }
    if (vt) rotateRows(vt, n, j, h, c, s)
  }
}

/** One implicit-shift Golub–Kahan sweep on the unreduced block l…h with shift mu (of BᵀB). */
const qrSweep = (
  d: Float64Array,
  e: Float64Array,
  vectors: { ut: Float64Array; m: number; vt: Float64Array } | null,
  l: number,
  h: number,
  mu: number,
  rot: Rotations,
): void => {
  let y = d[l] * d[l] - mu
  let z = d[l] * e[l]
  for (let k = l; k < h; k++) {
    // right rotation of columns k, k+1 (zeroes the bulge above the diagonal)
    let [c, s, r] = givens(y, z)
    if (k > l) e[k - 1] = r
    const dk = c * d[k] + s * e[k]
    e[k] = c * e[k] - s * d[k]
    const bulge = s * d[k + 1]
    d[k + 1] *= c
    rot.cr[k] = c
    rot.sr[k] = s
    // left rotation of rows k, k+1 (zeroes the bulge below the diagonal)
    ;[c, s, r] = givens(dk, bulge)
    d[k] = r
    const ek = c * e[k] + s * d[k + 1]
    d[k + 1] = c * d[k + 1] - s * e[k]
    e[k] = ek
    if (k < h - 1) {
      z = s * e[k + 1]
      e[k + 1] *= c
    }
    y = e[k]
    rot.cl[k] = c
    rot.sl[k] = s
  }
  if (vectors) {
    rotateSequence(vectors.vt, d.length, l, h, rot.cr, rot.sr)
    rotateSequence(vectors.ut, vectors.m, l, h, rot.cl, rot.sl)
  }
}

/** Scratch for one sweep's right (cr, sr) and left (cl, sl) rotations. */
interface Rotations {
  readonly cr: Float64Array
  readonly sr: Float64Array
  readonly cl: Float64Array
  readonly sl: Float64Array
}

/** The thin SVD of a row-major m×n matrix with m ≥ n: uT (n×m), s (n, descending, ≥ 0), vT (n×n). */
export const svdTall = (src: ArrayLike<number>, m: number, n: number): { ut: Float64Array; s: Float64Array; vt: Float64Array } => {
  const { d, e, ut, vt } = bidiagonalise(src, m, n)
  diagonalise(d, e, { ut, m, vt })
  for (let i = 0; i < n; i++)
    if (d[i] < 0) {
      d[i] = -d[i]
      for (let p = 0; p < n; p++) vt[i * n + p] = -vt[i * n + p]
    }
  const order = Array.from({ length: n }, (_, i) => i).sort((i, j) => d[j] - d[i])
  const s = Float64Array.from(order, (i) => d[i])
  const ut2 = new Float64Array(n * m)
  const vt2 = new Float64Array(n * n)
  order.forEach((from, to) => {
    ut2.set(ut.subarray(from * m, from * m + m), to * m)
    vt2.set(vt.subarray(from * n, from * n + n), to * n)
  })
  return { ut: ut2, s, vt: vt2 }
}
