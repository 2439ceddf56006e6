import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { Program, Var } from '../src/Program'
import * as S from '../src/Shape'
import type { Tensor } from '../src/Tensor'
import { cpu } from '../src/internal/cpu/backend'
import type { CpuHandle } from '../src/internal/cpu/backend'
import { bitEqual, close, fill } from './cpu-reference'
import { builder, interpret } from './programs'

const data = (v: Var, seed: number): CpuHandle => {
  if (v.aval.dtype === 'int32') return Int32Array.from({ length: S.size(v.aval.shape) }, (_, i) => (i * 7 + seed) % 3)
  return fill(v.aval.dtype, S.size(v.aval.shape), seed, seed % 3 === 0)
}

describe('cpu compile', () => {
  it('fuses an elementwise chain into one kernel and describes the plan', () => {
    const { input, bind, eqs } = builder()
    const x = input([4, 5])
    const bias = input([5])
    const a = bind('add', [x, bias], {})
    const m = bind('mul', [a, a], {})
    const t = bind('tanh', [m], {})
    const n = bind('neg', [t], {})
    const s = bind('reduceSum', [n], { axes: [0] })
    const p: Program = { inputs: [x, bias], consts: [], equations: eqs, outputs: [s] }
    const b = cpu()
    const exe = b.compile(p)
    expect(exe.kernels).toBe(2)
    expect(exe.fused).toBe(1)
    expect(exe.describe).toBe('cpu: 5 equations -> 2 kernels (1 fused), 1 buffers planned')
    const ins = [data(x, 1), data(bias, 2)]
    const [out] = exe.run(ins, [])
    expect(bitEqual(out, interpret(p, ins, { backend: b })[0])).toBe(true)
  })

  it('runs an MLP forward/backward-like program, reusing its buffers across calls', () => {
    const { input, bind, eqs } = builder()
    const x = input([8, 16])
    const w = input([16, 32])
    const bias = input([32])
    const zero = input([])
    const h = bind('add', [bind('matmul', [x, w], {}), bias], {})
    const r = bind('max', [h, zero], {})
    const g = bind('mul', [r, bind('cast', [bind('compare', [h, zero], { op: 'gt' })], { dtype: 'float32' })], {})
    const gb = bind('reduceSum', [g], { axes: [0] })
    const gw = bind('matmul', [bind('transpose', [x], { perm: [1, 0] }), g], {})
    const flat = bind('reshape', [gw], { shape: [512] })
    const loss = bind('reduceSum', [flat], { axes: [0] })
    const p: Program = { inputs: [x, w, bias, zero], consts: [], equations: eqs, outputs: [gb, gw, loss, w] }
    const b = cpu()
    const exe = b.compile(p)
    const mem0 = b.memory()
    for (let call = 0; call < 4; call++) {
      const ins = p.inputs.map((v, i) => data(v, call * 10 + i + 1))
      const copies = ins.map((h) => h.slice())
      const before = b.stats()
      const outs = exe.run(ins, [])
      const after = b.stats()
      // steady state: only the three computed outputs are allocated
      if (call > 0) expect(after.allocations - before.allocations).toBe(3)
      expect(outs[3]).toBe(ins[1]) // an input output is the same handle
      const want = interpret(p, ins, { backend: b })
      outs.forEach((o, j) => expect(bitEqual(o, want[j])).toBe(true))
      ins.forEach((h, i) => expect(bitEqual(h, copies[i])).toBe(true)) // inputs untouched
      expect(b.memory().tensors).toBe(mem0.tensors + 3)
      outs.slice(0, 3).forEach((o, j) => b.dispose(o, p.outputs[j].aval))
      expect(b.memory()).toEqual(mem0)
    }
  })

  it('writes an output into a donated input once that input is dead', () => {
    const { input, bind, eqs } = builder()
    const param = input([6, 7])
    const grad = input([6, 7])
    const lr = input([])
    const next = bind('add', [param, bind('neg', [bind('mul', [grad, lr], {})], {})], {})
    const p: Program = { inputs: [param, grad, lr], consts: [], equations: eqs, outputs: [next] }
    const b = cpu()
    const exe = b.compile(p)
    const ins = p.inputs.map((v, i) => data(v, i + 4))
    const want = interpret(p, ins, { backend: b })[0]
    const gradCopy = ins[1].slice()
    const before = b.stats().allocations
    const [out] = exe.run(ins, [], [0])
    expect(out).toBe(ins[0]) // written in place of the donated param
    expect(b.stats().allocations).toBe(before)
    expect(bitEqual(out, want)).toBe(true)
    expect(bitEqual(ins[1], gradCopy)).toBe(true)
    // without donation a fresh array comes back
    const ins2 = p.inputs.map((v, i) => data(v, i + 4))
    const [out2] = exe.run(ins2, [])
    expect(out2).not.toBe(ins2[0])
    expect(bitEqual(out2, want)).toBe(true)
  })

  /** An Adam update: three outputs (param, m, v) computed by one chain. */
  const adam = () => {
    const { input, bind, eqs } = builder()
    const [p, g, m, v] = [input([5, 9]), input([5, 9]), input([5, 9]), input([5, 9])]
    const [b1, nb1, b2, nb2, lr, eps] = [input([]), input([]), input([]), input([]), input([]), input([])]
    const m2 = bind('add', [bind('mul', [b1, m], {}), bind('mul', [nb1, g], {})], {})
    const v2 = bind('add', [bind('mul', [b2, v], {}), bind('mul', [nb2, bind('mul', [g, g], {})], {})], {})
    const upd = bind('div', [m2, bind('add', [bind('sqrt', [v2], {}), eps], {})], {})
    const p2 = bind('add', [p, bind('neg', [bind('mul', [lr, upd], {})], {})], {})
    const prog: Program = { inputs: [p, g, m, v, b1, nb1, b2, nb2, lr, eps], consts: [], equations: eqs, outputs: [p2, m2, v2] }
    const ins = () => prog.inputs.map((x, i) => (i < 4 ? data(x, i + 1) : new Float32Array([[0.9, 0.1, 0.999, 0.001, 0.01, 1e-8][i - 4]])))
    return { prog, ins }
  }

  it('fuses a chain with several outputs into one loop, writing them over donated inputs', () => {
    const { prog, ins } = adam()
    const b = cpu()
    const exe = b.compile(prog)
    expect(exe.describe).toBe('cpu: 13 equations -> 1 kernels (1 fused), 0 buffers planned')
    const x = ins()
    const want = interpret(prog, x, { backend: b })
    const gCopy = x[1].slice()
    const mem = b.memory()
    const allocs = b.stats().allocations
    const outs = exe.run(x, [], [0, 2, 3])
    expect(b.stats().allocations).toBe(allocs)
    expect(new Set(outs)).toEqual(new Set([x[0], x[2], x[3]]))
    outs.forEach((o, j) => expect(bitEqual(o, want[j])).toBe(true))
    expect(bitEqual(x[1], gCopy)).toBe(true)
    // the outputs are new live handles; the caller disposes the donated inputs
    expect(b.memory().tensors).toBe(mem.tensors + 3)
  })

  it('with exactFusion off, fused chains run in float64 and stay close to op-by-op results', () => {
    const { prog, ins } = adam()
    const b = cpu({ exactFusion: false })
    const x = ins()
    const want = interpret(prog, x, { backend: b })
    const outs = b.compile(prog).run(x, [])
    outs.forEach((o, j) => expect(close(o, want[j], 1e-6, 1e-7)).toBe(true))
  })

  it('passes constants, never writing them', () => {
    const { input, bind, eqs } = builder()
    const x = input([3])
    const c = input([3])
    const y = bind('mul', [bind('add', [x, c], {}), c], {})
    const p: Program = { inputs: [x], consts: [{ var: c, value: {} as Tensor }], equations: eqs, outputs: [y, c] }
    const b = cpu()
    const exe = b.compile(p)
    const cv = new Float32Array([1, 2, 3])
    const outs = exe.run([new Float32Array([1, 1, 1])], [cv], [0])
    expect([...outs[0]]).toEqual([2, 6, 12])
    expect(outs[1]).toBe(cv)
    expect([...cv]).toEqual([1, 2, 3])
  })

  it('handles empty programs, repeated outputs, empty tensors and bad calls', () => {
    const { input, bind, eqs } = builder()
    const x = input([2, 3])
    const e = input([0, 3])
    const y = bind('exp', [x], {})
    const z = bind('add', [e, bind('reduceSum', [x], { axes: [0] })], {})
    const b = cpu()
    const identity = b.compile({ inputs: [x], consts: [], equations: [], outputs: [x, x] })
    const h = data(x, 1)
    expect(identity.run([h], [])).toEqual([h, h])
    expect(identity.describe).toBe('cpu: 0 equations -> 0 kernels (0 fused), 0 buffers planned')
    const exe = b.compile({ inputs: [x, e], consts: [], equations: eqs, outputs: [y, y, z] })
    const [y1, y2, z1] = exe.run([h, new Float32Array(0)], [])
    expect(y1).toBe(y2)
    expect(bitEqual(y1, Float32Array.from(h, Math.exp))).toBe(true)
    expect(z1.length).toBe(0)
    expect(() => exe.run([h], [])).toThrow(/expects 2 inputs and 0 consts, got 1 and 0/)
    expect(() => exe.run([h, new Float32Array(0)], [], [5])).toThrow(/donate index 5 is out of range/)
  })

  it('compile equals op-by-op execution on random programs, with random donation, over repeated runs', () => {
    fc.assert(fc.property(programArb, fc.nat(), (spec, seed) => checkProgram(spec, seed)), { numRuns: 150 })
  })
})

