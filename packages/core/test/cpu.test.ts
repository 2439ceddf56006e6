import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { CompareOp } from '../src/Primitive'
import { shapeRules } from '../src/Primitive'
import { cpu } from '../src/internal/cpu/backend'
import type { Arr } from './cpu-reference'
import { broadcastShapesArb, fill, refMap, run, sameAs } from './cpu-reference'

const f32 = (shape: readonly number[], seed: number, special = true): Arr => ({ shape, data: fill('float32', shape.reduce((a, b) => a * b, 1), seed, special) })
const i32 = (shape: readonly number[], seed: number): Arr => ({ shape, data: fill('int32', shape.reduce((a, b) => a * b, 1), seed) })
const b8 = (shape: readonly number[], seed: number): Arr => ({ shape, data: fill('bool', shape.reduce((a, b) => a * b, 1), seed) })

const signRef = (x: number) => (Number.isNaN(x) ? NaN : x > 0 ? 1 : x < 0 ? -1 : 0)
const maxRef = (a: number, b: number) => (Number.isNaN(a) || Number.isNaN(b) ? NaN : Math.max(a, b))
const wrap = (x: bigint) => Number(BigInt.asIntN(32, x))

const unaryRefs: Record<string, (x: number) => number> = {
  neg: (x) => -x,
  exp: Math.exp,
  log: Math.log,
  sqrt: Math.sqrt,
  sin: Math.sin,
  cos: Math.cos,
  tanh: Math.tanh,
  sign: signRef,
}
const binaryRefs: Record<string, (a: number, b: number) => number> = {
  add: (a, b) => a + b,
  mul: (a, b) => a * b,
  div: (a, b) => a / b,
  max: maxRef,
  pow: Math.pow,
}
const compareRefs: Record<CompareOp, (a: number, b: number) => boolean> = {
  lt: (a, b) => a < b,
  le: (a, b) => a <= b,
  gt: (a, b) => a > b,
  ge: (a, b) => a >= b,
  eq: (a, b) => a === b,
  ne: (a, b) => a !== b,
}
const seed = fc.integer({ min: 0, max: 2 ** 31 - 1 })

