import fc from 'fast-check'
import type { CpuBackend, Primitive, Tensor } from '@frugal-ts/core'
import { add, bind, cpu, dispose, div, fromArray, getBackend, matmul, mul, registerBackend, sqrt, sub, withBackend } from '@frugal-ts/core'
import type { CaseInput, Variant } from '@frugal-ts/core/testing'
import { cases, conformance, defaultSeed, toTensor } from '@frugal-ts/core/testing'
import { describe, expect, it } from 'vitest'
import { grad, jit } from '../src'

// The cpu backend with its WebAssembly SIMD path forced on, as a backend under test against the
// JS reference `cpu-js`: every primitive eagerly and under jit (the compiled wasm path, as many
// runs as eager), grad and jit(grad) of an MLP. Which path each op took is asserted below: the
// fallbacks the wasm compiler reports are recorded, not silenced.
const fallbacks = { 'cpu-wasm': new Set<string>(), 'cpu-wasm-copy': new Set<string>() }
registerBackend('cpu-wasm', () => cpu({ wasm: true, onFallback: (m) => fallbacks['cpu-wasm'].add(m) }))
conformance('cpu-wasm', { autodiff: { grad, jit } })
// and as without SharedArrayBuffer: tensors in JS arrays, copied in and out of wasm memory per run
registerBackend('cpu-wasm-copy', () => cpu({ wasm: true, resident: false, onFallback: (m) => fallbacks['cpu-wasm-copy'].add(m) }))
conformance('cpu-wasm-copy', { autodiff: { grad, jit } })

const primitives = Object.keys(cases) as Primitive[]
/** One non-empty input of each variant (fixed seed), with its label. */
const samples = primitives.flatMap((prim) =>
  (cases[prim] as readonly Variant<Primitive>[])
    .filter((v) => !v.empty)
    .map((v) => ({ label: `${prim} (${v.name})`, prim, input: fc.sample(v.arb, { seed: defaultSeed, numRuns: 1 })[0] as CaseInput<Primitive> })),
)

describe('cpu-wasm: which path each op ran', () => {
  it('eager: matmul runs the wasm GEMM on resident tensors, every other primitive its JS kernel (counted by stats().wasmKernels)', () => {
    const inWasm = (name: string) =>
      samples.filter(({ prim, input }) => {
        const b = getBackend(name) as CpuBackend
        const before = b.stats().wasmKernels
        withBackend(name, () => dispose(bind(prim, input.args.map(toTensor), input.params)))
        return b.stats().wasmKernels > before
      }).map((s) => s.label)
    expect(inWasm('cpu-wasm')).toEqual(['matmul (batched, broadcast)'])
    expect(inWasm('cpu-wasm-copy')).toEqual([]) // not resident: eager matmul is the JS GEMM too
  })

  it('jit: the steps each jitted primitive runs on the JS path are exactly the listed ones', () => {
    const onJs = (name: string) =>
      samples.flatMap(({ label, prim, input }) => {
        const f = jit((...xs: Tensor[]) => bind(prim, xs, input.params))
        const d = withBackend(name, () => {
          const xs = input.args.map(toTensor)
          const s = f.describe(...xs)
          dispose(xs)
          return s
        })
        const m = /(\d+) in wasm, (\d+) on JS/.exec(d)
        if (!m) throw new Error(`${label}: not a wasm program: ${d}`)
        return m[2] === '0' ? [] : [`${label}: ${/on JS \[([^\]]*)\]/.exec(d)?.[1]}`]
      })
    // no SIMD lowering: these run their JS kernel inside the compiled program (argmax; data movement whose
    // innermost axis is strided: this transpose moves the last axis, this concat writes columns). Slices,
    // pads, concats along outer axes and transposes that keep the last axis are strided SIMD copies.
    const expected = [
      'argmax (float32): argmax',
      'argmax (int32 ties): argmax',
      'transpose (any dtype): transpose',
      'concat (any dtype): concat',
    ]
    expect(onJs('cpu-wasm')).toEqual(expected)
    expect(onJs('cpu-wasm-copy')).toEqual(expected)
  })

  it('the conformance runs above met no other fallback (every reason the wasm compiler reported is recorded)', () => {
    expect([...fallbacks['cpu-wasm']]).toEqual([])
    expect([...fallbacks['cpu-wasm-copy']]).toEqual([])
  })
})

describe('cpu-wasm under jit', () => {
  it('takes the wasm path', () => {
    const b = getBackend('cpu-wasm') as CpuBackend
    expect(b.path).toMatch(/^cpu\/wasm-simd/)
    const x = withBackend('cpu-wasm', () => fromArray(new Float32Array([1, 2, 3, 4]), [2, 2]))
    const f = jit((a: Tensor) => matmul(a, add(a, 1)))
    expect(f.describe(x)).toMatch(/^cpu\/wasm-simd: .* 2 in wasm, 0 on JS/)
    expect(Array.from(f(x).dataSync())).toEqual([10, 13, 22, 29])
    dispose(x)
  })

  it('1,000 jitted donated steps allocate nothing after the first and keep memory flat', () => {
    const b = getBackend('cpu-wasm') as CpuBackend
    const n = 1000
    const make = () => withBackend('cpu-wasm', () => fromArray(Float32Array.from({ length: n }, (_, i) => Math.sin(i)), [n]))
    let p = make()
    let m = withBackend('cpu-wasm', () => mul(make(), 0))
    const g = make()
    const step = jit(
      (g: Tensor, m: Tensor, p: Tensor) => {
        const m2 = add(mul(m, 0.9), mul(g, 0.1))
        return [sub(p, mul(div(m2, add(sqrt(mul(m2, m2)), 1e-8)), 1e-3)), m2]
      },
      { donate: [1, 2] },
    )
    ;[p, m] = step(g, m, p)
    const mem = b.memory()
    const stats = b.stats()
    for (let i = 0; i < 1000; i++) [p, m] = step(g, m, p)
    expect(b.stats().allocatedBytes).toBe(stats.allocatedBytes)
    expect(b.memory()).toEqual(mem)
    expect(Number.isFinite(p.dataSync()[0])).toBe(true)
    dispose([p, m, g])
  })
})