/** Random program: a list of actions on a pool of [3,4] float32 variables (and a few helpers). */
const actions = ['unary', 'binary', 'binaryRow', 'binaryCol', 'binaryScalar', 'select', 'castRound', 'transpose2', 'sumRows', 'matmul', 'reshape2', 'padSlice', 'concatSlice', 'gather', 'maxAxis'] as const
const programArb = fc.record({
  steps: fc.array(fc.tuple(fc.constantFrom(...actions), fc.nat(), fc.nat(), fc.constantFrom('neg', 'exp', 'sin', 'tanh', 'sign', 'sqrt'), fc.constantFrom('add', 'mul', 'div', 'max', 'pow')), { minLength: 1, maxLength: 14 }),
  outputs: fc.array(fc.nat(), { minLength: 1, maxLength: 4 }),
  donate: fc.array(fc.boolean(), { minLength: 4, maxLength: 4 }),
})

type ProgramSpec = typeof programArb extends fc.Arbitrary<infer T> ? T : never

const checkProgram = (spec: ProgramSpec, seed: number) => {
  const { input, bind, eqs } = builder()
  const xs = [input([3, 4]), input([3, 4]), input([3, 4])]
  const row = input([4])
  const col = input([3, 1])
  const sq = input([4, 4])
  const idx = input([3], 'int32')
  const inputs = [...xs, row, col, sq, idx]
  const pool: Var[] = [...xs]
  const pick = (i: number) => pool[i % pool.length]
  for (const [act, i, j, un, bin] of spec.steps) {
    const a = pick(i)
    const b2 = pick(j)
    const add = (v: Var) => pool.push(v)
    switch (act) {
      case 'unary': add(bind(un as 'neg', [a], {})); break
      case 'binary': add(bind(bin as 'add', [a, b2], {})); break
      case 'binaryRow': add(bind(bin as 'add', [row, a], {})); break
      case 'binaryCol': add(bind(bin as 'add', [a, col], {})); break
      case 'binaryScalar': add(bind('mul', [a, bind('reduceSum', [row], { axes: [0] })], {})); break
      case 'select': add(bind('where', [bind('compare', [a, b2], { op: 'lt' }), a, b2], {})); break
      case 'castRound': add(bind('cast', [bind('cast', [a], { dtype: 'int32' })], { dtype: 'float32' })); break
      case 'transpose2': add(bind('transpose', [bind('exp', [bind('transpose', [a], { perm: [1, 0] })], {})], { perm: [1, 0] })); break
      case 'sumRows': add(bind('add', [a, bind('reshape', [bind('reduceSum', [b2], { axes: [1] })], { shape: [3, 1] })], {})); break
      case 'matmul': add(bind('matmul', [a, sq], {})); break
      case 'reshape2': add(bind('reshape', [bind('neg', [bind('reshape', [a], { shape: [12] })], {})], { shape: [3, 4] })); break
      case 'padSlice': add(bind('slice', [bind('pad', [a], { lo: [1, 0], hi: [0, 2] })], { start: [1, 1], size: [3, 4] })); break
      case 'concatSlice': add(bind('slice', [bind('concat', [a, b2], { axis: 0 })], { start: [2, 0], size: [3, 4] })); break
      case 'gather': add(bind('gather', [a, idx], { axis: 0 })); break
      case 'maxAxis': add(bind('add', [a, bind('reduceMax', [b2], { axes: [0] })], {})); break
    }
  }
  const outputs = spec.outputs.map((i) => pick(i))
  const p: Program = { inputs, consts: [], equations: eqs, outputs }
  const b = cpu()
  const exe = b.compile(p)
  const donate = spec.donate.flatMap((d, i) => (d ? [i] : []))
  for (let call = 0; call < 3; call++) {
    const ins = inputs.map((v, k) => data(v, seed + call * 13 + k))
    const copies = ins.map((h) => h.slice())
    const want = interpret(p, copies, { backend: b })
    const outs = exe.run(ins, [], call === 1 ? [] : donate)
    outs.forEach((o, k) => {
      expect(bitEqual(o, want[k])).toBe(true)
    })
    ins.forEach((h, k) => {
      if (call === 1 || !donate.includes(k)) expect(bitEqual(h, copies[k])).toBe(true)
    })
  }
}
