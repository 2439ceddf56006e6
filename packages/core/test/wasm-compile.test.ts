import { describe, expect, it, vi } from 'vitest'
import type { DType, TypedArray } from '../src/DType'
import type { Program, Var } from '../src/Program'
import * as S from '../src/Shape'
import { cpu } from '../src/internal/cpu/backend'
import type { CpuBackend, CpuHandle } from '../src/internal/cpu/backend'
import { compileWasm } from '../src/internal/wasm/compile'
import { generatedModules } from '../src/internal/wasm/fused'
import { detect } from '../src/internal/wasm/support'

/** what the path says of the GEMM here: relaxed SIMD's fused multiply-add on this Node (see wasm-fma.test.ts) */
const fma = detect().fma ? ', fused multiply-add' : ''
import { theHeap } from '../src/internal/wasm/heap'
import { poolOf } from '../src/internal/wasm/threads'
import { bitEqual, close, fill } from './cpu-reference'
import { builder, interpret } from './programs'

const data = (v: Var, seed: number): CpuHandle => {
  if (v.aval.dtype === 'int32') return Int32Array.from({ length: S.size(v.aval.shape) }, (_, i) => ((i * 7 + seed) % 5) - 2)
  return fill(v.aval.dtype, S.size(v.aval.shape), seed)
}
/** as `data`, but a handle of backend `b` (resident in wasm memory) */
const onB = (b: CpuBackend, v: Var, seed: number) => b.fromHost(data(v, seed), v.aval)

const wasmBackend = () => cpu({ wasm: true, onFallback: () => {} })

