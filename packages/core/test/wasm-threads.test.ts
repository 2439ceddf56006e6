import { describe, expect, it } from 'vitest'
import type { Program } from '../src/Program'
import * as S from '../src/Shape'
import { cpu } from '../src/internal/cpu/backend'
import { lowerFused } from '../src/internal/wasm/fused'
import { lowerReduce } from '../src/internal/wasm/reduce'
import { theHeap } from '../src/internal/wasm/heap'
import type { Pool } from '../src/internal/wasm/threads'
import { poolOf } from '../src/internal/wasm/threads'
import { close, fill, sameAs } from './cpu-reference'
import { builder, interpret } from './programs'

describe('cpu wasm compile on two threads', () => {
  const two = cpu({ wasm: true, threads: 2, onFallback: () => {} })
  const one = cpu({ wasm: true, threads: 1, onFallback: () => {} })

  it('splits long elementwise loops and large matmuls (Aᵀ·B, A·Bᵀ too) across a worker, with the results of one thread bit for bit', () => {
    expect(two.path).toMatch(/2 threads(, fused multiply-add)?\)$/)
    const { input, bind, eqs } = builder()
    const x = input([600, 512])
    const row = input([512])
    const flat = input([1_000_003])
    const w = input([512, 300])
    const y = bind('mul', [bind('add', [x, row], {}), bind('tanh', [x], {})], {})
    const f = bind('sqrt', [bind('mul', [flat, flat], {})], {})
    const h = bind('matmul', [y, w], {}) // 600×512 · 512×300
    const gw = bind('matmul', [bind('transpose', [y], { perm: [1, 0] }), h], {}) // yᵀ·h: 512×600 · 600×300
    const gx = bind('matmul', [h, bind('transpose', [w], { perm: [1, 0] })], {}) // h·wᵀ
    const p: Program = { inputs: [x, row, flat, w], consts: [], equations: eqs, outputs: [y, f, h, gw, gx] }
    const host = p.inputs.map((v, i) => fill('float32', S.size(v.aval.shape), i + 1) as Float32Array)
    host[3] = host[3].map((a) => a / 64)
    const jobs = poolOf(2).jobs
    const outs2 = two.compile(p).run(host.map((h, i) => two.fromHost(h, p.inputs[i].aval)), [])
    expect(poolOf(2).jobs - jobs).toBeGreaterThanOrEqual(5) // every kernel handed a share to the worker
    const outs1 = one.compile(p).run(host.map((h, i) => one.fromHost(h, p.inputs[i].aval)), [])
    outs2.forEach((o, j) => expect(sameAs(o, [...outs1[j]]), `output ${j}`).toBe(true))
    const want = interpret(p, host)
    expect(close(outs2[0], want[0], 1e-5, 1e-6)).toBe(true)
    expect(close(outs2[1], want[1], 0, 0)).toBe(true)
    outs2.slice(2).forEach((o, j) => expect(close(o, want[j + 2], 1e-4, 2e-3), `matmul ${j}`).toBe(true))
  })

  it("splits batched per-head products (attention's q·kᵀ, p·v, and their Aᵀ·B gradients) by batch across a worker, bit for bit", () => {
    const { input, bind, eqs } = builder()
    const q = input([4, 8, 64, 16])
    const k = input([4, 8, 64, 16])
    const s = bind('matmul', [q, bind('transpose', [k], { perm: [0, 1, 3, 2] })], {}) // q·kᵀ: [4,8,64,64]
    const o = bind('matmul', [s, k], {}) // p·v: [4,8,64,16]
    const g = bind('matmul', [bind('transpose', [s], { perm: [0, 1, 3, 2] }), q], {}) // sᵀ·q
    const p: Program = { inputs: [q, k], consts: [], equations: eqs, outputs: [s, o, g] }
    const host = p.inputs.map((v, i) => fill('float32', S.size(v.aval.shape), i + 5).map((x) => x / 8) as Float32Array)
    const jobs = poolOf(2).jobs
    const outs2 = two.compile(p).run(host.map((h, i) => two.fromHost(h, p.inputs[i].aval)), [])
    expect(poolOf(2).jobs - jobs).toBeGreaterThanOrEqual(3) // each of the three products handed half its batch to the worker
    const outs1 = one.compile(p).run(host.map((h, i) => one.fromHost(h, p.inputs[i].aval)), [])
    outs2.forEach((x, j) => expect(sameAs(x, [...outs1[j]]), `output ${j}`).toBe(true))
    const want = interpret(p, host)
    outs2.forEach((x, j) => expect(close(x, want[j], 1e-4, 1e-3), `product ${j}`).toBe(true))
  })

  it('splits a chain with a transcendental (x·x/(x + e^−x) on [8,16,176]) from a quarter of the elements a plain chain needs, bit for bit', () => {
    const { input, bind, eqs } = builder()
    const x = input([8, 16, 176]) // 22 528 elements: fewer than 2·2^14, more than 2·2^12
    const withExp = bind('mul', [x, bind('div', [x, bind('add', [x, bind('exp', [bind('neg', [x], {})], {})], {})], {})], {})
    const plain = bind('mul', [bind('add', [x, x], {}), x], {})
    for (const [out, splits] of [[withExp, true], [plain, false]] as const) {
      const p: Program = { inputs: [x], consts: [], equations: eqs.filter((e) => e.out.id <= out.id), outputs: [out] }
      const host = [fill('float32', S.size(x.aval.shape), 7).map((v) => v / 16) as Float32Array]
      const jobs = poolOf(2).jobs
      const [y2] = two.compile(p).run([two.fromHost(host[0], x.aval)], [])
      expect(poolOf(2).jobs - jobs, splits ? 'with exp' : 'plain').toBe(splits ? 1 : 0)
      const [y1] = one.compile(p).run([one.fromHost(host[0], x.aval)], [])
      expect(sameAs(y2, [...y1])).toBe(true)
    }
  })

  it('splits long reductions by rows (softmax max and sum over the last axis) and by blocks (column sums), bit for bit', () => {
    const { input, bind, eqs } = builder()
    const rows = input([512, 67]) // 34 304 elements: two shares; rows of 67 take the 8-, 4- and 1-wide loops
    const blocks = input([5, 60, 131]) // column sums of 5 blocks (39 300 elements): shares of 3 and 2 blocks
    const counts = input([512, 67], 'int32')
    const outs = [
      bind('reduceSum', [rows], { axes: [1] }),
      bind('reduceMax', [rows], { axes: [1] }),
      bind('reduceSum', [blocks], { axes: [1] }),
      bind('reduceMax', [blocks], { axes: [1] }),
      bind('reduceSum', [counts], { axes: [1] }),
    ]
    const p: Program = { inputs: [rows, blocks, counts], consts: [], equations: eqs, outputs: outs }
    const host = p.inputs.map((v, i) => fill(v.aval.dtype, S.size(v.aval.shape), i + 11))
    const jobs = poolOf(2).jobs
    const outs2 = two.compile(p).run(host.map((h, i) => two.fromHost(h, p.inputs[i].aval)), [])
    expect(poolOf(2).jobs - jobs).toBe(outs.length) // each reduction handed a share to the worker
    const outs1 = one.compile(p).run(host.map((h, i) => one.fromHost(h, p.inputs[i].aval)), [])
    outs2.forEach((o, j) => expect(sameAs(o, [...outs1[j]]), `output ${j}`).toBe(true))
    interpret(p, host).forEach((want, j) => expect(close(outs2[j], want, 1e-6, 1e-6), `output ${j} against the interpreter`).toBe(true))
    // below two shares' worth the reduction stays on the calling thread
    const small = builder()
    const x = small.input([256, 64])
    const q: Program = { inputs: [x], consts: [], equations: small.eqs, outputs: [small.bind('reduceSum', [x], { axes: [1] })] }
    const before = poolOf(2).jobs
    two.compile(q).run([two.fromHost(fill('float32', 256 * 64, 5), x.aval)], [])
    expect(poolOf(2).jobs).toBe(before)
  })

  it('splits from 4× the size where shares go to workers by message (browsers) rather than through a polled slot (Node)', () => {
    // pools that record the shares they are handed and run nothing; a kernel left whole runs here, on blocks of its own
    const recording = (byMessage: boolean) => {
      const handed: number[] = []
      const pool: Pool = { size: 2, reason: '', jobs: 0, byMessage, run: (_here, jobs) => void handed.push(jobs.length) }
      return { pool, handed }
    }
    const { input, bind, eqs } = builder()
    const x = input([16, 64, 64]) // 65 536 elements: two shares of 2^15 on Node, one share by message
    const y = bind('mul', [bind('add', [x, x], {}), x], {})
    const r = input([512, 128])
    const rowSum = bind('reduceSum', [r], { axes: [1] })
    const heap = theHeap()
    const blocks = [65_536, 65_536, 512, 65_536].map((n) => heap.block(4 * n))
    const [xs, ys, sums, rs] = blocks.map((b) => b.off)
    for (const byMessage of [false, true]) {
      const { pool, handed } = recording(byMessage)
      const loop = lowerFused(eqs.slice(0, 2), [x], [y], pool)
      const sum = lowerReduce(eqs[2], pool)
      if (typeof loop === 'string' || typeof sum === 'string') throw new Error(`not lowered: ${loop} ${sum}`)
      loop([ys, xs])
      sum([sums, rs])
      expect(handed, byMessage ? 'by message' : 'polled slot').toEqual(byMessage ? [] : [1, 1])
    }
    blocks.forEach((b) => heap.freeBlock(b))
    expect(rowSum.aval.shape).toEqual([512])
  })

  it('keeps small kernels on the calling thread', () => {
    const { input, bind, eqs } = builder()
    const x = input([64, 64])
    const p: Program = { inputs: [x], consts: [], equations: eqs, outputs: [bind('matmul', [bind('exp', [x], {}), x], {})] }
    const jobs = poolOf(2).jobs
    two.compile(p).run([two.fromHost(fill('float32', 4096, 3), x.aval)], [])
    expect(poolOf(2).jobs).toBe(jobs)
  })
})
