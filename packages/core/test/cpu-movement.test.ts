import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { CoreError } from '../src/CoreError'
import type { DType } from '../src/DType'
import { inferAval } from '../src/Primitive'
import type { Primitive, PrimitiveParams } from '../src/Primitive'
import * as S from '../src/Shape'
import type { Arr } from './cpu-reference'
import { aval, bcastIndex, fill, ravel, run, sameAs, shapeArb, unravel } from './cpu-reference'

const seed = fc.integer({ min: 0, max: 2 ** 31 - 1 })
const dtypeArb = fc.constantFrom<DType>('float32', 'int32', 'bool')
const arr = (shape: readonly number[], dt: DType, s: number): Arr => ({ shape, data: fill(dt, S.size(shape), s) })
const shapeOf = <P extends Primitive>(p: P, xs: readonly Arr[], params: PrimitiveParams[P]) => inferAval(p, xs.map(aval), params).shape

/** The reference of a movement op: out[idx] = x[source(idx)] (or 0 when source gives -1). */
const refGather = (x: Arr, outShape: readonly number[], source: (idx: number[]) => number) =>
  Array.from({ length: S.size(outShape) }, (_, o) => {
    const i = source(unravel(o, outShape))
    return i < 0 ? 0 : x.data[i]
  })

describe('cpu movement kernels', () => {
  it('reshape copies', () => {
    const x = arr([2, 3], 'float32', 1)
    const got = run('reshape', [x], { shape: [3, 2] }, [3, 2], 'float32')
    expect(sameAs(got, [...x.data])).toBe(true)
    expect(got).not.toBe(x.data)
  })

  it('transpose with random permutations', () => {
    const arb = shapeArb(5, 4, true).chain((shape) =>
      fc.tuple(fc.constant(shape), fc.shuffledSubarray(shape.map((_, i) => i), { minLength: shape.length, maxLength: shape.length })),
    )
    fc.assert(
      fc.property(arb, seed, dtypeArb, ([shape, perm], s, dt) => {
        const x = arr(shape, dt, s)
        const outShape = perm.map((d) => shape[d])
        const want = refGather(x, outShape, (idx) => {
          const src = new Array<number>(shape.length)
          perm.forEach((d, i) => (src[d] = idx[i]))
          return ravel(src, shape)
        })
        expect(sameAs(run('transpose', [x], { perm }, outShape, dt), want)).toBe(true)
      }),
    )
  })

  it('transpose of large batched matrices (the blocked path)', () => {
    for (const shape of [[40, 33], [2, 64, 70], [33, 32]]) {
      const x = arr(shape, 'float32', 3)
      const r = shape.length
      const perm = [...shape.keys()].map((i) => (i === r - 1 ? r - 2 : i === r - 2 ? r - 1 : i))
      const outShape = perm.map((d) => shape[d])
      const want = refGather(x, outShape, (idx) => ravel(perm.map((_, i) => idx[perm.indexOf(i)]), shape))
      expect(sameAs(run('transpose', [x], { perm }, outShape, 'float32'), want)).toBe(true)
    }
  })

  it('broadcast follows the numpy rule', () => {
    fc.assert(
      fc.property(shapeArb(4, 4), fc.nat(), fc.array(fc.boolean(), { maxLength: 4 }), seed, (out, drop, ones, s) => {
        const shape = out.slice(drop % (out.length + 1)).map((d, i) => (ones[i] ? 1 : d))
        const x = arr(shape, 'float32', s)
        const want = refGather(x, out, (idx) => bcastIndex(idx, shape))
        expect(sameAs(run('broadcast', [x], { shape: out }, out, 'float32'), want)).toBe(true)
      }),
    )
  })

  it('slice takes the box start..start+size', () => {
    const arb = shapeArb(4, 5).chain((shape) =>
      fc.tuple(fc.constant(shape), fc.tuple(...shape.map((d) => fc.tuple(fc.nat(d), fc.nat(d))))),
    )
    fc.assert(
      fc.property(arb, seed, ([shape, box], s) => {
        const start = box.map(([a], i) => Math.min(a, shape[i]))
        const size = box.map(([, b], i) => Math.min(b, shape[i] - start[i]))
        const x = arr(shape, 'int32', s)
        const want = refGather(x, size, (idx) => ravel(idx.map((v, i) => v + start[i]), shape))
        expect(sameAs(run('slice', [x], { start, size }, size, 'int32'), want)).toBe(true)
      }),
    )
  })

  it('pad surrounds with zeros', () => {
    const arb = shapeArb(4, 4, true).chain((shape) =>
      fc.tuple(fc.constant(shape), fc.array(fc.nat(2), { minLength: shape.length, maxLength: shape.length }), fc.array(fc.nat(2), { minLength: shape.length, maxLength: shape.length })),
    )
    fc.assert(
      fc.property(arb, seed, dtypeArb, ([shape, lo, hi], s, dt) => {
        const x = arr(shape, dt, s)
        const outShape = shapeOf('pad', [x], { lo, hi })
        const want = refGather(x, outShape, (idx) => {
          const src = idx.map((v, i) => v - lo[i])
          return src.every((v, i) => v >= 0 && v < shape[i]) ? ravel(src, shape) : -1
        })
        expect(sameAs(run('pad', [x], { lo, hi }, outShape, dt), want)).toBe(true)
      }),
    )
  })

  it('concat joins n inputs along an axis', () => {
    const arb = shapeArb(4, 4)
      .filter((s) => s.length > 0)
      .chain((shape) => fc.tuple(fc.constant(shape), fc.nat(shape.length - 1), fc.array(fc.nat(3), { minLength: 1, maxLength: 4 })))
    fc.assert(
      fc.property(arb, seed, ([shape, axis, sizes], s) => {
        const xs = sizes.map((d, i) => arr(shape.map((v, k) => (k === axis ? d : v)), 'float32', s + i))
        const outShape = shapeOf('concat', xs, { axis })
        const starts = sizes.map((_, i) => sizes.slice(0, i).reduce((a, b) => a + b, 0))
        const want = Array.from({ length: S.size(outShape) }, (_, o) => {
          const idx = unravel(o, outShape)
          const part = starts.findIndex((st, i) => idx[axis] >= st && idx[axis] < st + sizes[i])
          const local = idx.map((v, k) => (k === axis ? v - starts[part] : v))
          return xs[part].data[ravel(local, xs[part].shape)]
        })
        expect(sameAs(run('concat', xs, { axis }, outShape, 'float32'), want)).toBe(true)
      }),
    )
  })
})

