import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { Primitive, Tensor } from '@frugal-ts/core'
import { bind, fromArray, mul } from '@frugal-ts/core'
import { close, directional, randomTensor } from './fd'
import type { FdCase } from './fd'

const dim = fc.integer({ min: 1, max: 4 })
const shapeArb = (minRank = 0, maxRank = 3) => fc.array(dim, { minLength: minRank, maxLength: maxRank })
const seedArb = fc.integer({ min: 1, max: 2 ** 30 })

/** values on a 0.1 grid offset by `off`: kinks of max/reduceMax stay ≥ 0.05 away from any FD step */
const grid = (shape: readonly number[], seed: number, off: number): Tensor => {
  const t = randomTensor(shape, seed, -1, 1).dataSync()
  return fromArray(Float32Array.from(t, (v) => Math.round(v * 10) / 10 + off), shape)
}

/** values 0.1 apart in a seed-dependent order: no ties, and no FD step crosses a kink */
const distinct = (shape: readonly number[], seed: number): Tensor => {
  const n = shape.reduce((a, b) => a * b, 1)
  const keys = randomTensor([n], seed).dataSync()
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => keys[a] - keys[b])
  const vals = new Float32Array(n)
  order.forEach((j, rank) => (vals[j] = rank * 0.1))
  return fromArray(vals, shape)
}

/** a pair of shapes that broadcast together */
const broadcastPair = fc
  .record({ out: shapeArb(0, 3), dropA: fc.integer({ min: 0, max: 3 }), dropB: fc.integer({ min: 0, max: 3 }), onesA: fc.array(fc.boolean(), { minLength: 3, maxLength: 3 }), onesB: fc.array(fc.boolean(), { minLength: 3, maxLength: 3 }) })
  .map(({ out, dropA, dropB, onesA, onesB }) => {
    const make = (drop: number, ones: boolean[]) => out.slice(Math.min(drop, out.length)).map((d, i) => (ones[i] ? 1 : d))
    return [make(dropA, onesA), make(dropB, onesB)] as const
  })

const p = (prim: Primitive, params: object = {}) => (...xs: Tensor[]) => bind(prim, xs, params as never)

const check = (name: string, arb: fc.Arbitrary<FdCase & { seed: number }>, runs = Number(process.env.FD_RUNS ?? 15), eps = 1e-2) =>
  it(`${name}: vjp and jvp agree with central finite differences`, () => {
    fc.assert(
      fc.property(arb, (c) => {
        const [fd, ad, fwd] = directional(c, c.seed, eps)
        expect(close(fd, ad), `fd ${fd} vs vjp ${ad}`).toBe(true)
        expect(close(fd, fwd), `fd ${fd} vs jvp ${fwd}`).toBe(true)
      }),
      { numRuns: runs },
    )
  })

const unary = (prim: Primitive, lo: number, hi: number) =>
  check(
    prim,
    fc.record({ shape: shapeArb(), seed: seedArb }).map(({ shape, seed }) => ({ seed, args: [randomTensor(shape, seed, lo, hi)], fn: p(prim), wrt: [0] })),
  )

const binary = (prim: Primitive, a: [number, number], b: [number, number]) =>
  check(
    prim,
    fc.record({ shapes: broadcastPair, seed: seedArb }).map(({ shapes: [sa, sb], seed }) => ({
      seed,
      args: [randomTensor(sa, seed, ...a), randomTensor(sb, seed + 3, ...b)],
      fn: p(prim),
      wrt: [0, 1],
    })),
  )

