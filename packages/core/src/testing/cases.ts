import fc from 'fast-check'
import type { DType } from '../DType'
import type { CompareOp, Primitive, PrimitiveParams } from '../Primitive'
import * as S from '../Shape'
import type { Shape } from '../Shape'
import type { HostTensor } from './arbitraries'
import { arbBroadcastShapes, arbReshape, arbShape, arbTensor } from './arbitraries'

/**
 * One random input of primitive `P`: host tensors and the primitive's params.
 * @example const input: CaseInput<'reduceSum'> = { args: [h], params: { axes: [0] } }
 */
export interface CaseInput<P extends Primitive> {
  readonly args: readonly HostTensor[]
  readonly params: PrimitiveParams[P]
}

/**
 * A named family of inputs of primitive `P`.
 * @example const v: Variant<'neg'> = { name: 'float32', arb: arbTensor().map((x) => ({ args: [x], params: {} })) }
 */
export interface Variant<P extends Primitive> {
  readonly name: string
  readonly arb: fc.Arbitrary<CaseInput<P>>
  /** multiplies the float32 `atol` (sums and products accumulate error), default 1 */
  readonly atolScale?: (input: CaseInput<P>) => number
  /** uses zero-size tensors (skipped with `empty: false`) */
  readonly empty?: boolean
}

/**
 * The variants of one primitive.
 * @example const c: Case<'matmul'> = cases.matmul
 */
export type Case<P extends Primitive> = readonly Variant<P>[]

const f32 = (min: number, max: number) => fc.float({ min: Math.fround(min), max: Math.fround(max), noNaN: true, noDefaultInfinity: true })
const awayFromZero = (lo: number, hi: number) => fc.oneof(f32(lo, hi), f32(-hi, -lo))
const small = fc.integer({ min: -3, max: 3 })
const withZeros = (e: fc.Arbitrary<number>) => fc.oneof(e, fc.constant(0))

const elementsOf = (dtype: DType): fc.Arbitrary<number> | undefined =>
  dtype === 'float32' ? f32(-10, 10) : undefined

const maxAbs = (h: HostTensor): number => {
  let m = 1
  for (let i = 0; i < h.data.length; i++) m = Math.max(m, Math.abs(h.data[i]))
  return m
}

type NoParams = PrimitiveParams['neg']
type NoParamsInput = { readonly args: readonly HostTensor[]; readonly params: NoParams }

const v = <P extends Primitive>(name: string, arb: fc.Arbitrary<CaseInput<P>>, extra: Partial<Variant<P>> = {}): Variant<P> => ({ name, arb, ...extra })

const unary = (elements: fc.Arbitrary<number>, dtype: DType = 'float32'): fc.Arbitrary<NoParamsInput> =>
  arbTensor({ dtype, elements }).map((x) => ({ args: [x], params: {} as NoParams }))

const broadcasting = <P extends Primitive>(
  dtype: DType,
  elements: readonly (fc.Arbitrary<number> | undefined)[],
  params: fc.Arbitrary<PrimitiveParams[P]>,
  dtypes: readonly DType[] = elements.map(() => dtype),
) =>
  fc.tuple(arbBroadcastShapes(elements.length), params).chain(([shapes, p]) =>
    fc.tuple(...shapes.map((shape, i) => arbTensor({ shape, dtype: dtypes[i], elements: elements[i] }))).map((args) => ({ args, params: p })),
  )

const binary = (dtype: DType, a?: fc.Arbitrary<number>, b?: fc.Arbitrary<number>): fc.Arbitrary<NoParamsInput> =>
  broadcasting<'add'>(dtype, [a ?? elementsOf(dtype), b ?? elementsOf(dtype)], fc.constant({} as NoParams))

const compare = (dtype: DType, ops: readonly CompareOp[], e?: fc.Arbitrary<number>) =>
  broadcasting<'compare'>(dtype, [e, e], fc.constantFrom(...ops).map((op) => ({ op })))

const allOps: readonly CompareOp[] = ['lt', 'le', 'gt', 'ge', 'eq', 'ne']

/** One input tensor from `xs`, with params drawn for it. */
const withParams = <Q>(xs: fc.Arbitrary<HostTensor>, params: (x: HostTensor) => fc.Arbitrary<Q>) =>
  xs.chain((x) => params(x).map((p) => ({ args: [x], params: p })))

/** Tensors of rank ≥ `minRank` with dims ≥ `minDim`. */
const ranked = (dtype: DType, minRank: number, minDim = 1, elements?: fc.Arbitrary<number>) =>
  arbTensor({ dtype, elements: elements ?? elementsOf(dtype), shape: arbShape({ minRank, minDim }) })

