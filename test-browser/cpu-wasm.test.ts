/**
 * The default `cpu` backend (WebAssembly SIMD, tensors resident in one shared
 * WebAssembly.Memory) in headless Chromium, cross-origin isolated (the
 * COOP/COEP headers of vitest.config.ts), with its Web Worker pool: the first
 * parallel call runs before the workers have started (all shares on the
 * page's thread, without blocking), later ones split across a worker and
 * match the `cpu-js` reference; the conformance suite against `cpu-js`; a
 * jitted MLP training loop on two threads against one; a worker that fails
 * to start; and, in a second page that is not cross-origin isolated, the
 * fallback to one thread with the reason.
 */
import { grad, jit } from '@frugal-ts/autodiff'
import { add, cpu, fromArray, getBackend, matmul, mul, registerBackend, scope, sqrt, tanh, transpose, withBackend } from '@frugal-ts/core'
import type { CpuBackend, Tensor } from '@frugal-ts/core'
import { conformance } from '@frugal-ts/core/testing'
import { describe, expect, it } from 'vitest'
import { commands } from 'vitest/browser'
import type { Pool } from '../packages/core/src/internal/wasm/threads'
import { poolOf, whenStarted } from '../packages/core/src/internal/wasm/threads'
import type { Mlp } from './support'
import { train } from './support'

const quiet = { onFallback: () => {} }
registerBackend('cpu-wasm-2', () => cpu({ wasm: true, threads: 2, ...quiet }))
registerBackend('cpu-wasm-1', () => cpu({ wasm: true, threads: 1, ...quiet }))

/** `n` pseudo-random values in [-scale/2, scale/2) (the shader hash: fract(sin(·)·43758.5453)). */
const values = (n: number, seed: number, scale: number) =>
  Float32Array.from({ length: n }, (_, i) => {
    const h = Math.sin(i * 12.9898 + seed * 78.233) * 43758.5453
    return (h - Math.floor(h) - 0.5) * scale
  })

/**
 * A program every kernel of which is split across two threads: elementwise
 * loops of 600·512 and 2²⁰ elements (≥ 2·PARALLEL_MIN), and matmuls
 * of 600·512·300 multiply-adds (≥ 2·2²¹), plain and transposed.
 */
const big = jit((x: Tensor, row: Tensor, flat: Tensor, w: Tensor) => {
  const y = mul(add(x, row), tanh(x))
  const h = matmul(y, w)
  return [y, sqrt(mul(flat, flat)), h, matmul(transpose(y), h), matmul(h, transpose(w))]
})
const bigInputs = (): [Float32Array, number[]][] => [
  [values(600 * 512, 1, 1), [600, 512]],
  [values(512, 2, 1), [512]],
  [values(1 << 20, 3, 1), [1 << 20]],
  [values(512 * 300, 4, 1 / 32), [512, 300]],
]
const runBig = (backend: string): number[][] =>
  withBackend(backend, () =>
    scope(() => {
      const outs = big(...(bigInputs().map(([d, s]) => fromArray(d, s)) as [Tensor, Tensor, Tensor, Tensor]))
      return outs.map((t) => Array.from(t.dataSync()))
    }),
  )

const expectClose = (actual: readonly number[], expected: readonly number[], rtol: number, atol: number, what: string): void => {
  expect(actual.length, what).toBe(expected.length)
  actual.forEach((a, i) => {
    const e = expected[i]
    if (!(Math.abs(a - e) <= atol + rtol * Math.abs(e))) throw new Error(`${what}: element ${i}: ${a}, expected ${e} (rtol ${rtol}, atol ${atol})`)
  })
}
const expectReference = (outs: number[][], ref: number[][]): void => {
  expectClose(outs[0], ref[0], 1e-5, 1e-6, 'mul(add(x, row), tanh(x))')
  expectClose(outs[1], ref[1], 0, 0, 'sqrt(flat²)')
  outs.slice(2).forEach((o, j) => expectClose(o, ref[j + 2], 1e-4, 2e-3, `matmul ${j}`))
}