describe('every primitive differentiates like finite differences', () => {
  unary('neg', -2, 2)
  unary('exp', -2, 2)
  unary('log', 0.5, 3)
  unary('sqrt', 0.5, 3)
  unary('sin', -3, 3)
  unary('cos', -3, 3)
  unary('tanh', -2, 2)
  unary('sign', 0.2, 1)
  binary('add', [-1, 1], [-1, 1])
  binary('mul', [-1, 1], [-1, 1])
  binary('div', [-1, 1], [0.5, 2])
  binary('pow', [0.5, 2], [-1.5, 1.5])
  check(
    'max',
    fc.record({ shapes: broadcastPair, seed: seedArb }).map(({ shapes: [sa, sb], seed }) => ({
      seed,
      args: [grid(sa, seed, 0.05), grid(sb, seed + 3, 0)],
      fn: p('max'),
      wrt: [0, 1],
    })),
  )
  check(
    'where',
    fc.record({ shape: shapeArb(), seed: seedArb }).map(({ shape, seed }) => ({
      seed,
      args: [randomTensor(shape, seed), randomTensor(shape, seed + 1), randomTensor(shape.slice(1), seed + 2)],
      fn: (c: Tensor, x: Tensor, y: Tensor) => bind('where', [bind('compare', [c, fromArray(new Float32Array([0]), [])], { op: 'gt' }), x, y], {}),
      wrt: [1, 2],
    })),
  )
  check(
    'compare (no gradient)',
    fc.record({ shape: shapeArb(), seed: seedArb }).map(({ shape, seed }) => ({
      seed,
      args: [grid(shape, seed, 0.05)],
      fn: (x: Tensor) => mul(x, bind('cast', [bind('compare', [x, grid(shape, seed + 9, 0)], { op: 'lt' })], { dtype: 'float32' })),
      wrt: [0],
    })),
  )
  const withAxes = fc.record({ shape: shapeArb(1, 3), seed: seedArb, pick: fc.array(fc.boolean(), { minLength: 3, maxLength: 3 }) })
  check(
    'reduceSum',
    withAxes.map(({ shape, seed, pick }) => ({ seed, args: [randomTensor(shape, seed)], fn: p('reduceSum', { axes: shape.flatMap((_, i) => (pick[i] ? [i] : [])) }), wrt: [0] })),
  )
  check(
    'reduceMax',
    withAxes.map(({ shape, seed, pick }) => {
      return { seed, args: [distinct(shape, seed)], fn: p('reduceMax', { axes: shape.flatMap((_, i) => (pick[i] ? [i] : [])) }), wrt: [0] }
    }),
  )
  check(
    'argmax (no gradient)',
    fc.record({ shape: shapeArb(1, 3), seed: seedArb }).map(({ shape, seed }) => ({
      seed,
      args: [distinct(shape, seed)],
      fn: (x: Tensor) => mul(bind('cast', [bind('argmax', [x], { axis: 0 })], { dtype: 'float32' }), 1),
      wrt: [0],
    })),
  )
  check(
    'reshape',
    fc.record({ shape: shapeArb(), seed: seedArb }).map(({ shape, seed }) => ({ seed, args: [randomTensor(shape, seed)], fn: p('reshape', { shape: [...shape].reverse() }), wrt: [0] })),
  )
  check(
    'transpose',
    fc.record({ shape: shapeArb(1, 4), seed: seedArb, keys: fc.array(fc.double({ noNaN: true }), { minLength: 4, maxLength: 4 }) }).map(({ shape, seed, keys }) => {
      const perm = shape.map((_, i) => i).sort((a, b) => keys[a] - keys[b] || a - b)
      return { seed, args: [randomTensor(shape, seed)], fn: p('transpose', { perm }), wrt: [0] }
    }),
  )
  check(
    'broadcast',
    broadcastPair.chain(([a]) => fc.record({ seed: seedArb, lead: fc.integer({ min: 0, max: 2 }), a: fc.constant(a) })).map(({ a, seed, lead }) => ({
      seed,
      args: [randomTensor(a, seed)],
      fn: p('broadcast', { shape: [...Array(lead).fill(2), ...a.map((d) => (d === 1 ? 3 : d))] }),
      wrt: [0],
    })),
  )
  check(
    'slice',
    fc.record({ shape: shapeArb(1, 3), seed: seedArb, f: fc.array(fc.double({ min: 0, max: 0.99, noNaN: true }), { minLength: 6, maxLength: 6 }) }).map(({ shape, seed, f }) => {
      const start = shape.map((d, i) => Math.floor(f[i] * d))
      const size = shape.map((d, i) => 1 + Math.floor(f[i + 3] * (d - start[i])))
      return { seed, args: [randomTensor(shape, seed)], fn: p('slice', { start, size }), wrt: [0] }
    }),
  )
  check(
    'pad',
    fc.record({ shape: shapeArb(0, 3), seed: seedArb, w: fc.array(fc.integer({ min: 0, max: 2 }), { minLength: 6, maxLength: 6 }) }).map(({ shape, seed, w }) => ({
      seed,
      args: [randomTensor(shape, seed)],
      fn: p('pad', { lo: shape.map((_, i) => w[i]), hi: shape.map((_, i) => w[i + 3]) }),
      wrt: [0],
    })),
  )
  check(
    'concat',
    fc.record({ shape: shapeArb(1, 3), seed: seedArb, axis: fc.nat(), extra: fc.integer({ min: 1, max: 3 }) }).map(({ shape, seed, axis, extra }) => {
      const ax = axis % shape.length
      const other = shape.map((d, i) => (i === ax ? extra : d))
      return { seed, args: [randomTensor(shape, seed), randomTensor(other, seed + 1)], fn: p('concat', { axis: ax }), wrt: [0, 1] }
    }),
  )
  const indices = (shape: readonly number[], n: number, seed: number) =>
    fromArray(Int32Array.from(randomTensor(shape, seed, 0, n).dataSync(), (v) => Math.min(n - 1, Math.floor(v))), shape, 'int32')
  check(
    'gather',
    fc.record({ shape: shapeArb(1, 3), idx: shapeArb(0, 2), seed: seedArb, axis: fc.nat() }).map(({ shape, idx, seed, axis }) => {
      const ax = axis % shape.length
      return { seed, args: [randomTensor(shape, seed), indices(idx, shape[ax], seed + 5)], fn: p('gather', { axis: ax }), wrt: [0] }
    }),
  )
  check(
    'scatterAdd',
    fc.record({ lead: shapeArb(0, 1), idx: shapeArb(1, 2), tail: shapeArb(0, 1), size: dim, seed: seedArb }).map(({ lead, idx, tail, size, seed }) => ({
      seed,
      args: [indices(idx, size, seed + 5), randomTensor([...lead, ...idx, ...tail], seed)],
      fn: p('scatterAdd', { axis: lead.length, size }),
      wrt: [1],
    })),
  )
  check(
    'matmul',
    fc.record({ batch: broadcastPair, m: dim, k: dim, n: dim, seed: seedArb }).map(({ batch: [ba, bb], m, k, n, seed }) => ({
      seed,
      args: [randomTensor([...ba, m, k], seed), randomTensor([...bb, k, n], seed + 1)],
      fn: p('matmul'),
      wrt: [0, 1],
    })),
  )
  check(
    'cast',
    fc.record({ shape: shapeArb(), seed: seedArb }).map(({ shape, seed }) => ({ seed, args: [randomTensor(shape, seed)], fn: (x: Tensor) => mul(bind('cast', [x], { dtype: 'float32' }), x), wrt: [0] })),
  )
})