describe('cpu elementwise kernels', () => {
  it('unary float32 ops match Math on random shapes with NaN, ±0, ±Inf', () => {
    fc.assert(
      fc.property(broadcastShapesArb(1), seed, fc.constantFrom(...Object.keys(unaryRefs)), ([shape], s, op) => {
        const x = f32(shape, s)
        expect(sameAs(run(op, [x], {}, shape, 'float32'), refMap(shape, [x], unaryRefs[op]))).toBe(true)
      }),
    )
  })

  it('binary float32 ops broadcast numpy-style (max propagates NaN)', () => {
    fc.assert(
      fc.property(broadcastShapesArb(2), seed, fc.constantFrom(...Object.keys(binaryRefs)), ([out, [sa, sb]], s, op) => {
        const a = f32(sa, s)
        const b = f32(sb, s + 1)
        const shape = shapeRules.add([{ shape: sa, dtype: 'float32' }, { shape: sb, dtype: 'float32' }], {}).shape
        expect(shape.length).toBeLessThanOrEqual(out.length)
        expect(sameAs(run(op, [a, b], {}, shape, 'float32'), refMap(shape, [a, b], binaryRefs[op]))).toBe(true)
      }),
    )
  })

  it('int32 add, mul, neg wrap like int32; max and sign are exact', () => {
    fc.assert(
      fc.property(broadcastShapesArb(2), seed, ([, [sa, sb]], s) => {
        const a = i32(sa, s)
        const b = i32(sb, s + 1)
        const shape = shapeRules.add([{ shape: sa, dtype: 'int32' }, { shape: sb, dtype: 'int32' }], {}).shape
        const big = (f: (x: bigint, y: bigint) => bigint) => (x: number, y: number) => wrap(f(BigInt(x), BigInt(y)))
        expect(sameAs(run('add', [a, b], {}, shape, 'int32'), refMap(shape, [a, b], big((x, y) => x + y)))).toBe(true)
        expect(sameAs(run('mul', [a, b], {}, shape, 'int32'), refMap(shape, [a, b], big((x, y) => x * y)))).toBe(true)
        expect(sameAs(run('max', [a, b], {}, shape, 'int32'), refMap(shape, [a, b], Math.max))).toBe(true)
        expect(sameAs(run('neg', [a], {}, sa, 'int32'), refMap(sa, [a], (x) => wrap(-BigInt(x))))).toBe(true)
        expect(sameAs(run('sign', [a], {}, sa, 'int32'), refMap(sa, [a], signRef))).toBe(true)
      }),
    )
  })

  it('int32 wraps at the boundaries', () => {
    const a: Arr = { shape: [3], data: new Int32Array([2147483647, -2147483648, 65536]) }
    const b: Arr = { shape: [3], data: new Int32Array([1, -1, 65536]) }
    expect([...run('add', [a, b], {}, [3], 'int32')]).toEqual([-2147483648, 2147483647, 131072])
    expect([...run('mul', [a, b], {}, [3], 'int32')]).toEqual([2147483647, -2147483648, 0])
    expect([...run('neg', [a], {}, [3], 'int32')]).toEqual([-2147483647, -2147483648, -65536])
  })

  it('compare yields bool 0/1 for every op and dtype, broadcasting', () => {
    fc.assert(
      fc.property(broadcastShapesArb(2), seed, fc.constantFrom(...(Object.keys(compareRefs) as CompareOp[])), fc.constantFrom('float32', 'int32', 'bool'), ([, [sa, sb]], s, op, dt) => {
        const make = dt === 'float32' ? f32 : dt === 'int32' ? i32 : b8
        const a = make(sa, s)
        const b = make(sb, s + 3)
        const shape = shapeRules.compare([{ shape: sa, dtype: dt }, { shape: sb, dtype: dt }], { op }).shape
        const got = run('compare', [a, b], { op }, shape, 'bool')
        expect(got).toBeInstanceOf(Uint8Array)
        expect(sameAs(got, refMap(shape, [a, b], (x, y) => (compareRefs[op](x, y) ? 1 : 0)))).toBe(true)
      }),
    )
  })

  it('where(cond, x, y) broadcasts all three operands', () => {
    fc.assert(
      fc.property(broadcastShapesArb(3), seed, ([, [sc, sx, sy]], s) => {
        const c = b8(sc, s)
        const x = f32(sx, s + 1)
        const y = f32(sy, s + 2)
        const shape = shapeRules.where([{ shape: sc, dtype: 'bool' }, { shape: sx, dtype: 'float32' }, { shape: sy, dtype: 'float32' }], {}).shape
        expect(sameAs(run('where', [c, x, y], {}, shape, 'float32'), refMap(shape, [c, x, y], (k, a, b) => (k ? a : b)))).toBe(true)
      }),
    )
  })

  it('cast follows the dtype rules', () => {
    const x: Arr = { shape: [9], data: new Float32Array([1.7, -1.7, 0, -0, NaN, Infinity, -Infinity, 3e9, -0.5]) }
    expect([...run('cast', [x], { dtype: 'int32' }, [9], 'int32')]).toEqual([1, -1, 0, 0, 0, 2147483647, -2147483648, 2147483647, 0])
    expect([...run('cast', [x], { dtype: 'bool' }, [9], 'bool')]).toEqual([1, 1, 0, 0, 1, 1, 1, 1, 1])
    const b: Arr = { shape: [3], data: new Uint8Array([1, 0, 1]) }
    expect([...run('cast', [b], { dtype: 'float32' }, [3], 'float32')]).toEqual([1, 0, 1])
    expect([...run('cast', [b], { dtype: 'int32' }, [3], 'int32')]).toEqual([1, 0, 1])
    const i: Arr = { shape: [4], data: new Int32Array([0, -3, 16777217, 2147483647]) }
    expect([...run('cast', [i], { dtype: 'float32' }, [4], 'float32')]).toEqual([0, -3, 16777216, 2147483648])
    expect([...run('cast', [i], { dtype: 'bool' }, [4], 'bool')]).toEqual([0, 1, 1, 1])
  })

  it('sign(±0) is ±0 and sign(NaN) is NaN, as Math.sign', () => {
    const x: Arr = { shape: [5], data: new Float32Array([0, -0, NaN, -2, 3]) }
    const got = run('sign', [x], {}, [5], 'float32')
    expect(Object.is(got[0], 0) && Object.is(got[1], -0)).toBe(true)
    expect(Number.isNaN(got[2])).toBe(true)
    expect([got[3], got[4]]).toEqual([-1, 1])
  })

  it('never mutates its inputs', () => {
    const a = f32([3, 4], 1)
    const before = Float32Array.from(a.data)
    run('add', [a, a], {}, [3, 4], 'float32')
    run('exp', [a], {}, [3, 4], 'float32')
    expect(a.data).toEqual(before)
  })
})

describe('cpu memory accounting', () => {
  it('the cpu() example', () => {
    const b = cpu()
    const aval = { shape: [2], dtype: 'float32' } as const
    const h = b.fromHost(new Float32Array([1, 2]), aval)
    expect(b.kernels.add([h, h], [aval, aval], {}, aval)).toEqual(new Float32Array([2, 4]))
    expect(b.memory()).toEqual({ tensors: 2, bytes: 16 })
  })

  it('counts handles made by fromHost and kernels, minus disposed ones', () => {
    const b = cpu()
    const av = { shape: [2, 3], dtype: 'float32' as const }
    expect(b.memory()).toEqual({ tensors: 0, bytes: 0 })
    const src = new Float32Array([1, 2, 3, 4, 5, 6])
    const h = b.fromHost(src, av)
    src[0] = 99
    expect(h[0]).toBe(1) // fromHost copies
    const y = b.kernels.mul([h, h], [av, av], {}, av)
    expect(b.memory()).toEqual({ tensors: 2, bytes: 48 })
    const read = b.readSync(y, av)
    read[0] = -1
    expect(b.readSync(y, av)[0]).toBe(1) // readSync copies
    b.dispose(h, av)
    b.dispose(y, av)
    expect(b.memory()).toEqual({ tensors: 0, bytes: 0 })
  })

  it('read resolves to a copy', async () => {
    const b = cpu()
    const av = { shape: [2], dtype: 'int32' as const }
    const h = b.fromHost(new Int32Array([4, 5]), av)
    const r = await b.read(h, av)
    expect([...r]).toEqual([4, 5])
    expect(r).not.toBe(h)
  })
})