describe('cpu wasm compile', () => {
  /** a fused chain over [5, w] with row, column and scalar operands */
  const chain = (w: number): Program => {
    const { input, bind, eqs } = builder()
    const x = input([5, w])
    const row = input([w])
    const col = input([5, 1])
    const s = input([])
    const y = bind('div', [bind('add', [bind('mul', [x, row], {}), col], {}), bind('add', [bind('sqrt', [bind('mul', [x, x], {})], {}), s], {})], {})
    const z = bind('where', [bind('compare', [y, s], { op: 'gt' }), y, bind('neg', [bind('max', [y, col], {})], {})], {})
    return { inputs: [x, row, col, s], consts: [], equations: eqs, outputs: [z, y] }
  }

  it('runs a fused chain with scalar, row and column broadcasts as one SIMD loop, bit for bit', () => {
    const b = wasmBackend()
    for (const w of [7, 70]) {
      const p = chain(w)
      const modules = generatedModules()
      const exe = b.compile(p)
      expect(exe.describe).toMatch(/^cpu\/wasm-simd: 10 equations -> 1 kernels \(1 fused\), 1 in wasm, 0 on JS/)
      if (w === 70) expect(generatedModules()).toBe(modules) // same body and loop pattern: the module is reused
      const ins = p.inputs.map((v, i) => onB(b, v, i + 3))
      const want = interpret(p, ins)
      exe.run(ins, []).forEach((o, j) => expect(bitEqual(o, want[j])).toBe(true))
    }
  })

  it('sign of float32 lanes: ±0, NaN, ±∞ and subnormals exactly as the JS kernel and Math.sign', () => {
    const { input, bind, eqs } = builder()
    const x = input([11])
    const p: Program = { inputs: [x], consts: [], equations: eqs, outputs: [bind('sign', [x], {})] }
    const values = [0, -0, NaN, Infinity, -Infinity, 1e-45, -1e-45, 2.5, -3, 3.4e38, -1e-30]
    const b = wasmBackend()
    const [got] = b.compile(p).run([b.fromHost(Float32Array.from(values), x.aval)], [])
    const [js] = interpret(p, [Float32Array.from(values)])
    values.forEach((v, i) => {
      expect(Object.is(got[i], Math.sign(v)), `sign(${v})`).toBe(true)
      expect(Object.is(js[i], Math.sign(v)), `JS sign(${v})`).toBe(true)
    })
  })

  it('runs int32 and bool chains (casts, compares, sign) exactly', () => {
    const { input, bind, eqs } = builder()
    const a = input([3, 9], 'int32')
    const f = input([9])
    const k = bind('mul', [bind('add', [a, bind('sign', [a], {})], {}), bind('cast', [f], { dtype: 'int32' })], {})
    const c = bind('compare', [k, bind('neg', [a], {})], { op: 'le' })
    const e = bind('compare', [c, bind('compare', [a, k], { op: 'ne' })], { op: 'eq' })
    const g = bind('add', [bind('cast', [e], { dtype: 'float32' }), bind('cast', [bind('max', [k, a], {})], { dtype: 'float32' })], {})
    const p: Program = { inputs: [a, f], consts: [], equations: eqs, outputs: [g, e, k] }
    const b = wasmBackend()
    const exe = b.compile(p)
    expect(exe.describe).toMatch(/0 on JS/)
    const ins = [onB(b, a, 1), b.fromHost(Float32Array.from({ length: 9 }, (_, i) => i * 1.7 - 7), f.aval)]
    const want = interpret(p, ins)
    exe.run(ins, []).forEach((o, j) => expect(bitEqual(o, want[j])).toBe(true))
  })

  it('folds transposes into Aᵀ·B and A·Bᵀ matmuls and runs an MLP backward pass in wasm', () => {
    const { input, bind, eqs } = builder()
    const x = input([33, 70])
    const w = input([70, 21])
    const bias = input([21])
    const zero = input([])
    const h = bind('add', [bind('matmul', [x, w], {}), bias], {})
    const g = bind('mul', [bind('max', [h, zero], {}), bind('cast', [bind('compare', [h, zero], { op: 'gt' })], { dtype: 'float32' })], {})
    const gb = bind('reduceSum', [g], { axes: [0] })
    const gw = bind('matmul', [bind('transpose', [x], { perm: [1, 0] }), g], {})
    const gx = bind('matmul', [g, bind('transpose', [w], { perm: [1, 0] })], {})
    const loss = bind('reduceSum', [bind('reshape', [gw], { shape: [70 * 21] })], { axes: [0] })
    const rowMax = bind('reduceMax', [gx], { axes: [1] })
    const p: Program = { inputs: [x, w, bias, zero], consts: [], equations: eqs, outputs: [gb, gw, gx, loss, rowMax, w] }
    const b = wasmBackend()
    const exe = b.compile(p)
    expect(exe.describe).toMatch(/2 matmuls with folded transposes\), 7 in wasm, 0 on JS/)
    const mem0 = b.memory()
    for (let call = 0; call < 3; call++) {
      const ins = p.inputs.map((v, i) => onB(b, v, call * 10 + i + 1))
      const want = interpret(p, ins)
      const before = b.stats()
      const outs = exe.run(ins, [])
      if (call > 0) expect(b.stats().allocations - before.allocations).toBe(5) // only the computed outputs
      expect(outs[5]).toBe(ins[1])
      outs.forEach((o, j) => expect(close(o, want[j], 1e-5, 2e-4), `output ${j}`).toBe(true))
      outs.slice(0, 5).forEach((o, j) => b.dispose(o, p.outputs[j].aval))
      ins.forEach((h, i) => b.dispose(h, p.inputs[i].aval))
      expect(b.memory()).toEqual(mem0)
    }
  })

  it('matmul: edge tiles, k = 0, one-row and one-column products, broadcast batches, every transpose variant', () => {
    const b = wasmBackend()
    const cases: [number[], number[], boolean, boolean][] = [
      [[1, 1], [1, 1], false, false], [[3, 5], [5, 2], false, false], [[13, 0], [0, 9], false, false],
      [[4, 300], [300, 17], true, false], [[2, 3, 9, 6], [6, 11], false, true], [[3, 1, 5, 4], [2, 4, 7], true, true],
      [[65, 257], [257, 33], false, false], [[7, 2, 8], [7, 8, 3], false, true],
      // whole and partial panels packed by 4×4 transposes (A row-major, Bᵀ) or vector copies (Aᵀ), k not a multiple of 4
      [[21, 38], [38, 19], false, true], [[2, 21, 38], [2, 38, 19], true, false], [[3, 9, 23], [23, 17], true, true],
    ]
    for (const [as, bs, ta, tb] of cases) {
      const { input, bind, eqs } = builder()
      const a = input(ta ? [...as.slice(0, -2), as[as.length - 1], as[as.length - 2]] : as)
      const c = input(tb ? [...bs.slice(0, -2), bs[bs.length - 1], bs[bs.length - 2]] : bs)
      const sw = (v: Var) => bind('transpose', [v], { perm: [...v.aval.shape.keys()].map((i, _, r) => (i < r.length - 2 ? i : 2 * r.length - 3 - i)) })
      const y = bind('matmul', [ta ? sw(a) : a, tb ? sw(c) : c], {})
      // and the product's transpose, which the matmul computes itself (operands swapped, flags flipped)
      const yt = bind('transpose', [bind('matmul', [ta ? sw(a) : a, tb ? sw(c) : c], {})], { perm: [...y.aval.shape.keys()].map((i, _, r) => (i < r.length - 2 ? i : 2 * r.length - 3 - i)) })
      const p: Program = { inputs: [a, c], consts: [], equations: eqs, outputs: [y, yt] }
      const ins = [onB(b, a, 3), onB(b, c, 4)]
      const exe = b.compile(p)
      expect(exe.describe, `${as} ${bs} ${ta} ${tb}`).toMatch(/ 2 in wasm, 0 on JS/)
      const outs = exe.run(ins, [])
      // float32 accumulation (like tfjs and jax-js) against the JS kernel's float64: the error grows with k
      const k = a.aval.shape[a.aval.shape.length - (ta ? 2 : 1)]
      const want = interpret(p, ins)
      outs.forEach((out, j) => expect(close(out, want[j], 1e-5, 2e-6 * k), `${as} ${bs} ${ta} ${tb} output ${j}`).toBe(true))
    }
  })

  it('transposes of transposes: composed into one SIMD copy, or no work when they cancel; values bit for bit', () => {
    const b = wasmBackend()
    const { input, bind, eqs } = builder()
    const x = input([2, 3, 4, 5])
    const a = bind('transpose', [x], { perm: [0, 1, 3, 2] }) // moves the last axis: its JS kernel
    const back = bind('transpose', [a], { perm: [0, 1, 3, 2] }) // cancels: an alias of x
    const both = bind('transpose', [a], { perm: [1, 0, 3, 2] }) // composed [1, 0, 2, 3] keeps the last axis: a copy from x
    const y = bind('neg', [back], {})
    const p: Program = { inputs: [x], consts: [], equations: eqs, outputs: [a, y, both] }
    const exe = b.compile(p)
    expect(exe.describe).toMatch(/-> 3 kernels .* 2 in wasm, 1 on JS \[transpose\]/)
    const ins = [onB(b, x, 5)]
    const want = interpret(p, ins)
    exe.run(ins, []).forEach((o, j) => expect(bitEqual(o, want[j]), `output ${j}`).toBe(true))
  })

  it('reduces over the last axis and over leading axes (float32 in float64, int32 wrapping, max with NaN); other patterns keep JS', () => {
    const b = wasmBackend()
    const shapes: [number[], number[], 'reduceSum' | 'reduceMax', DType][] = [
      [[1031], [0], 'reduceSum', 'float32'], [[6, 37], [1], 'reduceMax', 'float32'], [[37, 6], [0], 'reduceSum', 'float32'],
      [[3, 9, 5], [1], 'reduceMax', 'int32'], [[4, 1, 13], [0, 1], 'reduceSum', 'int32'], [[5, 3, 2], [0, 2], 'reduceSum', 'float32'],
    ]
    for (const [shape, axes, prim, dtype] of shapes) {
      const { input, bind, eqs } = builder()
      const x = input(shape, dtype)
      const p: Program = { inputs: [x], consts: [], equations: eqs, outputs: [bind(prim, [x], { axes })] }
      const exe = b.compile(p)
      expect(exe.describe).toMatch(shape.length === 3 && axes.length === 2 && shape[1] !== 1 ? /1 on JS/ : /0 on JS/)
      const h = data(x, 9)
      if (dtype === 'float32') (h as Float32Array)[2] = NaN
      const [out] = exe.run([b.fromHost(h, x.aval)], [])
      expect(close(out, interpret(p, [h])[0], 1e-6, 1e-6), `${prim} ${shape} ${axes}`).toBe(true)
    }
  })
})

