import type { Tensor } from '@frugal-ts/core'
import { add, dispose, fromArray, getBackend, matmul, mul, registerBackend, sqrt, sub, withBackend, div } from '@frugal-ts/core'
import { conformance } from '@frugal-ts/core/testing'
import { describe, expect, it } from 'vitest'
import { cpu } from '@frugal-ts/core'
import type { CpuBackend } from '@frugal-ts/core'
import { grad, jit } from '../src'

// The cpu backend with its WebAssembly SIMD path forced on: every primitive
// eagerly and under jit (the compiled wasm path), grad and jit(grad) of an
// MLP, with the reference cpu backend's tolerances.
registerBackend('cpu-wasm', () => cpu({ wasm: true, onFallback: () => {} }))
conformance('cpu-wasm', { autodiff: { grad, jit } })
// and as without SharedArrayBuffer: tensors in JS arrays, copied in and out of wasm memory per run
registerBackend('cpu-wasm-copy', () => cpu({ wasm: true, resident: false, onFallback: () => {} }))
conformance('cpu-wasm-copy', { autodiff: { grad, jit } })

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
