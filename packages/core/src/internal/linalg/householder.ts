/**
 * Householder reflectors on row-major Float64Array matrices (LAPACK's
 * dlarfg/dlarf conventions). A reflector is H = I − τ·v·vᵀ with v[0] = 1;
 * the rest of v is stored in place of the entries it zeroed.
 */

/** A strided vector inside a matrix: `a[off + i*stride]`, i < len. */
export interface Strided {
  readonly a: Float64Array
  readonly off: number
  readonly stride: number
  readonly len: number
}

/**
 * Makes the reflector that maps x (strided, `len` entries) to β·e₁: stores β in
 * x[0] and v[1..] in x[1..], returns τ (0 when x is already β·e₁).
 */
export const makeReflector = ({ a, off, stride, len }: Strided): number => {
  if (len <= 1) return 0
  let scale = 0
  for (let i = 1; i < len; i++) scale = Math.max(scale, Math.abs(a[off + i * stride]))
  if (scale === 0) return 0
  let ss = 0
  for (let i = 1; i < len; i++) {
    const x = a[off + i * stride] / scale
    ss += x * x
  }
  const alpha = a[off]
  const xnorm = scale * Math.sqrt(ss)
  const h = Math.hypot(alpha, xnorm)
  const beta = alpha >= 0 ? -h : h
  const tau = (beta - alpha) / beta
  const inv = 1 / (alpha - beta)
  for (let i = 1; i < len; i++) a[off + i * stride] *= inv
  a[off] = beta
  return tau
}

/**
 * t[r0:r0+len, c0:c1] ← H·t[...] (H from the left); `v` has `len` entries, v[0] = 1 implied.
 * Row-major `t` with row length `ld`; `w` is scratch of at least `c1` entries.
 */
export const applyLeft = (
  v: Strided,
  tau: number,
  t: Float64Array,
  ld: number,
  r0: number,
  c0: number,
  c1: number,
  w: Float64Array,
): void => {
  if (tau === 0 || c1 <= c0) return
  const { a, off, stride, len } = v
  w.fill(0, c0, c1)
  for (let i = 0; i < len; i++) {
    const vi = i === 0 ? 1 : a[off + i * stride]
    if (vi === 0) continue
    const row = (r0 + i) * ld
    for (let c = c0; c < c1; c++) w[c] += vi * t[row + c]
  }
  for (let i = 0; i < len; i++) {
    const f = tau * (i === 0 ? 1 : a[off + i * stride])
    if (f === 0) continue
    const row = (r0 + i) * ld
    for (let c = c0; c < c1; c++) t[row + c] -= f * w[c]
  }
}

/**
 * The product Q = H_0⋯H_{count−1} applied to the first `cols` columns of the
 * identity, a `rows`×`cols` row-major matrix. Reflector j has τ = taus[j], its
 * unit entry at row j + shift and entries `vec(j, r)` at rows r > j + shift.
 * Blocks of four reflectors are applied at once in compact WY form,
 * H_j⋯H_{j+3} = I − V·T·Vᵀ, by a register-tiled kernel over four columns at a time.
 */
export const accumulate = (
  rows: number,
  cols: number,
  count: number,
  shift: number,
  taus: Float64Array,
  vec: (j: number, r: number) => number,
): Float64Array => {
  const q = new Float64Array(rows * cols)
  for (let i = 0; i < Math.min(rows, cols); i++) q[i * cols + i] = 1
  const vb = new Float64Array(rows * 4)
  const tm = new Float64Array(16)
  for (let j1 = count; j1 > 0; j1 -= 4) {
    const j0 = Math.max(0, j1 - 4)
    const r0 = j0 + shift
    const len = packBlock(vb, j0, j1, rows - r0, (j, r) => vec(j, r0 - j0 + r))
    blockT(vb, len, taus, j0, j1, tm)
    applyBlock4(vb, tm, q, cols, r0, len, r0)
  }
  return q
}

