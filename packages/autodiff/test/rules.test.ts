import fc from 'fast-check'
import { afterAll, describe, expect, it } from 'vitest'
import type { Primitive, Tensor } from '@frugal-ts/core'
import { bind, fromArray, mul } from '@frugal-ts/core'
import { directional, expectExactZero, expectRules, fdTolerance, randomTensor, worst } from './fd'
import type { FdCase } from './fd'

// Every primitive's float32 VJP and JVP rules against float64 finite differences (fd.ts), on
// shapes of rank ≤ 4 with dimensions ≤ 7, FD_RUNS (default 100) fast-check runs per primitive.
const dim = fc.integer({ min: 1, max: 7 })
const shapeArb = (minRank = 0, maxRank = 4) => fc.array(dim, { minLength: minRank, maxLength: maxRank })
const seedArb = fc.integer({ min: 1, max: 2 ** 30 })
const runs = Number(process.env.FD_RUNS ?? 100)

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
  .record({ out: shapeArb(0, 4), dropA: fc.integer({ min: 0, max: 4 }), dropB: fc.integer({ min: 0, max: 4 }), onesA: fc.array(fc.boolean(), { minLength: 4, maxLength: 4 }), onesB: fc.array(fc.boolean(), { minLength: 4, maxLength: 4 }) })
  .map(({ out, dropA, dropB, onesA, onesB }) => {
    const make = (drop: number, ones: boolean[]) => out.slice(Math.min(drop, out.length)).map((d, i) => (ones[i] ? 1 : d))
    return [make(dropA, onesA), make(dropB, onesB)] as const
  })

const p = (prim: Primitive, params: object = {}) => (...xs: Tensor[]) => bind(prim, xs, params as never)

afterAll(() => {
  const rows = [...worst].map(([name, w]) => `${name.padEnd(48)} ${w.vjp.toExponential(2).padStart(9)} ${w.jvp.toExponential(2).padStart(9)} ${String(w.runs).padStart(5)}`)
  console.info(`[rules] float32 rules vs float64 FD, largest |rule − fd| / Σ|terms| (tolerance rtol ${fdTolerance.rtol}):\n${'check'.padEnd(48)}       vjp       jvp  runs\n${rows.join('\n')}`)
})

