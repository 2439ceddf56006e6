import { describe, expect, it } from 'vitest'
import type { Equation, Var } from '../src/Program'
import { Code, O, V, moduleBytes, sleb, uleb } from '../src/internal/wasm/emit'
import { lowerFused } from '../src/internal/wasm/fused'
import { theHeap } from '../src/internal/wasm/heap'
import { detect } from '../src/internal/wasm/support'

const hex = (f: (out: number[]) => void) => {
  const out: number[] = []
  f(out)
  return out.map((b) => b.toString(16).padStart(2, '0')).join(' ')
}

describe('wasm emitter', () => {
  it('encodes LEB128 like the spec examples', () => {
    expect(hex((o) => uleb(624485, o))).toBe('e5 8e 26')
    expect(hex((o) => uleb(0, o))).toBe('00')
    expect(hex((o) => uleb(0xffffffff, o))).toBe('ff ff ff ff 0f')
    expect(hex((o) => sleb(-123456, o))).toBe('c0 bb 78')
    expect(hex((o) => sleb(-1, o))).toBe('7f')
    expect(hex((o) => sleb(63, o))).toBe('3f')
    expect(hex((o) => sleb(64, o))).toBe('c0 00')
    expect(hex((o) => sleb(-2147483648, o))).toBe('80 80 80 80 78')
  })

  it('builds modules that validate and run: scalar control flow and SIMD lanes', () => {
    // sum of 0..n-1 with a counted loop
    const sum = new Code(['i32'], ['i32'])
    const i = sum.local('i32')
    const s = sum.local('i32')
    sum.forUp(i, 0, 1, () => sum.get(s).get(i).op(O.i32Add).set(s))
    sum.get(s)
    // (a + b) * 2 in four lanes, lane 3 returned
    const simd = new Code(['f32', 'f32'], ['f32'])
    simd.get(0).v(V.f32x4Splat).get(1).v(V.f32x4Splat).v(V.f32x4Add).f32x4(2).v(V.f32x4Mul).lane(V.f32x4ExtractLane, 3)
    const bytes = moduleBytes([{ name: 'sum', code: sum }, { name: 'simd', code: simd }], { min: 1, max: 1, shared: false })
    expect(WebAssembly.validate(bytes)).toBe(true)
    const memory = new WebAssembly.Memory({ initial: 1, maximum: 1 })
    const e = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } }).exports as Record<string, (...a: number[]) => number>
    expect(e.sum(10)).toBe(45)
    expect(e.simd(1.5, 2)).toBe(7)
  })

  it('detects SIMD and shared memory, and explains what is missing', () => {
    const s = detect()
    expect(s.simd).toBe(true) // Node 20
    expect(s.shared).toBe(true)
    expect(s.reason).toBe('')
  })
})

describe('wasm heap', () => {
  it('allocates aligned blocks, reuses freed ones, and keeps views valid across grows', () => {
    const heap = theHeap()
    const a = heap.handle('float32', 1000)
    a.fill(7)
    heap.retain(a)
    const off = heap.offsetOf(a)
    expect(off % 64).toBe(0)
    const big = heap.block(heap.usage().capacity) // forces a grow
    expect(a[999]).toBe(7) // shared memory: the view survives
    heap.freeBlock(big)
    heap.release(a)
    const b = heap.handle('float32', 1000)
    expect(heap.offsetOf(b)).toBe(off) // best fit takes the freed block
    expect(heap.offsetOf(new Float32Array(4))).toBe(-1)
  })
})

