/**
 * `useTfjsBackend` fails fast with a message that names what is missing, and
 * a pinned frugal-ts backend refuses to run before its tfjs backend is ready.
 */
import '@tensorflow/tfjs-backend-cpu'
import * as tf from '@tensorflow/tfjs-core'
import { describe, expect, it } from 'vitest'
import { TfjsBackendError, tfjsBackend, useTfjsBackend } from '../src/index'

const timed = async (p: Promise<unknown>): Promise<{ error: unknown; ms: number }> => {
  const t0 = performance.now()
  try {
    await p
    return { error: undefined, ms: performance.now() - t0 }
  } catch (error) {
    return { error, ms: performance.now() - t0 }
  }
}

describe('useTfjsBackend', () => {
  it("'webgpu' in Node fails at once, naming the package and that Node has no WebGPU adapter", async () => {
    const { error, ms } = await timed(useTfjsBackend('webgpu'))
    expect(error).toBeInstanceOf(TfjsBackendError)
    expect((error as Error).message).toMatch(/tfjs backend 'webgpu' is not registered \(registered: .*cpu.*\)/)
    expect((error as Error).message).toContain("install @tensorflow/tfjs-backend-webgpu (same version as @tensorflow/tfjs-core) and import it once")
    expect((error as Error).message).toContain('Node has no WebGPU adapter')
    expect(ms).toBeLessThan(1000)
  })

  it("'webgl' without its package names @tensorflow/tfjs-backend-webgl", async () => {
    await expect(useTfjsBackend('webgl')).rejects.toThrow(/install @tensorflow\/tfjs-backend-webgl/)
  })

  it("'cpu' starts and becomes tfjs's active backend", async () => {
    const got = await useTfjsBackend('cpu')
    expect(got.getBackend()).toBe('cpu')
  })

  it('a backend that never finishes starting times out instead of hanging, and the previous backend stays active', async () => {
    tf.registerBackend('never-ready', () => new Promise<never>(() => undefined))
    const { error, ms } = await timed(useTfjsBackend('never-ready', { timeoutMs: 200 }))
    expect(error).toBeInstanceOf(TfjsBackendError)
    expect((error as Error).message).toContain("starting tfjs backend 'never-ready' did not finish within 200 ms")
    expect(ms).toBeLessThan(2000)
    expect(tf.getBackend()).toBe('cpu')
  })

  it('a backend whose start fails says it could not start', async () => {
    tf.registerBackend('broken', () => {
      throw new Error('no device')
    })
    await expect(useTfjsBackend('broken')).rejects.toThrow(/tfjs backend 'broken' could not start/)
  })
})

describe('a pinned backend before its tfjs backend started', () => {
  it('throws a TfjsBackendError telling to await useTfjsBackend', () => {
    const b = tfjsBackend({ backend: 'wasm' })
    expect(b.name).toBe('tfjs-wasm')
    expect(() => b.fromHost(new Float32Array([1]), { shape: [1], dtype: 'float32' })).toThrow(
      "tfjs-wasm: tfjs backend 'wasm' is not ready; await useTfjsBackend('wasm')",
    )
  })
})