/** Registers the check of `name` on `runs` fast-check cases. */
const check = (name: string, arb: fc.Arbitrary<FdCase & { seed: number }>, n = runs) =>
  it(`${name}: float32 vjp and jvp agree with float64 finite differences (rtol ${fdTolerance.rtol}, ${n} runs)`, () => {
    fc.assert(fc.property(arb, (c) => expectRules(name, c, c.seed)), { numRuns: n, seed: 2411_07837 })
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

const f32 = (x: Tensor) => bind('cast', [x], { dtype: 'float32' })
const indices = (shape: readonly number[], n: number, seed: number) =>
  fromArray(Int32Array.from(randomTensor(shape, seed, 0, n).dataSync(), (v) => Math.min(n - 1, Math.floor(v))), shape, 'int32')
const axesOf = (shape: readonly number[], pick: readonly boolean[]) => shape.flatMap((_, i) => (pick[i] ? [i] : []))
const scaled = (t: Tensor, k: number) => fromArray(Float32Array.from(t.dataSync(), (v) => v * k), t.shape)

describe('every primitive differentiates like float64 finite differences', () => {
  unary('neg', -2, 2)
  unary('exp', -2, 2)
  unary('log', 0.5, 3)
  unary('sqrt', 0.5, 3)
  unary('sin', -3, 3)
  unary('cos', -3, 3)
  unary('tanh', -2, 2)
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
  const withAxes = fc.record({ shape: shapeArb(1, 4), seed: seedArb, pick: fc.array(fc.boolean(), { minLength: 4, maxLength: 4 }) })
  check(
    'reduceSum',
    withAxes.map(({ shape, seed, pick }) => ({ seed, args: [randomTensor(shape, seed)], fn: p('reduceSum', { axes: axesOf(shape, pick) }), wrt: [0] })),
  )
  check(
    'reduceMax',
    withAxes.map(({ shape, seed, pick }) => ({ seed, args: [distinct(shape, seed)], fn: p('reduceMax', { axes: axesOf(shape, pick) }), wrt: [0] })),
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
    broadcastPair.chain(([a]) => fc.record({ seed: seedArb, lead: fc.integer({ min: 0, max: 4 - a.length }), a: fc.constant(a) })).map(({ a, seed, lead }) => ({
      seed,
      args: [randomTensor(a, seed)],
      fn: p('broadcast', { shape: [...Array(lead).fill(2), ...a.map((d) => (d === 1 ? 3 : d))] }),
      wrt: [0],
    })),
  )
  check(
    'slice',
    fc.record({ shape: shapeArb(1, 4), seed: seedArb, f: fc.array(fc.double({ min: 0, max: 0.99, noNaN: true }), { minLength: 8, maxLength: 8 }) }).map(({ shape, seed, f }) => {
      const start = shape.map((d, i) => Math.floor(f[i] * d))
      const size = shape.map((d, i) => 1 + Math.floor(f[i + 4] * (d - start[i])))
      return { seed, args: [randomTensor(shape, seed)], fn: p('slice', { start, size }), wrt: [0] }
    }),
  )
  check(
    'pad',
    fc.record({ shape: shapeArb(0, 4), seed: seedArb, w: fc.array(fc.integer({ min: 0, max: 2 }), { minLength: 8, maxLength: 8 }) }).map(({ shape, seed, w }) => ({
      seed,
      args: [randomTensor(shape, seed)],
      fn: p('pad', { lo: shape.map((_, i) => w[i]), hi: shape.map((_, i) => w[i + 4]) }),
      wrt: [0],
    })),
  )
  check(
    'concat',
    fc.record({ shape: shapeArb(1, 4), seed: seedArb, axis: fc.nat(), extra: fc.integer({ min: 1, max: 7 }) }).map(({ shape, seed, axis, extra }) => {
      const ax = axis % shape.length
      const other = shape.map((d, i) => (i === ax ? extra : d))
      return { seed, args: [randomTensor(shape, seed), randomTensor(other, seed + 1)], fn: p('concat', { axis: ax }), wrt: [0, 1] }
    }),
  )
  check(
    'gather',
    fc.record({ shape: shapeArb(1, 4), idx: shapeArb(0, 2), seed: seedArb, axis: fc.nat() }).map(({ shape, idx, seed, axis }) => {
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
      args: [randomTensor([...ba.slice(-2), m, k], seed), randomTensor([...bb.slice(-2), k, n], seed + 1)],
      fn: p('matmul'),
      wrt: [0, 1],
    })),
  )
})

describe('casts: from int32 and bool (the input is not differentiable), to int32 and bool (piecewise constant)', () => {
  check(
    'cast int32 -> float32: x·cast(k)',
    fc.record({ shape: shapeArb(), seed: seedArb }).map(({ shape, seed }) => ({ seed, args: [randomTensor(shape, seed), indices(shape, 9, seed + 3)], fn: (x: Tensor, k: Tensor) => mul(x, f32(k)), wrt: [0] })),
  )
  check(
    'cast bool -> float32: x·cast(b)',
    fc.record({ shape: shapeArb(), seed: seedArb }).map(({ shape, seed }) => ({
      seed,
      args: [randomTensor(shape, seed), fromArray(Uint8Array.from(randomTensor(shape, seed + 3).dataSync(), (v) => (v > 0 ? 1 : 0)), shape, 'bool')],
      fn: (x: Tensor, b: Tensor) => mul(x, f32(b)),
      wrt: [0],
    })),
  )
  check(
    'cast float32 -> int32 -> float32: x·trunc(x)',
    // 3·(0.1k + 0.05) is never within 0.05 of an integer: no FD step crosses a jump of trunc
    fc.record({ shape: shapeArb(), seed: seedArb }).map(({ shape, seed }) => ({ seed, args: [scaled(grid(shape, seed, 0.05), 3)], fn: (x: Tensor) => mul(x, f32(bind('cast', [x], { dtype: 'int32' }))), wrt: [0] })),
  )
  check(
    'cast float32 -> bool -> float32: x·(x ≠ 0)',
    fc.record({ shape: shapeArb(), seed: seedArb }).map(({ shape, seed }) => ({ seed, args: [grid(shape, seed, 0.05)], fn: (x: Tensor) => mul(x, f32(bind('cast', [x], { dtype: 'bool' }))), wrt: [0] })),
  )
  check(
    'cast float32 -> float32',
    fc.record({ shape: shapeArb(), seed: seedArb }).map(({ shape, seed }) => ({ seed, args: [randomTensor(shape, seed)], fn: (x: Tensor) => mul(f32(x), x), wrt: [0] })),
  )
  it(`the int32 and bool inputs of a cast get zero cotangents of their own dtype (${runs} runs)`, () => {
    fc.assert(
      fc.property(shapeArb(), seedArb, (shape, seed) => {
        const k = indices(shape, 9, seed)
        const b = fromArray(Uint8Array.from(k.dataSync(), (v) => v & 1), shape, 'bool')
        const x = randomTensor(shape, seed + 1)
        const d = directional({ args: [x, k, b], fn: (x, k, b) => mul(mul(x, f32(k)), f32(b)), wrt: [0] }, seed)
        expect(d.cts[1]).toBeInstanceOf(Int32Array)
        expect(d.cts[2]).toBeInstanceOf(Uint8Array)
        expect([...d.cts[1]!, ...d.cts[2]!].every((v) => v === 0)).toBe(true)
      }),
      { numRuns: runs, seed: 2411_07837 },
    )
  })
})

const zeroCheck = (name: string, arb: fc.Arbitrary<FdCase & { seed: number }>) =>
  it(`${name}: vjp, jvp and the float64 FD are exactly zero where defined (${runs} runs)`, () => {
    fc.assert(fc.property(arb, (c) => expectExactZero(name, c, c.seed)), { numRuns: runs, seed: 2411_07837 })
  })

describe('piecewise-constant primitives: gradients exactly zero', () => {
  zeroCheck(
    'sign (zeros included, not moved)',
    fc.record({ shape: shapeArb(), seed: seedArb }).map(({ shape, seed }) => ({
      seed,
      args: [fromArray(Float32Array.from(grid(shape, seed, 0).dataSync(), (v) => (Math.abs(v) < 0.25 ? 0 : v)), shape)],
      fn: (x: Tensor) => mul(p('sign')(x), 1),
      wrt: [0],
      frozen: (_, data) => Array.from(data, (v) => v === 0),
    })),
  )
  zeroCheck(
    'compare (every op, no ties)',
    fc.record({ shapes: broadcastPair, seed: seedArb, op: fc.constantFrom('lt', 'le', 'gt', 'ge', 'eq', 'ne') }).map(({ shapes: [sa, sb], seed, op }) => ({
      seed,
      args: [grid(sa, seed, 0), grid(sb, seed + 3, 0.05)],
      fn: (x: Tensor, y: Tensor) => f32(bind('compare', [x, y], { op } as never)),
      wrt: [0, 1],
    })),
  )
  zeroCheck(
    'compare (every op, all ties, not moved)',
    fc.record({ shape: shapeArb(), seed: seedArb, op: fc.constantFrom('lt', 'le', 'gt', 'ge', 'eq', 'ne') }).map(({ shape, seed, op }) => {
      const x = grid(shape, seed, 0)
      return { seed, args: [x, x], fn: (a: Tensor, b: Tensor) => f32(bind('compare', [a, b], { op } as never)), wrt: [0, 1], frozen: (_, data) => Array.from(data, () => true) }
    }),
  )
  zeroCheck(
    'argmax (distinct values, any axis)',
    fc.record({ shape: shapeArb(1, 4), seed: seedArb, axis: fc.nat() }).map(({ shape, seed, axis }) => ({
      seed,
      args: [distinct(shape, seed)],
      fn: (x: Tensor) => f32(bind('argmax', [x], { axis: axis % shape.length })),
      wrt: [0],
    })),
  )
})