/** float32 accuracy of the SIMD approximations against Math.* rounded to float32, in units of the conformance tolerance. */
const worstRatio = (prim: 'exp' | 'log' | 'tanh' | 'sin' | 'cos', f: (x: number) => number, xs: readonly number[]): number => {
  const heap = theHeap()
  const n = xs.length
  const x: Var = { id: 0, aval: { shape: [n], dtype: 'float32' } }
  const y: Var = { id: 1, aval: { shape: [n], dtype: 'float32' } }
  const k = lowerFused([{ prim, params: {}, inputs: [x], out: y } as Equation], [x], [y])
  if (typeof k === 'string') throw new Error(k)
  const X = heap.handle('float32', n)
  const Y = heap.handle('float32', n)
  X.set(xs)
  k([heap.offsetOf(Y), heap.offsetOf(X)])
  let worst = 0
  for (let i = 0; i < n; i++) {
    const want = Math.fround(f(X[i]))
    if (Object.is(want, Y[i]) || (Number.isNaN(want) && Number.isNaN(Y[i]))) continue
    const r = Math.abs(Y[i] - want) / (1e-6 + 1e-5 * Math.abs(want))
    worst = Number.isNaN(r) ? Infinity : Math.max(worst, r)
  }
  return worst
}

const grid = (lo: number, hi: number, n: number) => Array.from({ length: n }, (_, i) => lo + ((hi - lo) * i) / (n - 1))
const specials = [0, -0, Infinity, -Infinity, NaN, 1e-40, -1e-40, 1e-30, 1, -1]

describe('float32 SIMD approximations of exp, log, tanh, sin, cos', () => {
  it('sin and cos (float64 lanes) stay within 5% of the tolerance up to |x| = 1e6 (here: the same float32 as Math.*)', () => {
    const xs = [...grid(-7, 7, 20001), ...grid(-1e4, 1e4, 20001), ...grid(-1e6, 1e6, 20001), ...specials, Math.PI, -Math.PI / 2]
    expect(worstRatio('sin', Math.sin, xs)).toBeLessThan(0.05)
    expect(worstRatio('cos', Math.cos, xs)).toBeLessThan(0.05)
  })
  it('exp stays within 5% of the tolerance, overflows to ∞ and underflows through subnormals', () => {
    expect(worstRatio('exp', Math.exp, [...grid(-10, 10, 20001), ...grid(-104, 89, 20001), ...specials])).toBeLessThan(0.05)
  })
  it('exp is exact zero below −104 (masked scores such as −1e9, −∞) and within a subnormal ulp of Math.exp down to there', () => {
    const heap = theHeap()
    const xs = [...grid(-110, -85, 25001), -1e9, -3.4e38, -Infinity, -104, Math.fround(-104.00001), Math.fround(-103.99999)]
    const x: Var = { id: 0, aval: { shape: [xs.length], dtype: 'float32' } }
    const y: Var = { id: 1, aval: { shape: [xs.length], dtype: 'float32' } }
    const k = lowerFused([{ prim: 'exp', params: {}, inputs: [x], out: y } as Equation], [x], [y])
    if (typeof k === 'string') throw new Error(k)
    const X = heap.handle('float32', xs.length)
    const Y = heap.handle('float32', xs.length)
    X.set(xs)
    k([heap.offsetOf(Y), heap.offsetOf(X)])
    let subnormals = 0
    for (let i = 0; i < xs.length; i++) {
      const want = Math.fround(Math.exp(X[i]))
      if (X[i] < -104) expect(Object.is(Y[i], 0), `exp(${X[i]}) = ${Y[i]}, want +0`).toBe(true)
      else expect(Math.abs(Y[i] - want) / Math.max(2 ** -149, Math.abs(want) * 2 ** -23), `exp(${X[i]}) = ${Y[i]}, want ${want}`).toBeLessThanOrEqual(4)
      if (Y[i] > 0 && Y[i] < 2 ** -126) subnormals++
    }
    expect(subnormals).toBeGreaterThan(10000)
  })
  it('log stays within 5% of the tolerance, with log 0 = −∞ and NaN for negatives', () => {
    expect(worstRatio('log', Math.log, [...grid(0.01, 100, 20001), ...grid(0, 3e38, 20001), ...specials, -1, -Infinity])).toBeLessThan(0.05)
  })
  it('tanh stays within 5% of the tolerance across the polynomial / exp switch at |x| = 0.3', () => {
    expect(worstRatio('tanh', Math.tanh, [...grid(-5, 5, 20001), ...grid(-0.31, 0.31, 20001), ...grid(-100, 100, 2001), ...specials])).toBeLessThan(0.05)
  })
})