const axesOf = (x: HostTensor) => x.shape.map((_, i) => i)
/** a random set of `x`'s axes, in random order */
const someAxes = (x: HostTensor) => fc.shuffledSubarray(axesOf(x)).map((axes) => ({ axes }))
const oneAxis = (x: HostTensor) => fc.nat(x.shape.length - 1).map((axis) => ({ axis }))
const permutation = (x: HostTensor) => fc.shuffledSubarray(axesOf(x), { minLength: x.shape.length }).map((perm) => ({ perm }))
const padWidths = (x: HostTensor) => {
  const widths = fc.array(fc.nat(2), { minLength: x.shape.length, maxLength: x.shape.length })
  return fc.tuple(widths, widths).map(([lo, hi]) => ({ lo, hi }))
}

const reduced = (input: CaseInput<'reduceSum'>) =>
  input.params.axes.reduce((n, a) => n * input.args[0].shape[a], 1) * maxAbs(input.args[0])

const anyDtype = fc.constantFrom<DType>('float32', 'int32', 'bool')

/** A tensor of any dtype and a random (rank-preserving or not) shape. */
const anyTensor = (o: { minRank?: number; minDim?: number } = {}) =>
  anyDtype.chain((dtype) => arbTensor({ dtype, elements: elementsOf(dtype), shape: arbShape(o) }))

/** A host tensor of `shape` with the suite's default values for `dtype`. */
const tensorOf = (shape: Shape, dtype: DType = 'float32') => arbTensor({ shape, dtype, elements: elementsOf(dtype) })

const sliceParams = (shape: Shape, minSize: number) => {
  const box = (d: number) =>
    fc
      .integer({ min: 0, max: Math.max(0, d - minSize) })
      .chain((start) => fc.tuple(fc.constant(start), fc.integer({ min: Math.min(minSize, d - start), max: d - start })))
  return fc.tuple(...shape.map(box)).map((boxes) => ({ start: boxes.map((b) => b[0]), size: boxes.map((b) => b[1]) }))
}

const concatInput = (minDim: number) =>
  fc
    .record({
      dtype: anyDtype,
      base: arbShape({ minRank: 1, maxRank: 3 }),
      axis: fc.nat(2),
      lens: fc.array(fc.integer({ min: minDim, max: 4 }), { minLength: 1, maxLength: 4 }),
    })
    .chain(({ dtype, base, axis, lens }) => {
      const ax = axis % base.length
      const shapes = lens.map((n) => base.map((d, i) => (i === ax ? n : d)))
      return fc.tuple(...shapes.map((shape) => tensorOf(shape, dtype))).map((args) => ({ args, params: { axis: ax } }))
    })

const gatherInput = (dtype: DType) =>
  fc
    .record({ shape: arbShape({ minRank: 1, maxRank: 3 }), axis: fc.nat(2), idxShape: arbShape({ maxRank: 2, maxDim: 6 }) })
    .chain(({ shape, axis, idxShape }) => {
      const ax = axis % shape.length
      const indices = arbTensor({ shape: idxShape, dtype: 'int32', min: 0, max: shape[ax] - 1 })
      return fc.tuple(tensorOf(shape, dtype), indices).map((args) => ({ args, params: { axis: ax } }))
    })

const scatterInput = (dtype: DType) =>
  fc
    .record({
      pre: arbShape({ maxRank: 2 }),
      idx: arbShape({ maxRank: 2, maxDim: 6 }),
      post: arbShape({ maxRank: 2 }),
      size: fc.integer({ min: 1, max: 4 }),
    })
    .chain(({ pre, idx, post, size }) => {
      const indices = arbTensor({ shape: idx, dtype: 'int32', min: 0, max: size - 1 })
      return fc.tuple(indices, tensorOf([...pre, ...idx, ...post], dtype)).map((args) => ({ args, params: { axis: pre.length, size } }))
    })

const matmulInput = fc
  .record({
    batch: arbBroadcastShapes(2, { maxRank: 2, maxDim: 3 }),
    m: fc.integer({ min: 1, max: 6 }),
    k: fc.integer({ min: 1, max: 8 }),
    n: fc.integer({ min: 1, max: 6 }),
  })
  .chain(({ batch: [ba, bb], m, k, n }) =>
    fc
      .tuple(arbTensor({ shape: [...ba, m, k], min: -2, max: 2 }), arbTensor({ shape: [...bb, k, n], min: -2, max: 2 }))
      .map((args) => ({ args, params: {} })),
  )

const castFrom = (dtype: DType, elements?: fc.Arbitrary<number>) =>
  fc.tuple(arbTensor({ dtype, elements }), anyDtype).map(([x, to]) => ({ args: [x], params: { dtype: to } }))

