import fc from 'fast-check'
import { fromArray } from '../creation'
import type { DType, TypedArray } from '../DType'
import { alloc } from '../DType'
import { key } from '../Key'
import type { Key } from '../Key'
import * as S from '../Shape'
import type { Shape } from '../Shape'
import type { Tensor } from '../Tensor'
import type { Tree } from '../Tree'

/**
 * A tensor's data on the host, independent of any backend. Arbitraries produce
 * these (tensors are bound to a backend and a scope); `toTensor` builds the
 * tensor on the current backend when a test needs it.
 * @example const h: HostTensor = { data: new Int32Array([1, 2]), shape: [2], dtype: 'int32' }
 */
export interface HostTensor {
  readonly data: TypedArray
  readonly shape: Shape
  readonly dtype: DType
}

/**
 * A tensor holding `h`'s data on the current backend.
 * @example
 * withBackend('webgl', () => toTensor({ data: new Float32Array([1, 2]), shape: [2], dtype: 'float32' }))
 */
export const toTensor = (h: HostTensor): Tensor => fromArray(h.data, h.shape, h.dtype)

/**
 * A tensor's data, shape and dtype copied to the host.
 * @example toHost(tensor([1, 2])).data // Float32Array [1, 2]
 */
export const toHost = (t: Tensor): HostTensor => ({ data: t.dataSync(), shape: [...t.shape], dtype: t.dtype })

/**
 * Options of `arbShape`.
 * @example arbShape({ minRank: 1, maxRank: 2, minDim: 0, maxDim: 3 } satisfies ShapeOptions)
 */
export interface ShapeOptions {
  readonly minRank?: number
  readonly maxRank?: number
  /** smallest dimension (default 1; 0 gives empty tensors) */
  readonly minDim?: number
  readonly maxDim?: number
}

/**
 * Shapes of rank `minRank..maxRank` (default 0..4) with dimensions `minDim..maxDim` (default 1..5).
 * @example fc.assert(fc.property(arbShape({ maxRank: 2 }), (s) => s.length <= 2))
 */
export const arbShape = (o: ShapeOptions = {}): fc.Arbitrary<number[]> =>
  fc.array(fc.integer({ min: o.minDim ?? 1, max: o.maxDim ?? 5 }), { minLength: o.minRank ?? 0, maxLength: o.maxRank ?? 4 })

/**
 * `n` shapes that broadcast together (numpy rules): each is a suffix of a common
 * shape with some dimensions replaced by 1.
 * @example
 * fc.assert(fc.property(arbBroadcastShapes(2), ([a, b]) => Shape.broadcastShapes('add', a, b).length >= a.length))
 */
export const arbBroadcastShapes = (n: number, o: ShapeOptions = {}): fc.Arbitrary<number[][]> => {
  const maxRank = o.maxRank ?? 4
  const one = fc.record({ drop: fc.nat(maxRank), ones: fc.array(fc.boolean(), { minLength: maxRank, maxLength: maxRank }) })
  return fc
    .tuple(arbShape({ ...o, maxRank }), fc.array(one, { minLength: n, maxLength: n }))
    .map(([full, picks]) =>
      picks.map(({ drop, ones }) => {
        const keep = full.length - Math.min(drop, full.length) // drop leading axes (biased to few by the nat)
        return full.slice(full.length - keep).map((d, i) => (ones[i] ? 1 : d))
      }),
    )
}

/**
 * Shapes with the same number of elements as `shape`: a random factorisation of its size
 * (rank up to `maxRank`, default 4).
 * @example fc.assert(fc.property(arbReshape([2, 6]), (s) => Shape.size(s) === 12))
 */
export const arbReshape = (shape: Shape, maxRank = 4): fc.Arbitrary<number[]> => {
  const n = S.size(shape)
  return fc.array(fc.nat(), { maxLength: maxRank }).map((choices) => {
    if (n === 0) return [0, ...choices.slice(1).map((c) => c % 3)]
    const out: number[] = []
    let rest = n
    for (let i = 0; i < choices.length - 1; i++) {
      const divisors = [...Array(rest).keys()].map((d) => d + 1).filter((d) => rest % d === 0)
      const d = divisors[choices[i] % divisors.length]
      out.push(d)
      rest /= d
    }
    return choices.length === 0 ? (n === 1 ? [] : [n]) : [...out, rest]
  })
}