describe('cpu wasm compile: memory', () => {
  /** An Adam update: three outputs (param, m, v) computed by one chain. */
  const adam = (n: number) => {
    const { input, bind, eqs } = builder()
    const [p, g, m, v] = [input([n]), input([n]), input([n]), input([n])]
    const [b1, nb1, b2, nb2, lr, eps] = [input([]), input([]), input([]), input([]), input([]), input([])]
    const m2 = bind('add', [bind('mul', [b1, m], {}), bind('mul', [nb1, g], {})], {})
    const v2 = bind('add', [bind('mul', [b2, v], {}), bind('mul', [nb2, bind('mul', [g, g], {})], {})], {})
    const upd = bind('div', [m2, bind('add', [bind('sqrt', [v2], {}), eps], {})], {})
    const p2 = bind('add', [p, bind('neg', [bind('mul', [lr, upd], {})], {})], {})
    const prog: Program = { inputs: [p, g, m, v, b1, nb1, b2, nb2, lr, eps], consts: [], equations: eqs, outputs: [p2, m2, v2] }
    const hyper = [0.9, 0.1, 0.999, 0.001, 0.01, 1e-8]
    return { prog, hyper }
  }

  it('writes outputs over donated inputs in place: 1,000 steps allocate nothing and match the JS path bit for bit', () => {
    const { prog, hyper } = adam(1003)
    const b = wasmBackend()
    const exe = b.compile(prog)
    const ins = prog.inputs.map((v, i) => (i < 4 ? onB(b, v, i + 1) : b.fromHost(new Float32Array([hyper[i - 4]]), v.aval)))
    let state: TypedArray[] = ins.slice(0, 4).map((h) => h.slice())
    let [p, , m, v] = ins
    const mem = b.memory()
    const stats = b.stats()
    for (let step = 0; step < 1000; step++) {
      const outs = exe.run([p, ins[1], m, v, ...ins.slice(4)], [], [0, 2, 3])
      expect(outs[0]).toBe(p) // in place
      ;[p, m, v] = outs
      // the caller disposes donated inputs; the outputs took their buffers
      for (const h of outs) b.dispose(h, prog.outputs[0].aval)
      if (step < 3) {
        const want = interpret(prog, [state[0], state[1], state[2], state[3], ...ins.slice(4)])
        outs.forEach((o, j) => expect(bitEqual(o, want[j])).toBe(true))
        state = [want[0], state[1], want[1], want[2]]
      }
    }
    expect(b.stats()).toEqual(stats)
    expect(b.memory()).toEqual(mem)
  })

  it('stages arrays that are not in wasm memory, and copies outputs out when handles are not resident', () => {
    const { prog, hyper } = adam(37)
    const ins = prog.inputs.map((v, i) => (i < 4 ? data(v, i + 1) : new Float32Array([hyper[i - 4]])))
    const want = interpret(prog, ins)
    const b = wasmBackend()
    const resident = b.compile(prog).run(ins.map((h) => h.slice()), [])
    resident.forEach((o, j) => expect(bitEqual(o, want[j])).toBe(true))
    expect(resident.every((o) => theHeap().offsetOf(o) >= 0)).toBe(true)
    let allocs = 0
    const copying = compileWasm(prog, {
      heap: theHeap(),
      handle: (d, n) => (allocs++, new (d === 'int32' ? Int32Array : d === 'bool' ? Uint8Array : Float32Array)(n)),
      block: (n) => theHeap().block(n),
      adopt: () => {},
      fallback: () => {},
      pool: poolOf(1),
    }, true, false)
    expect(copying.describe).toMatch(/inputs and outputs copied, 1 thread$/)
    for (let call = 0; call < 2; call++) {
      const x = ins.map((h) => h.slice())
      const outs = copying.run(x, [], [0])
      expect(outs).toContain(x[0]) // the donated JS array receives an output
      outs.forEach((o, j) => expect(bitEqual(o, want[j])).toBe(true))
      expect(outs.some((o) => theHeap().offsetOf(o) >= 0)).toBe(false)
    }
    expect(allocs).toBe(4) // two fresh outputs per call
  })

  it('passes constants without writing them; handles empty programs, empty tensors and bad calls', () => {
    const { input, bind, eqs } = builder()
    const x = input([3])
    const c = input([3])
    const e = input([0, 3])
    const y = bind('mul', [bind('add', [x, c], {}), c], {})
    const z = bind('add', [e, bind('exp', [y], {})], {})
    const p: Program = { inputs: [x, e], consts: [{ var: c, value: {} as never }], equations: eqs, outputs: [y, c, z, y] }
    const b = wasmBackend()
    const exe = b.compile(p)
    const cv = b.fromHost(new Float32Array([1, 2, 3]), c.aval)
    const outs = exe.run([b.fromHost(new Float32Array([1, 1, 1]), x.aval), new Float32Array(0)], [cv], [0])
    expect([...outs[0]]).toEqual([2, 6, 12])
    expect(outs[1]).toBe(cv)
    expect(outs[3]).toBe(outs[0])
    expect(outs[2].length).toBe(0)
    expect([...cv]).toEqual([1, 2, 3])
    const identity = b.compile({ inputs: [x], consts: [], equations: [], outputs: [x] })
    const h = new Float32Array(3)
    expect(identity.run([h], [])[0]).toBe(h)
    expect(() => exe.run([h], [cv])).toThrow(/expects 2 inputs and 1 consts, got 1 and 1/)
    expect(() => exe.run([h, new Float32Array(0)], [cv], [7])).toThrow(/donate index 7 is out of range/)
  })
})

