import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { Program, Var } from '../src/Program'
import * as S from '../src/Shape'
import { checkParams } from '../src/testing/tolerances'
import { cpu } from '../src/internal/cpu/backend'
import type { CpuHandle } from '../src/internal/cpu/backend'
import { close, fill } from './cpu-reference'
import { builder, interpret } from './programs'

const wasm = cpu({ wasm: true, onFallback: () => {} })

const unary = ['neg', 'exp', 'sqrt', 'tanh', 'sign', 'log', 'sin'] as const
const binary = ['add', 'mul', 'div', 'max', 'pow'] as const
const actions = ['unary', 'binary', 'row', 'col', 'scalar', 'select', 'int', 'sum', 'max', 'sumAll'] as const

const programArb = fc.record({
  shape: fc.array(fc.integer({ min: 1, max: 9 }), { minLength: 1, maxLength: 3 }),
  steps: fc.array(
    fc.tuple(fc.constantFrom(...actions), fc.nat(), fc.nat(), fc.constantFrom(...unary), fc.constantFrom(...binary), fc.array(fc.boolean(), { minLength: 3, maxLength: 3 })),
    { minLength: 1, maxLength: 12 },
  ),
  outputs: fc.array(fc.nat(), { minLength: 1, maxLength: 3 }),
  donate: fc.array(fc.boolean(), { minLength: 3, maxLength: 3 }),
  seed: fc.nat(),
})
type Spec = typeof programArb extends fc.Arbitrary<infer T> ? T : never

/** Builds a random elementwise/reduction program over a base shape with broadcast row, column and scalar operands. */
const build = (spec: Spec): Program => {
  const { input, bind, eqs } = builder()
  const shape = spec.shape
  const r = shape.length
  const xs = [input(shape), input(shape), input(shape)]
  const row = input([shape[r - 1]])
  const col = input([...shape.slice(0, -1), 1])
  const scalar = input([])
  const ints = input(shape, 'int32')
  const pool: Var[] = [...xs]
  const pick = (i: number) => pool[i % pool.length]
  const keepDims = (v: Var, axes: number[]) => bind('reshape', [v], { shape: shape.map((d, i) => (axes.includes(i) ? 1 : d)) })
  for (const [act, i, j, un, bin, flags] of spec.steps) {
    const a = pick(i)
    const b = pick(j)
    const axes = shape.map((_, k) => k).filter((k) => flags[k % 3])
    switch (act) {
      case 'unary': pool.push(bind(un, [un === 'log' || un === 'sqrt' ? bind('max', [a, scalar], {}) : a], {})); break
      case 'binary': pool.push(bind(bin, bin === 'pow' ? [bind('max', [a, scalar], {}), b] : [a, b], {})); break
      case 'row': pool.push(bind(bin === 'pow' ? 'add' : bin, [row, a], {})); break
      case 'col': pool.push(bind(bin === 'pow' ? 'mul' : bin, [a, col], {})); break
      case 'scalar': pool.push(bind('mul', [scalar, a], {})); break
      case 'select': pool.push(bind('where', [bind('compare', [a, b], { op: flags[0] ? 'lt' : 'ge' }), a, bind('neg', [b], {})], {})); break
      case 'int': {
        const k = bind('add', [bind('mul', [ints, bind('cast', [a], { dtype: 'int32' })], {}), bind('sign', [ints], {})], {})
        pool.push(bind('cast', [bind('max', [k, bind('neg', [ints], {})], {})], { dtype: 'float32' }))
        break
      }
      case 'sum':
      case 'max':
        if (axes.length > 0) pool.push(bind('add', [a, keepDims(bind(act === 'sum' ? 'reduceSum' : 'reduceMax', [b], { axes }), axes)], {}))
        break
      case 'sumAll': pool.push(bind('mul', [a, bind('reduceSum', [bind('reshape', [b], { shape: [S.size(shape)] })], { axes: [0] })], {})); break
    }
  }
  return { inputs: [...xs, row, col, scalar, ints], consts: [], equations: eqs, outputs: spec.outputs.map(pick) }
}

const inputData = (v: Var, seed: number): CpuHandle => {
  const n = S.size(v.aval.shape)
  if (v.aval.dtype === 'int32') return Int32Array.from({ length: n }, (_, i) => ((i * 5 + seed) % 7) - 3)
  if (v.aval.shape.length === 0) return new Float32Array([0.25]) // the floor of log/sqrt/pow bases
  return fill('float32', n, seed, seed % 4 === 0) as Float32Array
}

describe('cpu wasm compile: properties', () => {
  it('random elementwise and reduction programs compiled to wasm equal the interpreter, across runs and donation', () => {
    fc.assert(
      fc.property(programArb, (spec) => {
        const p = build(spec)
        const exe = wasm.compile(p)
        const donate = spec.donate.flatMap((d, i) => (d ? [i] : []))
        for (let call = 0; call < 2; call++) {
          const host = p.inputs.map((v, k) => inputData(v, spec.seed + 13 * call + k))
          const want = interpret(p, host)
          const ins = host.map((h, k) => (k % 2 === 0 ? wasm.fromHost(h, p.inputs[k].aval) : h.slice())) // resident and staged inputs
          const outs = exe.run(ins, [], donate)
          outs.forEach((o, j) => {
            const tol = o instanceof Float32Array ? [1e-5, 1e-6] : [0, 0]
            expect(o.constructor).toBe(want[j].constructor)
            expect(close(o, want[j], tol[0], tol[1]), `output ${j} of\n${JSON.stringify(spec)}\n${exe.describe}\ngot ${[...o].slice(0, 8)}\nwant ${[...want[j]].slice(0, 8)}`).toBe(true)
          })
        }
      }),
      checkParams({ numRuns: 200 }),
    )
  })
})
