import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import {
  CoreError, Tensor, Shape, add, concat, currentBackend, dispose, keep, matmul, mul, pad, reshape, scope, slice, sum, tensor, transpose, zeros,
} from '../src'
import { arbBroadcastShapes, arbReshape, arbShape, arbTensor, assertProperty, checkParams, toTensor } from '../src/testing'
import type { HostTensor } from '../src/testing'

const anyTensor = (o: { minRank?: number; minDim?: number } = {}) =>
  fc.constantFrom('float32' as const, 'int32' as const, 'bool' as const).chain((dtype) => arbTensor({ dtype, shape: arbShape(o) }))

/** Runs a property body inside a scope, so every tensor it makes is released. */
const prop = <T>(arb: fc.Arbitrary<T>, body: (x: T) => void, runs?: number) =>
  assertProperty(fc.property(arb, (x) => scope(() => void body(x))), checkParams({ numRuns: runs }))

/** Same dtype, shape and bit-identical data. */
const same = (a: Tensor, b: Tensor | HostTensor) => {
  expect(a.dtype).toBe(b.dtype)
  expect(a.shape).toEqual(b.shape)
  expect(Array.from(a.dataSync())).toEqual(Array.from(b instanceof Tensor ? b.dataSync() : b.data))
}

/** The index of `out`'s element `i` in an operand of `shape` broadcast to `out` (host reference). */
const sourceIndex = (i: number, out: Shape.Shape, shape: Shape.Shape): number => {
  const os = Shape.strides(out)
  const ss = Shape.strides(shape)
  let j = 0
  for (let d = 0; d < shape.length; d++) {
    const od = out.length - shape.length + d
    const coord = Math.floor(i / os[od]) % out[od]
    j += shape[d] === 1 ? 0 : coord * ss[d]
  }
  return j
}

describe('broadcasting', () => {
  it('the result shape is commutative, idempotent and absorbs its operands', () => {
    fc.assert(
      fc.property(arbBroadcastShapes(2), ([a, b]) => {
        const ab = Shape.broadcastShapes('t', a, b)
        expect(Shape.broadcastShapes('t', b, a)).toEqual(ab)
        expect(Shape.broadcastShapes('t', a, a)).toEqual(a)
        expect(Shape.broadcastShapes('t', a, ab)).toEqual(ab)
        expect(Shape.broadcastShapes('t', ab, b)).toEqual(ab)
      }),
      checkParams(),
    )
  })

  it('x + zeros(broadcast shape) is x broadcast, and add(x, y) matches a host reference', () => {
    const arb = arbBroadcastShapes(2).chain(([a, b]) => fc.tuple(arbTensor({ shape: a, dtype: 'int32' }), arbTensor({ shape: b, dtype: 'int32' })))
    prop(arb, ([hx, hy]) => {
      const out = Shape.broadcastShapes('add', hx.shape, hy.shape)
      const x = toTensor(hx)
      const viaZeros = add(x, zeros(out, 'int32'))
      expect(viaZeros.shape).toEqual(out)
      const d = viaZeros.dataSync()
      for (let i = 0; i < d.length; i++) expect(d[i]).toBe(hx.data[sourceIndex(i, out, hx.shape)])
      const s = add(x, toTensor(hy)).dataSync()
      for (let i = 0; i < s.length; i++) expect(s[i]).toBe(hx.data[sourceIndex(i, out, hx.shape)] + hy.data[sourceIndex(i, out, hy.shape)])
    })
  })

  it('shapes that do not broadcast throw a CoreError naming the op and both shapes', () => {
    expect(() => add(zeros([2, 3]), zeros([4]))).toThrow(CoreError)
    expect(() => add(zeros([2, 3]), zeros([4]))).toThrow(/add: \[2,3\] and \[4\]/)
  })
})

