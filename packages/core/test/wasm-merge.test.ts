/**
 * Horizontal fusion on the wasm path (`mergeSiblings`): independent
 * elementwise loops of one shape run as one loop, with results bit for bit
 * those of the program run op by op, donated buffers written in place, and
 * the program order kept where a loop depends on another step.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { TypedArray } from '../src/DType'
import type { Program, Var } from '../src/Program'
import * as S from '../src/Shape'
import { cpu } from '../src/internal/cpu/backend'
import type { CpuBackend } from '../src/internal/cpu/backend'
import { mergeSiblings, schedule } from '../src/internal/cpu/fuse'
import { checkParams } from '../src/testing/tolerances'
import { bitEqual, close, fill } from './cpu-reference'
import { builder, interpret } from './programs'

const reference = cpu()

const onB = (b: CpuBackend, v: Var, seed: number) => b.fromHost(fill(v.aval.dtype, S.size(v.aval.shape), seed), v.aval)

/**
 * `leaves` Adam updates of [rows, cols] parameters, each leaf with its own
 * step count t (bias corrections 1/(1 − βᵗ) computed per leaf, as FRUGAL's
 * per-leaf states do): scalar chains, then one chain per leaf.
 */
const adamLeaves = (leaves: number, rows: number, cols: number) => {
  const { input, bind, eqs } = builder()
  // hyper-parameters arrive as scalar inputs
  const [b1, nb1, b2, nb2, lr, eps, one] = Array.from({ length: 7 }, () => input([]))
  const ins: Var[] = [b1, nb1, b2, nb2, lr, eps, one]
  const outs: Var[] = []
  for (let j = 0; j < leaves; j++) {
    const [p, g, m, v, t] = [input([rows, cols]), input([rows, cols]), input([rows, cols]), input([rows, cols]), input([])]
    ins.push(p, g, m, v, t)
    const m2 = bind('add', [bind('mul', [m, b1], {}), bind('mul', [g, nb1], {})], {})
    const v2 = bind('add', [bind('mul', [v, b2], {}), bind('mul', [bind('mul', [g, g], {}), nb2], {})], {})
    // s1 = 1 / (1 − b1·t), a scalar chain of its own (a stand-in for 1/(1 − β₁ᵗ))
    const s1 = bind('div', [one, bind('add', [one, bind('neg', [bind('mul', [b1, t], {})], {})], {})], {})
    const s2 = bind('div', [one, bind('add', [one, bind('neg', [bind('mul', [b2, t], {})], {})], {})], {})
    const den = bind('add', [bind('sqrt', [bind('mul', [v2, s2], {})], {}), eps], {})
    const p2 = bind('add', [p, bind('neg', [bind('div', [bind('mul', [bind('mul', [m2, s1], {}), lr], {}), den], {})], {})], {})
    outs.push(p2, m2, v2)
  }
  const prog: Program = { inputs: ins, consts: [], equations: eqs, outputs: outs }
  const hyper = [0.9, 0.1, 0.999, 0.001, 0.01, 1e-8, 1]
  return { prog, hyper }
}

const inputsOf = (b: CpuBackend, prog: Program, hyper: readonly number[]) =>
  prog.inputs.map((v, i) =>
    i < hyper.length
      ? b.fromHost(new Float32Array([hyper[i]]), v.aval)
      : v.aval.shape.length === 0
        ? b.fromHost(new Float32Array([1 + ((i * 5) % 7)]), v.aval)
        : onB(b, v, i),
  )