describe('cpu wasm compile: fallback', () => {
  it('runs an op without a SIMD lowering on the JS path, says so once, and gives the interpreter results', () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {})
    try {
      const b = cpu({ wasm: true })
      const { input, bind, eqs } = builder()
      const x = input([4, 6])
      const y = bind('mul', [bind('sin', [bind('add', [x, x], {})], {}), x], {})
      const cosx = bind('cos', [x], {})
      // max of bools (a logical or): every valid program has a SIMD lowering, so this one is written past the shape rules
      const either: Var = { id: 1000, aval: { shape: [4, 6], dtype: 'bool' } }
      eqs.push({ prim: 'max', params: {}, inputs: [bind('compare', [x, cosx], { op: 'lt' }), bind('compare', [cosx, x], { op: 'lt' })], out: either })
      const z = bind('matmul', [y, bind('transpose', [bind('where', [either, cosx, x], {})], { perm: [1, 0] })], {})
      const p: Program = { inputs: [x], consts: [], equations: eqs, outputs: [z, y] }
      const exe = b.compile(p)
      b.compile(p)
      expect(exe.describe).toMatch(/2 in wasm, 1 on JS \[cos\+compare\+compare\+max\+where\]/)
      expect(warn.mock.calls.map((c) => String(c[0]))).toEqual([
        'frugal-ts cpu/wasm-simd: max on bool; that step runs on the JS path',
      ])
      const h = b.fromHost(Float32Array.from({ length: 24 }, (_, i) => 0.1 + i / 10), x.aval)
      const want = interpret(p, [h])
      exe.run([h], []).forEach((o, j) => expect(close(o, want[j], 1e-6, 1e-6)).toBe(true))
    } finally {
      warn.mockRestore()
    }
  })

  it('copies inputs in and outputs out when tensors are not resident, still in place of donated inputs', () => {
    const b = cpu({ wasm: true, resident: false, threads: 1 })
    expect(b.path).toBe(`cpu/wasm-simd (inputs and outputs copied: resident tensors turned off, 1 thread: one thread requested${fma})`)
    const { input, bind, eqs } = builder()
    const x = input([9, 10])
    const w = input([10, 3])
    const y = bind('add', [bind('tanh', [x], {}), x], {})
    const p: Program = { inputs: [x, w], consts: [], equations: eqs, outputs: [y, bind('matmul', [y, w], {})] }
    const exe = b.compile(p)
    expect(exe.describe).toMatch(/inputs and outputs copied, 1 thread$/)
    const ins = p.inputs.map((v, i) => b.fromHost(data(v, i), v.aval))
    expect(ins.every((h) => theHeap().offsetOf(h) < 0)).toBe(true)
    const want = interpret(p, ins)
    const mem = b.memory()
    const outs = exe.run(ins, [], [0])
    expect(outs[0]).toBe(ins[0])
    outs.forEach((o, j) => expect(close(o, want[j], 1e-5, 1e-5)).toBe(true))
    expect(b.memory().tensors).toBe(mem.tensors + 2)
  })

  it('reports the path: wasm-simd with resident tensors here, the JS path when not requested', () => {
    expect(cpu({ wasm: true, threads: 1 }).path).toBe(`cpu/wasm-simd (tensors resident in shared wasm memory, 1 thread: one thread requested${fma})`)
    expect(cpu({ wasm: true, threads: 2 }).path).toBe(`cpu/wasm-simd (tensors resident in shared wasm memory, 2 threads${fma})`)
    expect(cpu().path).toBe('cpu/js (wasm not requested)')
  })
})

describe('cpu wasm compile: exactFusion off', () => {
  it('divides by broadcast scalars through their reciprocals, within a few ulps of the exact quotients', () => {
    const { input, bind, eqs } = builder()
    const x = input([1001])
    const s = input([])
    const y = bind('div', [bind('add', [bind('div', [x, s], {}), x], {}), bind('add', [s, s], {})], {})
    const p: Program = { inputs: [x, s], consts: [], equations: eqs, outputs: [y] }
    const inexact = cpu({ wasm: true, exactFusion: false })
    const ins = [inexact.fromHost(data(x, 5), x.aval), inexact.fromHost(new Float32Array([3]), s.aval)]
    const want = interpret(p, ins)[0]
    const [got] = inexact.compile(p).run(ins, [])
    expect(bitEqual(got, want)).toBe(false) // x·(1/3) is not x/3 everywhere
    expect(close(got, want, 4e-7, 0)).toBe(true)
  })
})