/**
 * Options of `arbTensor`.
 * @example arbTensor({ shape: [2, 3], dtype: 'int32', min: 0, max: 9 } satisfies TensorOptions)
 */
export interface TensorOptions {
  /** a fixed shape or an arbitrary of shapes (default `arbShape()`) */
  readonly shape?: Shape | fc.Arbitrary<Shape>
  readonly dtype?: DType
  /** value range (default −10..10 for float32, −100..100 for int32) */
  readonly min?: number
  readonly max?: number
  /** the element arbitrary, overriding dtype's default and min/max */
  readonly elements?: fc.Arbitrary<number>
}

const defaultElements = (o: TensorOptions, dtype: DType): fc.Arbitrary<number> => {
  if (dtype === 'bool') return fc.boolean().map((b) => (b ? 1 : 0))
  if (dtype === 'int32') return fc.integer({ min: o.min ?? -100, max: o.max ?? 100 })
  const min = Math.fround(o.min ?? -10)
  const max = Math.fround(o.max ?? 10)
  return fc.float({ min, max, noNaN: true, noDefaultInfinity: true })
}

/**
 * Host tensors (`{ data, shape, dtype }`) of a given or random shape, with
 * values in a range; build them on a backend with `toTensor`.
 * @example
 * fc.assert(fc.property(arbTensor({ shape: [2, 3], min: 0, max: 1 }), (h) => toTensor(h).size === 6))
 */
export const arbTensor = (o: TensorOptions = {}): fc.Arbitrary<HostTensor> => {
  const dtype = o.dtype ?? 'float32'
  const shapes: fc.Arbitrary<Shape> =
    o.shape === undefined ? arbShape() : Array.isArray(o.shape) ? fc.constant(o.shape as Shape) : (o.shape as fc.Arbitrary<Shape>)
  const elements = o.elements ?? defaultElements(o, dtype)
  return shapes.chain((shape) => {
    const n = S.size(shape)
    return fc.array(elements, { minLength: n, maxLength: n }).map((values): HostTensor => {
      const data = alloc(dtype, n)
      data.set(values)
      return { data, shape: [...shape], dtype }
    })
  })
}

/**
 * Pytrees (nested plain objects and arrays) with leaves from `leaf`, up to `maxDepth` levels (default 3).
 * @example
 * fc.assert(fc.property(arbTree(arbTensor({ shape: [2] })), (t) => Tree.leaves(t).length >= 0))
 */
export const arbTree = <L>(leaf: fc.Arbitrary<L>, o: { readonly maxDepth?: number } = {}): fc.Arbitrary<Tree<L>> => {
  const keyArb = fc.stringMatching(/^[a-z][a-z0-9]{0,3}$/)
  const { tree } = fc.letrec<{ tree: Tree<L> }>((tie) => ({
    tree: fc.oneof(
      { depthSize: 'small', maxDepth: o.maxDepth ?? 3, withCrossShrink: true },
      leaf,
      fc.array(tie('tree'), { maxLength: 3 }),
      fc.dictionary(keyArb, tie('tree'), { maxKeys: 3, noNullPrototype: true }),
    ),
  }))
  return tree
}

/**
 * PRNG seeds: any safe integer `key` accepts, negative ones included.
 * @example fc.assert(fc.property(arbSeed(), (s) => Number.isSafeInteger(s)))
 */
export const arbSeed = (): fc.Arbitrary<number> => fc.integer({ min: -(2 ** 40), max: 2 ** 40 })

/**
 * PRNG keys (`key(seed)` of `arbSeed()`), made on the current backend when the
 * value is generated (outside any `scope` of the property body).
 * @example fc.assert(fc.property(arbKey(), (k) => k.shape[0] === 2))
 */
export const arbKey = (): fc.Arbitrary<Key> => arbSeed().map((seed) => key(seed))
