/**
 * gather and scatterAdd on the wasm path: the same results as the JS kernels
 * bit for bit (every dtype, any axis, rows of one or more elements, repeated
 * indices adding up), and an index out of range throwing the JS kernel's
 * CoreError before scatterAdd writes anything.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { DType } from '../src/DType'
import type { Program } from '../src/Program'
import * as S from '../src/Shape'
import { cpu } from '../src/internal/cpu/backend'
import { checkParams } from '../src/testing/tolerances'
import { bitEqual, fill } from './cpu-reference'
import { builder, interpret } from './programs'

const wasm = cpu({ wasm: true, onFallback: () => {} })

const dtypes: readonly DType[] = ['float32', 'int32', 'bool']

/** x of `shape`; indices (k1 × k2 of them, in [0, n)) gather along `axis`, then scatterAdd back to the axis size */
const program = (shape: number[], axis: number, kShape: number[], dtype: DType) => {
  const { input, bind, eqs } = builder()
  const x = input(shape, dtype)
  const idx = input(kShape, 'int32')
  const g = bind('gather', [x, idx], { axis })
  const back = bind('scatterAdd', [idx, g], { axis, size: shape[axis] })
  const p: Program = { inputs: [x, idx], consts: [], equations: eqs, outputs: [g, back] }
  return p
}

const indices = (kShape: number[], n: number, seed: number): Int32Array =>
  Int32Array.from({ length: S.size(kShape) }, (_, i) => (i * 7 + seed * 3) % n) // repeats once k > n

describe('wasm gather and scatterAdd', () => {
  it('run in wasm and equal the JS kernels bit for bit (random shapes, axes, dtypes, repeated indices)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 6 }), { minLength: 1, maxLength: 3 }),
        fc.nat(),
        fc.array(fc.integer({ min: 1, max: 9 }), { minLength: 1, maxLength: 2 }),
        fc.constantFrom(...dtypes),
        fc.nat(),
        (shape, a, kShape, dtype, seed) => {
          const axis = a % shape.length
          const p = program(shape, axis, kShape, dtype)
          const exe = wasm.compile(p)
          expect(exe.describe).toMatch(/2 in wasm, 0 on JS/)
          const x = fill(dtype, S.size(shape), seed)
          const ix = indices(kShape, shape[axis], seed)
          const want = interpret(p, [x, ix])
          const got = exe.run([wasm.fromHost(x, p.inputs[0].aval), wasm.fromHost(ix, p.inputs[1].aval)], [])
          got.forEach((o, j) => expect(bitEqual(o, want[j])).toBe(true))
        },
      ),
      checkParams(),
    )
  })

  it('FRUGAL RandK shapes: 125 k coordinates of a 500 k vector', () => {
    const p = program([500_000], 0, [125_000], 'float32')
    const x = fill('float32', 500_000, 7)
    const ix = Int32Array.from({ length: 125_000 }, (_, i) => (i * 4 + (i % 3)) % 500_000)
    const want = interpret(p, [x, ix])
    const got = wasm.compile(p).run([wasm.fromHost(x, p.inputs[0].aval), wasm.fromHost(ix, p.inputs[1].aval)], [])
    got.forEach((o, j) => expect(bitEqual(o, want[j])).toBe(true))
  })

  it('an index out of range throws the CoreError naming it, from gather and from scatterAdd', () => {
    const { input, bind, eqs } = builder()
    const x = input([4, 3])
    const idx = input([3], 'int32')
    const out = bind('gather', [x, idx], { axis: 0 })
    const g: Program = { inputs: [x, idx], consts: [], equations: eqs, outputs: [out] }
    const run = (prog: Program, ins: Float32Array[], ix: Int32Array) =>
      wasm.compile(prog).run([wasm.fromHost(ins[0], prog.inputs[0].aval), wasm.fromHost(ix, prog.inputs[1].aval)], [])
    expect(() => run(g, [new Float32Array(12)], Int32Array.from([0, 4, 1]))).toThrow(
      'gather: index 4 (at position 1 of the indices) is out of range [0, 4) for axis 0 of size 4',
    )
    expect(() => run(g, [new Float32Array(12)], Int32Array.from([-1, 0, 1]))).toThrow(/gather: index -1 \(at position 0/)
    const { input: in2, bind: bind2, eqs: eqs2 } = builder()
    const [i2, u2] = [in2([2], 'int32'), in2([2, 3])]
    const sum = bind2('scatterAdd', [i2, u2], { axis: 0, size: 5 })
    const s: Program = { inputs: [i2, u2], consts: [], equations: eqs2, outputs: [sum] }
    expect(() => wasm.compile(s).run([wasm.fromHost(Int32Array.from([1, 5]), i2.aval), wasm.fromHost(new Float32Array(6), u2.aval)], [])).toThrow(
      'scatterAdd: index 5 (at position 1 of the indices) is out of range [0, 5) for axis 0 of size 5',
    )
  })
})