/** Copies reflectors j0…j1−1 into vb (len×4, unit diagonal, zeros above); `vec(j, r)` reads entry r of reflector j relative to row j0. */
const packBlock = (vb: Float64Array, j0: number, j1: number, len: number, vec: (j: number, r: number) => number): number => {
  vb.fill(0, 0, len * 4)
  for (let j = 0; j < j1 - j0; j++) {
    vb[j * 4 + j] = 1
    for (let i = j + 1; i < len; i++) vb[i * 4 + j] = vec(j0 + j, j0 + i)
  }
  return len
}

const transpose4 = (x: Float64Array): Float64Array => Float64Array.from({ length: 16 }, (_, i) => x[(i % 4) * 4 + ((i / 4) | 0)])

/** The upper-triangular T of H_{j0}⋯H_{j1−1} = I − V·T·Vᵀ (LAPACK dlarft, forward, columnwise); unused slots are 0. */
const blockT = (vb: Float64Array, len: number, taus: Float64Array, j0: number, j1: number, tm: Float64Array): void => {
  tm.fill(0)
  for (let j = 0; j < j1 - j0; j++) {
    const tau = taus[j0 + j]
    tm[j * 4 + j] = tau
    const z = [0, 0, 0, 0]
    for (let l = 0; l < j; l++) for (let i = j; i < len; i++) z[l] += vb[i * 4 + l] * vb[i * 4 + j]
    for (let l = 0; l < j; l++) {
      let s = 0
      for (let p = l; p < j; p++) s += tm[l * 4 + p] * z[p]
      tm[l * 4 + j] = -tau * s
    }
  }
}

/**
 * t[r0:r0+len, c0:ld] ← (I − V·M·Vᵀ)·t[...], V = vb (len×4), M a 4×4 row-major
 * matrix (T to apply H_0⋯H_3, Tᵀ for its transpose), four columns at a time.
 */
const applyBlock4 = (vb: Float64Array, mt: Float64Array, t: Float64Array, ld: number, r0: number, len: number, c0: number): void => {
  const [m00, m01, m02, m03, m10, m11, m12, m13, m20, m21, m22, m23, m30, m31, m32, m33] = mt
  for (let c = c0; c < ld; c += 4) {
    const w = Math.min(4, ld - c)
    if (w < 4) {
      applyColumns(vb, mt, t, ld, r0, len, c, w)
      continue
    }
    // W = Vᵀ·C (4×4: reflector × column)
    let a00 = 0, a01 = 0, a02 = 0, a03 = 0, a10 = 0, a11 = 0, a12 = 0, a13 = 0
    let a20 = 0, a21 = 0, a22 = 0, a23 = 0, a30 = 0, a31 = 0, a32 = 0, a33 = 0
    for (let i = 0; i < len; i++) {
      const o = (r0 + i) * ld + c
      const x0 = t[o], x1 = t[o + 1], x2 = t[o + 2], x3 = t[o + 3]
      const v0 = vb[4 * i], v1 = vb[4 * i + 1], v2 = vb[4 * i + 2], v3 = vb[4 * i + 3]
      a00 += v0 * x0; a01 += v0 * x1; a02 += v0 * x2; a03 += v0 * x3
      a10 += v1 * x0; a11 += v1 * x1; a12 += v1 * x2; a13 += v1 * x3
      a20 += v2 * x0; a21 += v2 * x1; a22 += v2 * x2; a23 += v2 * x3
      a30 += v3 * x0; a31 += v3 * x1; a32 += v3 * x2; a33 += v3 * x3
    }
    // W ← M·W
    const b00 = m00 * a00 + m01 * a10 + m02 * a20 + m03 * a30, b01 = m00 * a01 + m01 * a11 + m02 * a21 + m03 * a31
    const b02 = m00 * a02 + m01 * a12 + m02 * a22 + m03 * a32, b03 = m00 * a03 + m01 * a13 + m02 * a23 + m03 * a33
    const b10 = m10 * a00 + m11 * a10 + m12 * a20 + m13 * a30, b11 = m10 * a01 + m11 * a11 + m12 * a21 + m13 * a31
    const b12 = m10 * a02 + m11 * a12 + m12 * a22 + m13 * a32, b13 = m10 * a03 + m11 * a13 + m12 * a23 + m13 * a33
    const b20 = m20 * a00 + m21 * a10 + m22 * a20 + m23 * a30, b21 = m20 * a01 + m21 * a11 + m22 * a21 + m23 * a31
    const b22 = m20 * a02 + m21 * a12 + m22 * a22 + m23 * a32, b23 = m20 * a03 + m21 * a13 + m22 * a23 + m23 * a33
    const b30 = m30 * a00 + m31 * a10 + m32 * a20 + m33 * a30, b31 = m30 * a01 + m31 * a11 + m32 * a21 + m33 * a31
    const b32 = m30 * a02 + m31 * a12 + m32 * a22 + m33 * a32, b33 = m30 * a03 + m31 * a13 + m32 * a23 + m33 * a33
    // C ← C − V·W
    for (let i = 0; i < len; i++) {
      const o = (r0 + i) * ld + c
      const v0 = vb[4 * i], v1 = vb[4 * i + 1], v2 = vb[4 * i + 2], v3 = vb[4 * i + 3]
      t[o] -= v0 * b00 + v1 * b10 + v2 * b20 + v3 * b30
      t[o + 1] -= v0 * b01 + v1 * b11 + v2 * b21 + v3 * b31
      t[o + 2] -= v0 * b02 + v1 * b12 + v2 * b22 + v3 * b32
      t[o + 3] -= v0 * b03 + v1 * b13 + v2 * b23 + v3 * b33
    }
  }
}