describe('movement round trips', () => {
  it('reshape to a random factorisation and back is the identity; -1 infers the hole', () => {
    const arb = anyTensor({ minDim: 0 }).chain((x) => fc.tuple(fc.constant(x), arbReshape(x.shape), fc.nat()))
    prop(arb, ([h, target, hole]) => {
      const x = toTensor(h)
      const y = reshape(x, target)
      expect(y.shape).toEqual(target)
      same(reshape(y, h.shape), h)
      if (target.length > 0 && Shape.size(target) > 0) {
        const withHole = target.map((d, i) => (i === hole % target.length ? -1 : d))
        expect(reshape(x, withHole).shape).toEqual(target)
      }
    })
  })

  it('transpose by a permutation, then by its inverse, is the identity; reversing twice too', () => {
    const arb = anyTensor().chain((x) => fc.tuple(fc.constant(x), fc.shuffledSubarray(x.shape.map((_, i) => i), { minLength: x.shape.length })))
    prop(arb, ([h, perm]) => {
      const x = toTensor(h)
      const inverse = perm.map((_, i) => perm.indexOf(i))
      const y = transpose(x, perm)
      expect(y.shape).toEqual(perm.map((p) => h.shape[p]))
      same(transpose(y, inverse), h)
      same(transpose(transpose(x)), h)
      const reversed = h.shape.map((_, i) => h.shape.length - 1 - i)
      same(transpose(transpose(x, reversed), reversed), h)
    })
  })

  it('slicing the original box out of a padded tensor gives it back, and the padding is zeros', () => {
    const arb = arbTensor({ dtype: 'int32', shape: arbShape({ maxRank: 3 }) }).chain((x) => {
      const widths = fc.array(fc.tuple(fc.nat(2), fc.nat(2)), { minLength: x.shape.length, maxLength: x.shape.length })
      return fc.tuple(fc.constant(x), widths)
    })
    prop(arb, ([h, widths]) => {
      const x = toTensor(h)
      const p = pad(x, widths)
      expect(p.shape).toEqual(h.shape.map((d, i) => d + widths[i][0] + widths[i][1]))
      same(slice(p, widths.map((w) => w[0]), h.shape), h)
      expect(sum(mul(p, p)).item()).toBe(sum(mul(x, x)).item())
    })
  })

  it('concatenating the slices of a split reconstructs the tensor', () => {
    const arb = anyTensor({ minRank: 1 }).chain((h) =>
      fc.nat(h.shape.length - 1).chain((axis) => fc.tuple(fc.constant(h), fc.constant(axis), fc.uniqueArray(fc.integer({ min: 0, max: h.shape[axis] }), { maxLength: 3 }))),
    )
    prop(arb, ([h, axis, cuts]) => {
      const x = toTensor(h)
      const bounds = [0, ...[...cuts].sort((a, b) => a - b), h.shape[axis]]
      const parts = bounds.slice(1).map((end, i) => {
        const start = h.shape.map((_, d) => (d === axis ? bounds[i] : 0))
        return slice(x, start, h.shape.map((n, d) => (d === axis ? end - bounds[i] : n)))
      })
      same(concat(parts, axis), h)
    })
  })
})

describe('scope, dispose, keep', () => {
  const live = () => currentBackend().memory()

  it('releases what a scope made and did not return; returned tensors survive', () => {
    const before = live()
    const x = tensor([1, 2, 3])
    let inner: Tensor[] = []
    const y = scope(() => {
      const a = mul(x, 2)
      const b = add(a, 1)
      inner = [a, b]
      return { out: sum(b), also: [b] }
    })
    expect(inner[0].isDisposed).toBe(true)
    expect(inner[1].isDisposed).toBe(false)
    expect(x.isDisposed).toBe(false)
    expect(y.out.item()).toBe(15)
    dispose([x, y])
    expect(live()).toEqual(before)
  })

  it('keep takes a tensor out of every enclosing scope; dispose twice is harmless', () => {
    const before = live()
    let kept: Tensor | undefined
    scope(() => scope(() => void (kept = keep(tensor([1, 2])))))
    expect(kept?.isDisposed).toBe(false)
    dispose(kept)
    dispose(kept)
    expect(kept?.isDisposed).toBe(true)
    expect(() => kept?.dataSync()).toThrow(/disposed/)
    expect(live()).toEqual(before)
  })

  it('a scope that throws still releases what it made', () => {
    const before = live()
    expect(() => scope(() => { add(tensor([1]), 1); throw new Error('boom') })).toThrow('boom')
    expect(live()).toEqual(before)
  })

  it('memory returns to its baseline after random op chains in a scope', () => {
    const before = live()
    prop(arbTensor({ shape: arbShape({ minRank: 2, maxRank: 2 }) }), (h) => {
      const x = toTensor(h)
      sum(matmul(x, transpose(x))).dataSync()
    })
    expect(live()).toEqual(before)
  })
})

describe('op errors', () => {
  it('reshape allows at most one -1 and needs the same size', () => {
    expect(() => reshape(zeros([2, 3]), [-1, -1])).toThrow(/reshape: \[2,3\] to \[-1,-1\]: at most one -1/)
    expect(() => reshape(zeros([2, 3]), [4, -1])).toThrow(CoreError)
    expect(() => reshape(zeros([2, 3]), [5])).toThrow(/reshape: .*cannot reshape 6 elements to \[5\]/)
  })

  it('bad axes and permutations name the op', () => {
    expect(() => sum(zeros([2, 3]), 2)).toThrow(/sum: axis 2 is out of range for rank 2/)
    expect(() => sum(zeros([2, 3]), [0, 0])).toThrow(/axis 0 repeated/)
    expect(() => transpose(zeros([2, 3]), [0, 0])).toThrow(/transpose: .*not a permutation/)
    expect(() => concat([zeros([2, 3]), zeros([2, 3])], 3)).toThrow(/concat: axis 3 is out of range/)
    expect(() => concat([zeros([2, 3]), zeros([3, 3])], 1)).toThrow(/shapes differ off axis 1/)
    expect(() => slice(zeros([2, 3]), [1, 1], [2, 1])).toThrow(/slice: .*out of bounds/)
  })

  it('matmul names both shapes and the inner dimensions', () => {
    expect(() => matmul(zeros([3, 4]), zeros([5, 6]))).toThrow('matmul: [3,4] x [5,6]: inner dimensions 4 and 5 differ')
  })
})