describe('cpu/wasm-simd in Chromium: worker threads over shared memory', () => {
  it('is cross-origin isolated, so the cpu backend has shared memory and a pool of 2 threads', async () => {
    expect(crossOriginIsolated).toBe(true)
    expect(typeof SharedArrayBuffer).toBe('function')
    expect((getBackend('cpu-wasm-2') as CpuBackend).path).toMatch(/^cpu\/wasm-simd \(tensors resident in shared wasm memory, 2 threads, fused multiply-add\)$/)
    await whenStarted(poolOf(2))
  })

  it('splits every kernel of a large jitted program across the worker, with the results of the cpu-js reference', () => {
    const pool = poolOf(2)
    const jobs = pool.jobs
    expectReference(runBig('cpu-wasm-2'), runBig('cpu-js'))
    expect(pool.jobs - jobs).toBeGreaterThanOrEqual(5) // a share of every kernel (two loops, three matmuls) on the worker
  })

  it('runs parallel calls on the page thread alone, without blocking, until the workers of a new pool have started', async () => {
    // a pool of 3 threads, created here: its two workers cannot start before this test yields
    registerBackend('cpu-wasm-3', () => cpu({ wasm: true, threads: 3, ...quiet }))
    const t0 = performance.now()
    const pool = poolOf(3)
    const outs = runBig('cpu-wasm-3')
    const first = performance.now() - t0
    expect(pool.size).toBe(3)
    expect(pool.jobs).toBe(0)
    expectReference(outs, runBig('cpu-js'))
    const free = performance.now()
    await whenStarted(pool)
    const ready = performance.now() - free
    const t1 = performance.now()
    const again = runBig('cpu-wasm-3')
    const second = performance.now() - t1
    expect(pool.jobs).toBeGreaterThanOrEqual(10) // two shares of every kernel on the workers
    outs.forEach((o, j) => expect(again[j], `output ${j}, before and after the workers started`).toEqual(o))
    console.info(
      `[test-browser] cpu-wasm: first call ${first.toFixed(0)} ms on the page thread alone (workers not started); ` +
        `workers started ${ready.toFixed(0)} ms after the page thread was free (${(free - t0).toFixed(0)} ms after they were created); ` +
        `next call ${second.toFixed(0)} ms on 3 threads`,
    )
  })

  it('stays on the page thread, with the reason, when a worker fails to start', async () => {
    const Real = globalThis.Worker
    const failing = URL.createObjectURL(new Blob(['throw new Error("no worker here")'], { type: 'text/javascript' }))
    globalThis.Worker = class extends Real {
      constructor() {
        super(failing)
      }
    }
    let pool: Pool
    try {
      pool = poolOf(4)
    } finally {
      globalThis.Worker = Real
    }
    await expect(whenStarted(pool)).rejects.toThrow(/a worker failed to start \(.*no worker here\)/)
    expect(pool.size).toBe(1)
    registerBackend('cpu-wasm-4', () => cpu({ wasm: true, threads: 4, ...quiet }))
    expect((getBackend('cpu-wasm-4') as CpuBackend).path).toMatch(/, 1 thread: a worker failed to start \(.*no worker here\), so every share runs on the calling thread, fused multiply-add\)$/)
    expectReference(runBig('cpu-wasm-4'), runBig('cpu-js'))
    expect(pool.jobs).toBe(0)
  })
})

conformance('cpu', { reference: 'cpu-js', autodiff: { grad, jit } })

describe('cpu/wasm-simd in Chromium: training on two threads', () => {
  // 256·256·512 multiply-adds per matmul and 256·512 hidden activations: split across threads
  const mlp: Mlp = { sizes: [256, 512, 10], batch: 256, initScale: 0.25, values }
  const losses = (backend: string, steps: number): number[] => train(backend, 0, steps, () => null, mlp).losses

  it('a jitted MLP training loop (valueAndGrad, SGD) gives the losses of one thread on two', () => {
    const pool = poolOf(2)
    const jobs = pool.jobs
    const two = losses('cpu-wasm-2', 20)
    const perStep = (pool.jobs - jobs) / 20
    const one = losses('cpu-wasm-1', 20)
    expect(perStep).toBeGreaterThanOrEqual(3) // forward and backward matmuls on the worker
    expectClose(two, one, 0, 1e-5, 'loss per step, 2 threads vs 1')
    expect(two[19]).toBeLessThan(two[0])
    console.info(`[test-browser] cpu-wasm: MLP ${mlp.sizes.join('-')}, 20 jitted steps on 2 threads (${perStep} worker jobs per step), loss ${two[0].toFixed(4)} -> ${two[19].toFixed(4)}`)
  })
})

describe('cpu/wasm-simd in a page that is not cross-origin isolated', () => {
  it('falls back to one thread, saying why, and computes what cpu-js computes', async () => {
    type Core = typeof import('@frugal-ts/core')
    type Autodiff = typeof import('@frugal-ts/autodiff')
    // runs in the other page (no closure over this module): the default cpu backend there
    const check = async (core: Core, autodiff: Autodiff) => {
      const n = 1 << 19
      const data = Float32Array.from({ length: n }, (_, i) => Math.sin(i))
      const f = autodiff.jit((x: Tensor) => core.matmul(core.reshape(core.mul(core.add(x, 1), core.tanh(x)), [512, 1024]), core.reshape(x, [1024, 512])))
      const run = (name: string) => core.withBackend(name, () => Array.from(f(core.fromArray(data, [n])).dataSync()))
      const [got, want] = [run('cpu'), run('cpu-js')]
      return {
        compiled: core.withBackend('cpu', () => f.describe(core.fromArray(data, [n]))),
        isolated: crossOriginIsolated,
        sharedArrayBuffer: typeof SharedArrayBuffer,
        path: (core.getBackend('cpu') as CpuBackend).path,
        // the worst error as a multiple of the matmul tolerance of the tests above (rtol 1e-4, atol 2e-3)
        worst: got.reduce((w, g, i) => Math.max(w, Math.abs(g - want[i]) / (2e-3 + 1e-4 * Math.abs(want[i]))), 0),
      }
    }
    const seen = (await commands.notIsolated(String(check), ['../packages/core/src/index.ts', '../packages/autodiff/src/index.ts'])) as Awaited<ReturnType<typeof check>>
    console.info(`[test-browser] cpu-wasm without cross-origin isolation: ${seen.path}`)
    expect(seen.isolated).toBe(false)
    expect(seen.sharedArrayBuffer).toBe('undefined')
    expect(seen.path).toMatch(/^cpu\/wasm-simd \(inputs and outputs copied: SharedArrayBuffer is unavailable .*, 1 thread: SharedArrayBuffer is unavailable, so workers cannot share the wasm memory, fused multiply-add\)$/)
    expect(seen.compiled).toMatch(/^cpu\/wasm-simd: .* 0 on JS/)
    expect(seen.worst).toBeLessThanOrEqual(1)
  })
})
