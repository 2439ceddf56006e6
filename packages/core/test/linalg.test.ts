import { describe, it, expect } from 'vitest'
import fc from 'fast-check'
import { qrHost, svdHost, qr, svd } from '../src/linalg'
import { CoreError } from '../src/CoreError'
import { tensor, zeros } from '../src/creation'

/** A seeded Gaussian m×n matrix of rank ≤ r (float32 entries), row-major. */
const randomMatrix = (seed: number, m: number, n: number, rank = Math.min(m, n)): Float32Array => {
  let s = seed >>> 0 || 1
  const gauss = () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0
    const u = (s + 1) / 4294967297
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0
    return Math.sqrt(-2 * Math.log(u)) * Math.cos((2 * Math.PI * s) / 4294967296)
  }
  if (rank >= Math.min(m, n)) return Float32Array.from({ length: m * n }, gauss)
  const x = Array.from({ length: m * rank }, gauss)
  const y = Array.from({ length: rank * n }, gauss)
  return Float32Array.from(matmul(x, y, m, rank, n))
}

const matmul = (a: ArrayLike<number>, b: ArrayLike<number>, m: number, k: number, n: number): Float64Array => {
  const c = new Float64Array(m * n)
  for (let i = 0; i < m; i++)
    for (let p = 0; p < k; p++) {
      const x = a[i * k + p]
      for (let j = 0; j < n; j++) c[i * n + j] += x * b[p * n + j]
    }
  return c
}

const transpose = (a: ArrayLike<number>, m: number, n: number): Float64Array => {
  const t = new Float64Array(m * n)
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) t[j * m + i] = a[i * n + j]
  return t
}

const norm = (a: ArrayLike<number>) => Math.sqrt(Array.from(a).reduce((s, x) => s + x * x, 0))
const relDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => norm(Array.from(a, (x, i) => x - b[i])) / Math.max(norm(b), 1e-300)

/** max |XᵀX − I| for an m×k matrix X with (supposedly) orthonormal columns. */
const orthError = (x: ArrayLike<number>, m: number, k: number): number => {
  const g = matmul(transpose(x, m, k), x, k, m, k)
  let e = 0
  for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) e = Math.max(e, Math.abs(g[i * k + j] - (i === j ? 1 : 0)))
  return e
}

const checkSvd = (a: Float32Array, m: number, n: number) => {
  const k = Math.min(m, n)
  const { u, s, vt } = svdHost(a, m, n)
  expect([u.length, s.length, vt.length]).toEqual([m * k, k, k * n])
  const us = Float64Array.from(u, (x, i) => x * s[i % k])
  expect(relDiff(matmul(us, vt, m, k, n), a)).toBeLessThan(1e-6)
  expect(orthError(u, m, k)).toBeLessThan(1e-6)
  expect(orthError(transpose(vt, k, n), n, k)).toBeLessThan(1e-6)
  for (let i = 1; i < k; i++) expect(s[i]).toBeLessThanOrEqual(s[i - 1])
  expect(s.every((x) => x >= 0)).toBe(true)
  return s
}

const checkQr = (a: Float32Array, m: number, n: number) => {
  const k = Math.min(m, n)
  const { q, r } = qrHost(a, m, n)
  expect([q.length, r.length]).toEqual([m * k, k * n])
  expect(relDiff(matmul(q, r, m, k, n), a)).toBeLessThan(1e-6)
  expect(orthError(q, m, k)).toBeLessThan(1e-6)
  for (let i = 0; i < k; i++) {
    expect(r[i * n + i]).toBeGreaterThanOrEqual(0)
    for (let j = 0; j < Math.min(i, n); j++) expect(r[i * n + j]).toBe(0)
  }
}

const shapes: Array<[string, number, number]> = [
  ['square', 40, 40],
  ['tall', 60, 17],
  ['wide', 9, 70],
  ['row', 1, 12],
  ['column', 12, 1],
  ['scalar', 1, 1],
  ['square 256', 256, 256],
]

