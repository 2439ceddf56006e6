import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { Aval, Primitive, PrimitiveParams } from '../src/Primitive'
import type { Const, Equation, Program, Var } from '../src/Program'
import { Tensor } from '../src/Tensor'
import { Trace, withTrace } from '../src/Trace'
import { add, cast, div, mul, pow, sqrt, sub } from '../src/ops'
import { cpu } from '../src/internal/cpu/backend'
import { close } from './cpu-reference'

/** the wasm path, failing the test if any step stays on the JS path */
const wasm = cpu({ wasm: true, onFallback: (m) => { throw new Error(`fell back: ${m}`) } })
const reference = cpu()

/** pow(x, y) on the wasm path for operands of shapes `sa`, `sb` (broadcast) */
const powWasm = (a: Float32Array, sa: number[], b: Float32Array, sb: number[]): Float32Array => {
  const x: Var = { id: 0, aval: { shape: sa, dtype: 'float32' } }
  const y: Var = { id: 1, aval: { shape: sb, dtype: 'float32' } }
  const shape = sa.length >= sb.length ? sa : sb
  const z: Var = { id: 2, aval: { shape, dtype: 'float32' } }
  const p: Program = { inputs: [x, y], consts: [], equations: [{ prim: 'pow', params: {}, inputs: [x, y], out: z } as Equation], outputs: [z] }
  const exe = wasm.compile(p)
  expect(exe.describe).toMatch(/1 in wasm, 0 on JS/)
  return exe.run([wasm.fromHost(a, x.aval), wasm.fromHost(b, y.aval)], [])[0] as Float32Array
}

/** pow elementwise over equal-length arrays */
const powAll = (a: readonly number[], b: readonly number[]): Float32Array =>
  powWasm(Float32Array.from(a), [a.length], Float32Array.from(b), [b.length])

const bits = new DataView(new ArrayBuffer(4))
/** the float32 `x` as an integer that counts ulps: consecutive floats differ by 1, −0 and +0 are both 0 */
const ordinal = (x: number): number => {
  bits.setFloat32(0, x)
  const i = bits.getInt32(0)
  return i < 0 ? -(i & 0x7fffffff) : i
}

/** ulps between `got` and Math.fround(Math.pow(a, b)): NaN, ±0 and ±∞ must match exactly (else ∞) */
const ulpsOff = (a: number, b: number, got: number): number => {
  const want = Math.fround(Math.pow(a, b))
  if (Number.isNaN(want) || want === 0 || !Number.isFinite(want)) return Object.is(got, want) ? 0 : Infinity
  return Number.isNaN(got) ? Infinity : Math.abs(ordinal(got) - ordinal(want))
}

/** the largest ulp error of pow over pairs (a[i], b[i]), with the first pair that has it */
const worst = (a: readonly number[], b: readonly number[]) => {
  const got = powAll(a, b)
  let w = { ulps: 0, a: 0, b: 0, got: 1 }
  got.forEach((g, i) => {
    const u = ulpsOff(a[i], b[i], g)
    if (u > w.ulps) w = { ulps: u, a: a[i], b: b[i], got: g }
  })
  return w
}

const specials = [0, -0, 1, -1, 0.5, -0.5, 2, -2, 3, -3, 2.5, -2.5, Infinity, -Infinity, NaN, 1e-40, 3.4e38, 1e-30, 100, -100, 0.999].map(Math.fround)