describe('cpu gather and scatterAdd', () => {
  const arb = shapeArb(3, 4)
    .filter((s) => s.length > 0)
    .chain((shape) => fc.tuple(fc.constant(shape), fc.nat(shape.length - 1), shapeArb(2, 3)))

  it('gather is take along an axis', () => {
    fc.assert(
      fc.property(arb, seed, ([shape, axis, idxShape], s) => {
        const x = arr(shape, 'float32', s)
        const idx: Arr = { shape: idxShape, data: Int32Array.from({ length: S.size(idxShape) }, (_, i) => (i * 7 + s) % shape[axis]) }
        const outShape = shapeOf('gather', [x, idx], { axis })
        const k = idxShape.length
        const want = refGather(x, outShape, (o) => {
          const j = idx.data[ravel(o.slice(axis, axis + k), idxShape)]
          return ravel([...o.slice(0, axis), j, ...o.slice(axis + k)], shape)
        })
        expect(sameAs(run('gather', [x, idx], { axis }, outShape, 'float32'), want)).toBe(true)
      }),
    )
  })

  it('scatterAdd inverts gather, adding duplicates', () => {
    fc.assert(
      fc.property(arb, seed, fc.constantFrom<DType>('float32', 'int32'), ([shape, axis, idxShape], s, dt) => {
        const size = shape[axis]
        const idx: Arr = { shape: idxShape, data: Int32Array.from({ length: S.size(idxShape) }, (_, i) => (i * 5 + s) % size) }
        const uShape = [...shape.slice(0, axis), ...idxShape, ...shape.slice(axis + 1)]
        const u = arr(uShape, dt, s)
        const outShape = shapeOf('scatterAdd', [idx, u], { axis, size })
        expect(outShape).toEqual(shape)
        const want = new Array<number>(S.size(shape)).fill(0)
        const k = idxShape.length
        for (let i = 0; i < u.data.length; i++) {
          const o = unravel(i, uShape)
          const j = idx.data[ravel(o.slice(axis, axis + k), idxShape)]
          const t = ravel([...o.slice(0, axis), j, ...o.slice(axis + k)], shape)
          want[t] = dt === 'int32' ? (want[t] + u.data[i]) | 0 : Math.fround(want[t] + u.data[i])
        }
        expect(sameAs(run('scatterAdd', [idx, u], { axis, size }, outShape, dt), want)).toBe(true)
      }),
    )
  })

  it('out-of-range and negative indices throw a CoreError naming op, index and range', () => {
    const x: Arr = { shape: [3, 2], data: new Float32Array(6) }
    const bad: Arr = { shape: [2], data: new Int32Array([1, 3]) }
    expect(() => run('gather', [x, bad], { axis: 0 }, [2, 2], 'float32')).toThrow(CoreError)
    expect(() => run('gather', [x, bad], { axis: 0 }, [2, 2], 'float32')).toThrow(/gather: index 3 .*\[0, 3\)/)
    const neg: Arr = { shape: [1], data: new Int32Array([-1]) }
    expect(() => run('gather', [x, neg], { axis: 1 }, [3, 1], 'float32')).toThrow(/gather: index -1 .*\[0, 2\)/)
    const u: Arr = { shape: [2, 2], data: new Float32Array(4) }
    expect(() => run('scatterAdd', [bad, u], { axis: 0, size: 3 }, [3, 2], 'float32')).toThrow(/scatterAdd: index 3 .*\[0, 3\)/)
  })
})