describe('svdHost', () => {
  it.each(shapes)('reconstructs a %s matrix with orthonormal U, V and sorted singular values', (_, m, n) => {
    checkSvd(randomMatrix(m * 1000 + n, m, n), m, n)
  })

  it('handles rank-deficient matrices (exact zero singular values)', () => {
    for (const [m, n, r] of [
      [50, 30, 5],
      [30, 50, 3],
      [64, 64, 1],
    ]) {
      const s = checkSvd(randomMatrix(r, m, n, r), m, n)
      expect(s[r - 1] / s[0]).toBeGreaterThan(1e-3)
      expect(s[r] / s[0]).toBeLessThan(1e-6)
    }
    const s = checkSvd(new Float32Array(20), 4, 5)
    expect(Array.from(s)).toEqual([0, 0, 0, 0])
  })

  it('gets the singular values of known matrices', () => {
    expect(Array.from(svdHost(new Float64Array([3, 0, 0, 4]), 2, 2).s)).toEqual([4, 3])
    const diag = new Float64Array(16)
    ;[2, -7, 0.5, 1e-3].forEach((x, i) => (diag[i * 5] = x))
    expect(Array.from(svdHost(diag, 4, 4).s)).toEqual([7, 2, 0.5, 1e-3])
    // a repeated singular value (an orthogonal matrix times 3)
    const { q } = qrHost(randomMatrix(7, 20, 20), 20, 20)
    const s = svdHost(q.map((x) => 3 * x), 20, 20).s
    for (const x of s) expect(x).toBeCloseTo(3, 12)
  })

  it('handles zero diagonals in the bidiagonal form (shift matrices, repeated rows)', () => {
    const shift = new Float32Array(100)
    for (let i = 0; i < 9; i++) shift[i * 10 + i + 1] = 1
    expect(Array.from(checkSvd(shift, 10, 10))).toEqual([1, 1, 1, 1, 1, 1, 1, 1, 1, 0])
    expect(Array.from(checkSvd(new Float32Array([0, 1, 0, 0]), 2, 2))).toEqual([1, 0])
    expect(checkSvd(new Float32Array([1, 1, 1, 1]), 2, 2)[0]).toBeCloseTo(2, 12)
    const eye = new Float32Array(64 * 64)
    for (let i = 0; i < 64; i++) eye[i * 65] = 1
    expect(checkSvd(eye, 64, 64).every((x) => x === 1)).toBe(true)
  })

  it('handles graded and badly scaled matrices', () => {
    const m = 30
    const a = randomMatrix(11, m, m).map((x, i) => x * 10 ** (-(i % m) / 3))
    checkSvd(a, m, m)
    checkSvd(randomMatrix(12, 20, 10).map((x) => x * 1e30), 20, 10)
    checkSvd(randomMatrix(13, 20, 10).map((x) => x * 1e-30), 20, 10)
  })

  it('property: random shapes reconstruct to float32 round-off', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 48 }), fc.integer({ min: 1, max: 48 }), fc.nat(), (m, n, seed) => {
        checkSvd(randomMatrix(seed, m, n), m, n)
      }),
      { numRuns: 40 },
    )
  })

  it('handles empty matrices and rejects bad sizes', () => {
    expect(svdHost(new Float64Array(0), 0, 3).s.length).toBe(0)
    expect(() => svdHost(new Float64Array(5), 2, 3)).toThrow('svdHost: a 2×3 matrix needs 6 entries, got 5')
    expect(() => svdHost(new Float64Array(0), -1, 0)).toThrow(CoreError)
    expect(() => svdHost(new Float64Array([1, 2, NaN, 4]), 2, 2)).toThrow('svdHost: entry [1, 0] is NaN; the SVD needs finite entries')
  })
})

describe('qrHost', () => {
  it.each(shapes)('factors a %s matrix into orthonormal Q and upper-triangular R', (_, m, n) => {
    checkQr(randomMatrix(m + 7 * n, m, n), m, n)
  })

  it('factors rank-deficient and zero matrices', () => {
    checkQr(randomMatrix(3, 30, 20, 4), 30, 20)
    checkQr(new Float32Array(12), 4, 3)
  })

  it('matches the doc example', () => {
    const { r } = qrHost(new Float64Array([3, 1, 4, 2]), 2, 2)
    expect(r[0]).toBeCloseTo(5, 12)
  })

  it('property: random shapes', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: 40 }), fc.nat(), (m, n, seed) => {
        checkQr(randomMatrix(seed, m, n), m, n)
      }),
      { numRuns: 40 },
    )
  })
})

describe('qr and svd on tensors', () => {
  it('return float32 tensors of the reduced shapes', () => {
    const x = tensor([
      [1, 2],
      [3, 4],
      [5, 6],
    ])
    const { q, r } = qr(x)
    expect([q.shape, r.shape, q.dtype, r.dtype]).toEqual([[3, 2], [2, 2], 'float32', 'float32'])
    const { u, s, vt } = svd(x)
    expect([u.shape, s.shape, vt.shape]).toEqual([[3, 2], [2], [2, 2]])
    const rec = matmul(Float64Array.from(u.dataSync(), (v, i) => v * s.dataSync()[i % 2]), vt.dataSync(), 3, 2, 2)
    expect(relDiff(rec, x.dataSync())).toBeLessThan(1e-6)
    expect(Array.from(svd(tensor([[3, 0], [0, 4]])).s.dataSync())).toEqual([4, 3])
    expect(svd(tensor([[1, 2, 3]], 'int32')).s.item()).toBeCloseTo(Math.sqrt(14), 5)
  })

  it('reject tensors that are not 2-D', () => {
    expect(() => svd(zeros([2, 3, 4]))).toThrow('svd: expected a 2-D tensor (a matrix), got float32[2,3,4]')
    expect(() => qr(zeros([3]))).toThrow(CoreError)
  })
})