describe('pow on the wasm path', () => {
  it('matches Math.pow on every pair of special values: NaN, ±0, ±∞ exactly, the rest within an ulp', () => {
    const a = specials.flatMap((x) => specials.map(() => x))
    const b = specials.flatMap(() => specials)
    const got = powAll(a, b)
    const off = a.map((x, i) => ({ a: x, b: b[i], got: got[i], want: Math.fround(Math.pow(x, b[i])), ulps: ulpsOff(x, b[i], got[i]) })).filter((r) => r.ulps > 1)
    expect(off).toEqual([])
    // the cases JS defines specially
    const index = (x: number) => specials.findIndex((s) => Object.is(s, Math.fround(x)))
    const at = (x: number, y: number) => got[index(x) * specials.length + index(y)]
    expect(at(NaN, 0)).toBe(1)
    expect(at(NaN, -0)).toBe(1)
    expect(at(1, Infinity)).toBeNaN()
    expect(at(-1, -Infinity)).toBeNaN()
    expect(at(-2, 2.5)).toBeNaN()
    expect(at(-0, 3)).toBe(-0)
    expect(at(-0, -3)).toBe(-Infinity)
    expect(at(-Infinity, 3)).toBe(-Infinity)
    expect(at(-Infinity, -3)).toBe(-0)
    expect(at(-Infinity, 0.5)).toBe(Infinity)
    expect(at(0, -0.5)).toBe(Infinity)
    expect(at(-2, 3)).toBe(-8)
    expect(at(3.4e38, 2)).toBe(Infinity)
    expect(at(1e-30, 2)).toBe(0)
    expect(at(1e-40, 1)).toBe(Math.fround(1e-40))
  })

  it('agrees with Math.pow within 2 ulps on random float32 operands, exactly where the result is NaN, 0 or ∞', () => {
    const f32 = fc.float() // any float32: NaN, ±∞, ±0 and subnormals included
    const pairs = fc.oneof(
      fc.tuple(f32, f32),
      fc.tuple(fc.float({ min: -100, max: 100, noNaN: true }), fc.float({ min: -30, max: 30, noNaN: true })),
      fc.tuple(fc.float({ min: -1e3, max: 1e3, noNaN: true }), fc.integer({ min: -40, max: 40 })), // negative bases, integer powers
      fc.tuple(fc.float({ min: Math.fround(0.99), max: Math.fround(1.01), noNaN: true }), fc.float({ min: -1e6, max: 1e6, noNaN: true })),
      fc.tuple(fc.float({ min: Math.fround(1e-38), max: Math.fround(1e38), noNaN: true }), fc.float({ min: -3, max: 3, noNaN: true })),
    )
    fc.assert(
      fc.property(fc.array(pairs, { minLength: 1, maxLength: 40 }), (ps) => {
        const w = worst(ps.map((p) => p[0]), ps.map((p) => p[1]))
        expect(w.ulps, `pow(${w.a}, ${w.b}) = ${w.got}`).toBeLessThanOrEqual(2)
      }),
      { numRuns: 300 },
    )
  })

  it('stays within an ulp over a million random operands of all magnitudes', () => {
    let seed = 12345
    const u = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32 - 0.5
    const families: (() => [number, number])[] = [
      () => [Math.exp(2 * u()), 4 * u()],
      () => [Math.exp(20 * u()), 20 * u()],
      () => [Math.exp(160 * u()), 200 * u()], // results across float32's range, into the subnormals
      () => [1.06 + 0.72 * u(), 500 * u()], // m in [√½, √2) with e = 0: the log series alone, to large powers
      () => [-Math.exp(10 * u()), Math.round(80 * u())], // negative bases, integer powers
    ]
    const pairs = Array.from({ length: 1 << 20 }, (_, i) => families[i % families.length]().map(Math.fround))
    const w = worst(pairs.map((p) => p[0]), pairs.map((p) => p[1]))
    expect(w.ulps, `pow(${w.a}, ${w.b}) = ${w.got}`).toBeLessThanOrEqual(1)
  })

  it('handles tail lanes and broadcast scalar operands', () => {
    const a7 = Float32Array.from([0.5, 2, -3, 10, 0.999, 7, -0.25])
    const b7 = Float32Array.from([3, -1.5, 3, 0.3, 1000, 2, -2])
    /** the largest ulp error of `got`, whose element i is pow(a(i), b(i)) */
    const ulps = (got: Float32Array, a: (i: number) => number, b: (i: number) => number) =>
      Math.max(...Array.from(got, (g, i) => ulpsOff(a(i), b(i), g)))
    expect(ulps(powWasm(a7, [7], b7, [7]), (i) => a7[i], (i) => b7[i])).toBeLessThanOrEqual(1)
    expect(ulps(powWasm(a7, [7], Float32Array.of(2.5), []), (i) => a7[i], () => 2.5)).toBeLessThanOrEqual(1)
    expect(ulps(powWasm(Float32Array.of(0.9), [], b7, [7]), () => Math.fround(0.9), (i) => b7[i])).toBeLessThanOrEqual(1)
    expect([...powWasm(Float32Array.of(-2), [1], Float32Array.of(3), [1])]).toEqual([-8])
    expect([...powWasm(Float32Array.of(4), [], Float32Array.of(0.5), [])]).toEqual([2])
    const rows = Float32Array.from({ length: 3 * 5 }, (_, i) => 0.1 + i / 4)
    const col = Float32Array.of(1, 2, -0.5)
    expect(ulps(powWasm(rows, [3, 5], col, [3, 1]), (i) => rows[i], (i) => col[Math.floor(i / 5)])).toBeLessThanOrEqual(1)
  })
})