/**
 * The conformance cases: for every primitive (a missing one is a compile error),
 * the input families that the conformance suite runs on the backend under test
 * and on the reference backend. Inputs stay inside each primitive's domain
 * (positive `log` arguments, denominators away from 0) so that the results are
 * finite and well conditioned, and cover broadcasting, int32 and bool variants,
 * random axis sets, ties, duplicate indices and batched matmul.
 * @example
 * for (const variant of cases.matmul) fc.sample(variant.arb, 1)
 */
export const cases: { readonly [P in Primitive]: Case<P> } = {
  neg: [v('float32', unary(f32(-10, 10))), v('int32', unary(fc.integer({ min: -1000, max: 1000 }), 'int32'))],
  exp: [v('float32', unary(f32(-10, 10)))],
  log: [v('float32', unary(f32(0.01, 100)))],
  sqrt: [v('float32', unary(withZeros(f32(0, 100))))],
  sin: [v('float32', unary(f32(-7, 7)))],
  cos: [v('float32', unary(f32(-7, 7)))],
  tanh: [v('float32', unary(f32(-5, 5)))],
  sign: [v('float32', unary(withZeros(f32(-3, 3)))), v('int32', unary(small, 'int32'))],
  add: [v('float32', binary('float32')), v('int32', binary('int32'))],
  mul: [v('float32', binary('float32')), v('int32', binary('int32'))],
  div: [v('float32', binary('float32', f32(-10, 10), awayFromZero(0.5, 10)))],
  max: [v('float32', binary('float32')), v('int32', binary('int32', small, small))],
  pow: [
    v('float32 positive base', binary('float32', f32(0.1, 4), f32(-3, 3))),
    v('float32 integer exponent', binary('float32', awayFromZero(0.5, 3), small)),
  ],
  compare: [
    v('float32', compare('float32', allOps, small)),
    v('int32', compare('int32', allOps, small)),
    v('bool', compare('bool', ['eq', 'ne'])),
  ],
  where: (['float32', 'int32', 'bool'] as const).map((dtype) => {
    const e = elementsOf(dtype)
    return v<'where'>(dtype, broadcasting<'where'>('float32', [undefined, e, e], fc.constant({}), ['bool', dtype, dtype]))
  }),
  reduceSum: [
    v('float32', withParams(ranked('float32', 0), someAxes), { atolScale: reduced }),
    v('int32', withParams(ranked('int32', 0), someAxes)),
    v('empty', withParams(ranked('float32', 1, 0), someAxes), { empty: true }),
  ],
  reduceMax: [v('float32', withParams(ranked('float32', 0), someAxes)), v('int32', withParams(ranked('int32', 0), someAxes))],
  argmax: [
    v('float32', withParams(ranked('float32', 1), oneAxis)),
    v('int32 ties', withParams(ranked('int32', 1, 1, fc.integer({ min: -1, max: 1 })), oneAxis)),
  ],
  reshape: [
    v('any dtype', withParams(anyTensor(), (x) => arbReshape(x.shape).map((shape) => ({ shape })))),
    v('empty', withParams(anyTensor({ minDim: 0 }), (x) => arbReshape(x.shape).map((shape) => ({ shape }))), { empty: true }),
  ],
  transpose: [v('any dtype', withParams(anyTensor(), permutation))],
  broadcast: [
    v(
      'any dtype',
      fc.tuple(arbBroadcastShapes(2), anyDtype).chain(([[a, b], dtype]) =>
        tensorOf(a, dtype).map((x) => ({ args: [x], params: { shape: S.broadcastShapes('broadcast', a, b) } })),
      ),
    ),
  ],
  slice: [
    v('any dtype', withParams(anyTensor(), (x) => sliceParams(x.shape, 1))),
    v('empty', withParams(anyTensor(), (x) => sliceParams(x.shape, 0)), { empty: true }),
  ],
  pad: [v('any dtype', withParams(anyTensor(), padWidths))],
  concat: [v('any dtype', concatInput(1)), v('empty', concatInput(0), { empty: true })],
  gather: (['float32', 'int32', 'bool'] as const).map((dtype) => v<'gather'>(`${dtype}, duplicate indices`, gatherInput(dtype))),
  scatterAdd: (['float32', 'int32'] as const).map((dtype) =>
    v<'scatterAdd'>(`${dtype}, duplicate indices`, scatterInput(dtype), {
      atolScale: (i) => S.size(i.args[0].shape) * maxAbs(i.args[1]),
    }),
  ),
  matmul: [v('batched, broadcast', matmulInput, { atolScale: (i) => 4 * i.args[0].shape[i.args[0].shape.length - 1] })],
  cast: [
    v('from float32', castFrom('float32', fc.oneof(f32(-10, 10), small, fc.constant(0)))),
    v('from int32', castFrom('int32', small)),
    v('from bool', castFrom('bool')),
  ],
}