describe('wasm horizontal fusion (mergeSiblings)', () => {
  it('runs three leaves of Adam as two loops (the scalar chains, then the leaves), bit for bit', () => {
    const { prog, hyper } = adamLeaves(3, 7, 13)
    const merged = cpu({ wasm: true, onFallback: () => {} })
    const apart = cpu({ wasm: true, onFallback: () => {}, mergeLoops: false })
    const one = merged.compile(prog)
    const each = apart.compile(prog)
    expect(one.describe).toMatch(/^cpu\/wasm-simd: \d+ equations -> 2 kernels \(2 fused\), 2 in wasm, 0 on JS/)
    expect(each.describe).toMatch(/-> 9 kernels \(9 fused\), 9 in wasm/)
    const want = interpret(prog, inputsOf(reference, prog, hyper))
    for (const [b, exe] of [[merged, one], [apart, each]] as const) exe.run(inputsOf(b, prog, hyper), []).forEach((o, j) => expect(bitEqual(o, want[j])).toBe(true))
  })

  it('keeps long loops within the register budget; short loops merge whole', () => {
    // a long Adam leaf: 7 streams (p, g, m, v in; p, m, v out) and 8 broadcast values (6 shared, 2 its own)
    const { prog } = adamLeaves(10, 128, 128)
    const steps = mergeSiblings(schedule(prog), true, { budget: 24, accepts: () => true })
    const big = steps.filter((s) => s.outs[0].aval.shape.length === 2)
    expect(big.map((s) => s.outs.length)).toEqual([6, 6, 6, 6, 6]) // two leaves: 14 + 10 = 24; three: 21 + 12 > 24
    expect(mergeSiblings(schedule(prog), true, { budget: 16, accepts: () => true }).filter((s) => s.outs[0].aval.shape.length === 2)).toHaveLength(10)
    expect(steps.filter((s) => s.outs[0].aval.shape.length === 0)).toHaveLength(1) // every scalar chain in one loop
  })

  it('writes donated buffers in place across merged leaves: 200 steps allocate nothing and match op by op', () => {
    const { prog, hyper } = adamLeaves(3, 33, 65)
    const b = cpu({ wasm: true, onFallback: () => {} })
    const exe = b.compile(prog)
    const ins = inputsOf(b, prog, hyper)
    const k = hyper.length
    const donate = [0, 1, 2].flatMap((j) => [k + 5 * j, k + 5 * j + 2, k + 5 * j + 3]) // p, m, v of each leaf
    let host: TypedArray[] = ins.map((h) => h.slice())
    const live = ins.slice()
    const mem = b.memory()
    for (let step = 0; step < 200; step++) {
      const outs = exe.run(live, [], donate)
      outs.forEach((o, j) => expect(o).toBe(live[donate[j]])) // each output took its own donated input's buffer
      if (step < 3) {
        const want = interpret(prog, host)
        outs.forEach((o, j) => expect(bitEqual(o, want[j])).toBe(true))
        host = host.map((h, i) => (donate.includes(i) ? want[donate.indexOf(i)] : h))
      }
      for (const o of outs) b.dispose(o, prog.outputs[0].aval)
    }
    expect(b.memory()).toEqual(mem)
  })

  it('keeps a loop below the step it depends on, and merges across pooled intermediates safely', () => {
    const { input, bind, eqs } = builder()
    const [a, w, y] = [input([6, 9]), input([9, 9]), input([6, 9])]
    const x1 = bind('matmul', [a, w], {})
    const x2 = bind('matmul', [y, w], {})
    const e1 = bind('add', [bind('mul', [x1, x1], {}), a], {}) // loop 1 (x1, x2 are pooled intermediates that die here)
    const e2 = bind('mul', [bind('neg', [x2], {}), y], {}) // loop 2: independent of loop 1, of its shape: merged with it
    const r = bind('reduceSum', [e1], { axes: [1] }) // a reduction of loop 1's result
    const e3 = bind('mul', [y, bind('reshape', [r], { shape: [6, 1] })], {}) // depends on r: must not join loops 1–2
    const out = bind('matmul', [e3, w], {})
    const prog: Program = { inputs: [a, w, y], consts: [], equations: eqs, outputs: [out, e1, bind('matmul', [e2, w], {})] }
    const steps = mergeSiblings(schedule(prog), true, { budget: 24, accepts: () => true })
    const loops = steps.filter((s) => s.kind === 'fused' || (s.kind === 'kernel' && s.inPlace))
    expect(loops[0].outs).toHaveLength(2) // e1 and e2 in one loop
    expect(steps.indexOf(loops[1])).toBeGreaterThan(steps.findIndex((s) => s.eqs[0].prim === 'reduceSum'))
    const b = cpu({ wasm: true, onFallback: () => {} })
    const want = interpret(prog, prog.inputs.map((v, i) => onB(reference, v, i + 1)))
    // the same program with one loop per chain: bit for bit (same kernels); op by op: the matmuls sum in another order
    const b2 = cpu({ wasm: true, onFallback: () => {}, mergeLoops: false })
    const apart = b2.compile(prog).run(prog.inputs.map((v, i) => onB(b2, v, i + 1)), [])
    b.compile(prog).run(prog.inputs.map((v, i) => onB(b, v, i + 1)), []).forEach((o, j) => {
      expect(bitEqual(o, apart[j])).toBe(true)
      expect(close(o, want[j], 1e-4, 1e-2)).toBe(true)
    })
  })

  it('random sets of independent chains: merged and apart agree bit for bit, and with op by op (exp and tanh approximated)', () => {
    const unary = ['neg', 'exp', 'sqrt', 'tanh', 'sign'] as const
    const binary = ['add', 'mul', 'max', 'div'] as const
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.constantFrom(...unary), fc.constantFrom(...binary), fc.boolean()), { minLength: 2, maxLength: 9 }),
        fc.integer({ min: 1, max: 37 }),
        (chains, n) => {
          const { input, bind, eqs } = builder()
          const s = input([])
          const ins: Var[] = [s]
          const outs: Var[] = []
          for (const [u, bin, broadcast] of chains) {
            const x = input([3, n])
            ins.push(x)
            const ux = bind(u, [u === 'sqrt' ? bind('mul', [x, x], {}) : x], {})
            outs.push(bind(bin, [ux, broadcast ? s : x], {}))
          }
          const prog: Program = { inputs: ins, consts: [], equations: eqs, outputs: outs }
          const want = interpret(prog, prog.inputs.map((v, i) => onB(reference, v, i + 2)))
          const [merged, apart] = [true, false].map((mergeLoops) => {
            const b = cpu({ wasm: true, onFallback: () => {}, mergeLoops })
            return b.compile(prog).run(prog.inputs.map((v, i) => onB(b, v, i + 2)), [])
          })
          merged.forEach((o, j) => {
            expect(bitEqual(o, apart[j])).toBe(true)
            expect(close(o, want[j], 1e-5, 1e-6)).toBe(true)
          })
        },
      ),
      checkParams(),
    )
  })
})