/** A staging trace, as `jit` has: primitives on its tracers become equations; concrete tensors become constants. */
class Staging extends Trace {
  readonly kind = 'staging'
  readonly inputs: Var[] = []
  readonly equations: Equation[] = []
  readonly consts: Const[] = []
  private id = 0
  private fresh = (aval: Aval): Var => ({ id: this.id++, aval })
  input(aval: Aval): Tensor {
    const v = this.fresh(aval)
    this.inputs.push(v)
    return new Tensor(aval.shape, aval.dtype, this, v)
  }
  lift(x: Tensor): Tensor {
    const v = this.fresh({ shape: x.shape, dtype: x.dtype })
    this.consts.push({ var: v, value: x })
    return new Tensor(x.shape, x.dtype, this, v)
  }
  process<P extends Primitive>(prim: P, inputs: readonly Tensor[], params: PrimitiveParams[P], out: Aval): Tensor {
    const v = this.fresh(out)
    this.equations.push({ prim, params, inputs: inputs.map((x) => x.payload as Var), out: v } as Equation)
    return new Tensor(out.shape, out.dtype, this, v)
  }
  concrete(): null {
    return null
  }
}

describe('pow in a staged Adam update', () => {
  it('runs the bias corrections 1 − βᵗ in wasm, with nothing on JS, and agrees with the JS path', () => {
    const n = 10
    const program = withTrace((level) => new Staging(level), (s): Program => {
      const g = s.input({ shape: [n], dtype: 'float32' })
      const m = s.input({ shape: [n], dtype: 'float32' })
      const v = s.input({ shape: [n], dtype: 'float32' })
      const count = s.input({ shape: [], dtype: 'int32' })
      const t = cast(count, 'float32')
      const m1 = add(mul(m, 0.9), mul(g, 0.1))
      const v1 = add(mul(v, 0.999), mul(mul(g, g), 0.001))
      const update = div(mul(m1, div(1, sub(1, pow(0.9, t)))), add(sqrt(mul(v1, div(1, sub(1, pow(0.999, t))))), 1e-8))
      return { inputs: s.inputs, consts: s.consts, equations: s.equations, outputs: [update, m1, v1].map((x) => x.payload as Var) }
    })
    expect(program.equations.filter((e) => e.prim === 'pow')).toHaveLength(2)
    const exe = wasm.compile(program)
    expect(exe.describe).toMatch(/ 0 on JS,/)
    const host = [
      Float32Array.from({ length: n }, (_, i) => Math.sin(i) - 0.2),
      Float32Array.from({ length: n }, (_, i) => 0.01 * i),
      Float32Array.from({ length: n }, (_, i) => 0.001 * (i + 1)),
      Int32Array.of(7),
    ]
    const consts = program.consts.map((c) => c.value.dataSync())
    const got = exe.run(host.map((h, i) => wasm.fromHost(h, program.inputs[i].aval)), consts.map((h, i) => wasm.fromHost(h, program.consts[i].var.aval)))
    const want = reference.compile(program).run(host, consts)
    got.forEach((o, j) => expect(close(o, want[j], 1e-5, 1e-6)).toBe(true))
  })
})
