import { describe, expect, it } from 'vitest'
import type { Primitive } from '../src'
import { add, fromArray, matmul, mul, registerBackend, sum, withBackend } from '../src'
import type { Variant } from '../src/testing'
import { cases, checkVariant, float64Backend } from '../src/testing'

// The float64 host reference of the gradient checks (autodiff's rules.test.ts): every primitive
// agrees with the float32 reference `cpu-js` within float32 tolerance, and it keeps what float32 drops.
registerBackend('float64', float64Backend)

describe('float64Backend', () => {
  for (const prim of Object.keys(cases) as Primitive[])
    describe(prim, () => {
      for (const variant of cases[prim] as readonly Variant<Primitive>[])
        it(`${variant.name}: equals cpu-js within float32 tolerance`, () => checkVariant('float64', prim, variant, { reference: 'cpu-js', numRuns: 20 }))
    })

  it('computes in float64: 1 + 2⁻³⁰ is not 1, a float64 dot product keeps its low bits, reads are Float64Array', () => {
    withBackend('float64', () => {
      const x = add(fromArray(new Float32Array([1]), [1]), fromArray(new Float32Array([2 ** -30]), [1]))
      expect(x.dataSync()).toBeInstanceOf(Float64Array)
      expect(x.dataSync()[0]).toBe(1 + 2 ** -30)
      const a = fromArray(new Float32Array([1, 2 ** -24, 2 ** -24]), [1, 3])
      const b = fromArray(new Float32Array([1, 1, 1]), [3, 1])
      expect(matmul(a, b).dataSync()[0]).toBe(1 + 2 ** -23)
      expect(sum(fromArray(new Float32Array([1, 2 ** -25, 2 ** -25, 2 ** -25, 2 ** -25]), [5])).item()).toBe(1 + 2 ** -23)
      const c = fromArray(new Float32Array([1 + 2 ** -20]), [1])
      expect(mul(c, c).item()).toBe(1 + 2 ** -19 + 2 ** -40)
      expect(withBackend('cpu-js', () => { const d = fromArray(new Float32Array([1 + 2 ** -20]), [1]); return mul(d, d).item() })).toBe(1 + 2 ** -19) // float32 drops 2⁻⁴⁰
    })
  })

  it('batched broadcast matmul matches a direct float64 sum', () => {
    withBackend('float64', () => {
      const a = fromArray(Float32Array.from({ length: 2 * 1 * 2 * 3 }, (_, i) => i - 5), [2, 1, 2, 3])
      const b = fromArray(Float32Array.from({ length: 3 * 3 * 2 }, (_, i) => (i % 4) - 1.5), [3, 3, 2])
      const y = matmul(a, b)
      expect(y.shape).toEqual([2, 3, 2, 2])
      const ad = a.dataSync()
      const bd = b.dataSync()
      const yd = y.dataSync()
      for (let p = 0; p < 2; p++)
        for (let q = 0; q < 3; q++)
          for (let i = 0; i < 2; i++)
            for (let j = 0; j < 2; j++) {
              let s = 0
              for (let l = 0; l < 3; l++) s += ad[p * 6 + i * 3 + l] * bd[q * 6 + l * 2 + j]
              expect(yd[((p * 3 + q) * 2 + i) * 2 + j]).toBe(s)
            }
    })
  })
})
