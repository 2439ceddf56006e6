import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { DType } from '../src/DType'
import { shapeRules } from '../src/Primitive'
import * as S from '../src/Shape'
import type { Arr } from './cpu-reference'
import { close, fill, ravel, run, sameAs, shapeArb, unravel } from './cpu-reference'

const seed = fc.integer({ min: 0, max: 2 ** 31 - 1 })

/** A shape and a random subset of its axes. */
const shapeAxesArb = shapeArb(5, 4, true).chain((shape) =>
  fc.tuple(fc.constant(shape), fc.subarray(shape.map((_, i) => i))),
)

/** Reference reduction: folds each input element into the output element it maps to. */
const refReduce = (x: Arr, axes: readonly number[], init: number, f: (acc: number, v: number) => number) => {
  const outShape = x.shape.filter((_, i) => !axes.includes(i))
  const out = new Array<number>(S.size(outShape)).fill(init)
  for (let i = 0; i < x.data.length; i++) {
    const idx = unravel(i, x.shape).filter((_, k) => !axes.includes(k))
    const o = ravel(idx, outShape)
    out[o] = f(out[o], x.data[i])
  }
  return { outShape, out }
}

const nanMax = (a: number, b: number) => (Number.isNaN(a) || Number.isNaN(b) ? NaN : Math.max(a, b))

describe('cpu reductions', () => {
  it('reduceSum over random axis sets matches a float64 reference (float32 and wrapping int32)', () => {
    fc.assert(
      fc.property(shapeAxesArb, seed, fc.constantFrom<DType>('float32', 'int32'), ([shape, axes], s, dt) => {
        const x: Arr = { shape, data: fill(dt, S.size(shape), s) }
        const { outShape, out } = refReduce(x, axes, 0, dt === 'int32' ? (a, v) => (a + v) | 0 : (a, v) => a + v)
        const got = run('reduceSum', [x], { axes }, outShape, dt)
        if (dt === 'int32') expect(sameAs(got, out)).toBe(true)
        else expect(close(got, out, 1e-6, 1e-5)).toBe(true)
      }),
    )
  })

  it('reduceMax over random axis sets propagates NaN', () => {
    fc.assert(
      fc.property(shapeAxesArb, seed, fc.boolean(), ([shape, axes], s, special) => {
        fc.pre(axes.every((a) => shape[a] > 0))
        const x: Arr = { shape, data: fill('float32', S.size(shape), s, special) }
        const { outShape, out } = refReduce(x, axes, -Infinity, nanMax)
        expect(sameAs(run('reduceMax', [x], { axes }, outShape, 'float32'), out)).toBe(true)
      }),
    )
  })

  it('reduceMax of int32 is exact', () => {
    fc.assert(
      fc.property(shapeAxesArb, seed, ([shape, axes], s) => {
        fc.pre(axes.every((a) => shape[a] > 0))
        const x: Arr = { shape, data: fill('int32', S.size(shape), s) }
        const { outShape, out } = refReduce(x, axes, -2147483648, Math.max)
        expect(sameAs(run('reduceMax', [x], { axes }, outShape, 'int32'), out)).toBe(true)
      }),
    )
  })

  it('sums over leading axes (bias gradients) and the last axis', () => {
    const x: Arr = { shape: [3, 2], data: new Float32Array([1, 2, 3, 4, 5, 6]) }
    expect([...run('reduceSum', [x], { axes: [0] }, [2], 'float32')]).toEqual([9, 12])
    expect([...run('reduceSum', [x], { axes: [1] }, [3], 'float32')]).toEqual([3, 7, 11])
    expect([...run('reduceSum', [x], { axes: [0, 1] }, [], 'float32')]).toEqual([21])
    expect([...run('reduceSum', [x], { axes: [] }, [3, 2], 'float32')]).toEqual([1, 2, 3, 4, 5, 6])
  })

  it('argmax gives the first maximum; NaN counts as the maximum', () => {
    fc.assert(
      fc.property(shapeArb(4, 4).filter((s) => s.length > 0), fc.nat(), seed, fc.boolean(), (shape, a, s, special) => {
        const axis = a % shape.length
        const x: Arr = { shape, data: fill('float32', S.size(shape), s, special) }
        // small integers make ties likely
        if (!special) for (let i = 0; i < x.data.length; i++) x.data[i] = Math.round(x.data[i])
        const outShape = shape.filter((_, i) => i !== axis)
        const want: number[] = []
        for (let o = 0; o < S.size(outShape); o++) {
          const idx = unravel(o, outShape)
          let best = -Infinity
          let at = -1
          for (let j = 0; j < shape[axis]; j++) {
            const full = [...idx.slice(0, axis), j, ...idx.slice(axis)]
            const v = x.data[ravel(full, shape)]
            if (at === -1 || (!Number.isNaN(best) && (v > best || Number.isNaN(v)))) {
              best = v
              at = j
            }
          }
          want.push(at)
        }
        expect(sameAs(run('argmax', [x], { axis }, outShape, 'int32'), want)).toBe(true)
      }),
    )
  })

  it('argmax examples', () => {
    const x: Arr = { shape: [2, 3], data: new Float32Array([1, 5, 5, NaN, 2, NaN]) }
    expect([...run('argmax', [x], { axis: 1 }, [2], 'int32')]).toEqual([1, 0])
    expect([...run('argmax', [x], { axis: 0 }, [3], 'int32')]).toEqual([1, 0, 1])
  })

  it('shape rules agree with the kernels on output sizes', () => {
    const out = shapeRules.reduceSum([{ shape: [2, 3, 4], dtype: 'float32' }], { axes: [0, 2] })
    expect(out.shape).toEqual([3])
  })
})