/** As applyBlock4 for the last `w` < 4 columns, one column at a time. */
const applyColumns = (vb: Float64Array, mt: Float64Array, t: Float64Array, ld: number, r0: number, len: number, c: number, w: number): void => {
  for (let q = c; q < c + w; q++) {
    const a = [0, 0, 0, 0]
    for (let i = 0; i < len; i++) for (let j = 0; j < 4; j++) a[j] += vb[4 * i + j] * t[(r0 + i) * ld + q]
    const b = [0, 1, 2, 3].map((j) => {
      let s = 0
      for (let l = 0; l < 4; l++) s += mt[j * 4 + l] * a[l]
      return s
    })
    for (let i = 0; i < len; i++) t[(r0 + i) * ld + q] -= vb[4 * i] * b[0] + vb[4 * i + 1] * b[1] + vb[4 * i + 2] * b[2] + vb[4 * i + 3] * b[3]
  }
}

/**
 * Householder QR of a row-major m×n matrix, reduced: q is m×k with orthonormal
 * columns, r is k×n upper triangular with a non-negative diagonal, k = min(m, n).
 */
export const householderQr = (src: ArrayLike<number>, m: number, n: number): { q: Float64Array; r: Float64Array } => {
  const a = Float64Array.from(src)
  const k = Math.min(m, n)
  const taus = new Float64Array(k)
  const w = new Float64Array(Math.max(m, n))
  const col = (j: number): Strided => ({ a, off: j * n + j, stride: n, len: m - j })
  const vb = new Float64Array(m * 4)
  const tm = new Float64Array(16)
  for (let j0 = 0; j0 < k; j0 += 4) {
    // factor a panel of four columns, then apply its block reflector (transposed) to the rest
    const j1 = Math.min(j0 + 4, k)
    for (let j = j0; j < j1; j++) {
      taus[j] = makeReflector(col(j))
      applyLeft(col(j), taus[j], a, n, j, j + 1, Math.min(j0 + 4, n), w)
    }
    if (j0 + 4 >= n) continue
    const len = packBlock(vb, j0, j1, m - j0, (j, r) => a[r * n + j])
    blockT(vb, len, taus, j0, j1, tm)
    applyBlock4(vb, transpose4(tm), a, n, j0, len, j0 + 4)
  }
  const q = accumulate(m, k, k, 0, taus, (j, r) => a[r * n + j])
  const r = new Float64Array(k * n)
  for (let i = 0; i < k; i++) {
    const flip = a[i * n + i] < 0 ? -1 : 1
    for (let j = i; j < n; j++) r[i * n + j] = flip * a[i * n + j]
    if (flip < 0) for (let row = 0; row < m; row++) q[row * k + i] = -q[row * k + i]
  }
  return { q, r }
}
