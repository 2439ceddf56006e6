import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { shapeRules } from '../src/Primitive'
import * as S from '../src/Shape'
import type { Arr } from './cpu-reference'
import { bcastIndex, close, fill, run, unravel } from './cpu-reference'

/** float64 reference of batched matmul with broadcast batch axes. */
const refMatmul = (a: Arr, b: Arr, outShape: readonly number[]): number[] => {
  const r = outShape.length
  const [m, n] = [outShape[r - 2], outShape[r - 1]]
  const k = a.shape[a.shape.length - 1]
  const batch = outShape.slice(0, -2)
  const out: number[] = []
  for (let t = 0; t < S.size(batch); t++) {
    const bi = unravel(t, batch)
    const ao = bcastIndex(bi, a.shape.slice(0, -2)) * m * k
    const bo = bcastIndex(bi, b.shape.slice(0, -2)) * k * n
    for (let i = 0; i < m; i++)
      for (let j = 0; j < n; j++) {
        let s = 0
        for (let p = 0; p < k; p++) s += a.data[ao + i * k + p] * b.data[bo + p * n + j]
        out.push(s)
      }
  }
  return out
}

/** Batch shapes that broadcast, and m, k, n from 0 to 9 (exercising the 4×4 tiles' edges). */
const matmulArb = fc
  .tuple(
    fc.array(fc.integer({ min: 1, max: 3 }), { maxLength: 2 }),
    fc.integer({ min: 0, max: 2 }),
    fc.integer({ min: 0, max: 2 }),
    fc.array(fc.boolean(), { minLength: 2, maxLength: 2 }),
    fc.array(fc.boolean(), { minLength: 2, maxLength: 2 }),
    fc.tuple(fc.integer({ min: 0, max: 9 }), fc.integer({ min: 0, max: 9 }), fc.integer({ min: 0, max: 9 })),
  )
  .map(([batch, da, db, onesA, onesB, [m, k, n]]) => {
    const ba = batch.slice(Math.min(da, batch.length)).map((d, i) => (onesA[i] ? 1 : d))
    const bb = batch.slice(Math.min(db, batch.length)).map((d, i) => (onesB[i] ? 1 : d))
    return { a: [...ba, m, k], b: [...bb, k, n] }
  })

const mm = (a: Arr, b: Arr) => {
  const out = shapeRules.matmul([{ shape: a.shape, dtype: 'float32' }, { shape: b.shape, dtype: 'float32' }], {}).shape
  return { out, got: run('matmul', [a, b], {}, out, 'float32'), want: refMatmul(a, b, out) }
}

describe('cpu matmul', () => {
  it('batched matmul with broadcast batch axes matches a float64 reference', () => {
    fc.assert(
      fc.property(matmulArb, fc.nat(), ({ a: sa, b: sb }, s) => {
        const a: Arr = { shape: sa, data: fill('float32', S.size(sa), s) }
        const b: Arr = { shape: sb, data: fill('float32', S.size(sb), s + 1) }
        const { got, want } = mm(a, b)
        expect(close(got, want, 1e-6, 1e-5)).toBe(true)
      }),
      { numRuns: 300 },
    )
  })

  it('larger products through the packed 4×4 kernel, ragged edges included', () => {
    for (const [m, k, n] of [[64, 64, 64], [37, 50, 29], [5, 130, 6], [128, 3, 17], [4, 1, 4]]) {
      const a: Arr = { shape: [m, k], data: fill('float32', m * k, m) }
      const b: Arr = { shape: [k, n], data: fill('float32', k * n, n) }
      const { got, want } = mm(a, b)
      expect(close(got, want, 1e-6, 1e-4)).toBe(true)
    }
  })

  it('folds a shared right operand into one GEMM over the batch', () => {
    const a: Arr = { shape: [3, 5, 7], data: fill('float32', 105, 1) }
    const b: Arr = { shape: [1, 7, 6], data: fill('float32', 42, 2) }
    const { out, got, want } = mm(a, b)
    expect(out).toEqual([3, 5, 6])
    expect(close(got, want, 1e-6, 1e-5)).toBe(true)
  })

  it('propagates NaN and Infinity like a plain loop', () => {
    const a: Arr = { shape: [4, 2], data: new Float32Array([1, NaN, 1, 1, Infinity, 0, 2, 2]) }
    const b: Arr = { shape: [2, 4], data: new Float32Array([1, 1, 1, 1, 1, 1, 1, 1]) }
    const { got, want } = mm(a, b)
    expect(close(got, want)).toBe(true)
  })

  it('small example', () => {
    const a: Arr = { shape: [2, 2], data: new Float32Array([1, 2, 3, 4]) }
    const b: Arr = { shape: [2, 2], data: new Float32Array([5, 6, 7, 8]) }
    expect([...run('matmul', [a, b], {}, [2, 2], 'float32')]).toEqual([19, 22, 43, 50])
  })
})
