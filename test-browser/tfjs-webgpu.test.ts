/**
 * The conformance suite of `@frugal-ts/core/testing` on tfjs's WebGPU backend
 * in headless Chromium (`--enable-unsafe-webgpu --use-webgpu-adapter=swiftshader`:
 * SwiftShader's Vulkan device where there is no GPU), against the reference
 * `cpu` backend (subnormals flushed, as the GPU does), with `grad`, `jit` and
 * `jit(grad)`; then chained jitted training steps against the reference, and
 * 200 jitted steps that must leave tf.memory() and tfjs-webgpu's buffer pool
 * unchanged.
 *
 * Without a WebGPU adapter the suite cannot run: then this file checks that
 * `useTfjsBackend('webgpu')` fails at once with the error that says so, and
 * prints why (FRUGAL_REQUIRE_WEBGPU=1 or CI=true makes a missing adapter a failure).
 */
import * as tf from '@tensorflow/tfjs-core'
import '@tensorflow/tfjs-backend-webgpu'
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu'
import { grad, jit } from '@frugal-ts/autodiff'
import { conformance, gpuTolerances } from '@frugal-ts/core/testing'
import { TfjsBackendError, tfjsBackend, useTfjsBackend } from '@frugal-ts/backend-tfjs'
import type { Tf } from '@frugal-ts/backend-tfjs'
import { describe, expect, inject, it } from 'vitest'
import { chainedSteps, flushToZeroReference, noLeak, registerGpuBackend, runs, trig, trigChecks } from './support'

const tfns = tf as unknown as Tf

/** The adapter Chromium gives, or why there is none. */
const probe = async (): Promise<{ adapter: GPUAdapter } | { why: string }> => {
  if (!('gpu' in navigator)) return { why: 'navigator.gpu is missing (WebGPU disabled in this browser, or not a secure context)' }
  const adapter = await navigator.gpu.requestAdapter().catch(() => null)
  return adapter
    ? { adapter }
    : { why: 'navigator.gpu.requestAdapter() returned null (launch Chromium with --enable-unsafe-webgpu --use-webgpu-adapter=swiftshader)' }
}
const found = await probe()

if ('why' in found) {
  console.warn(`[test-browser] tfjs-webgpu: NOT running the WebGPU conformance suite: ${found.why}`)
  describe('tfjs webgpu in Chromium without a WebGPU adapter', () => {
    it('useTfjsBackend("webgpu") rejects at once with a TfjsBackendError naming the missing adapter', async () => {
      expect(inject('requireWebgpu'), `FRUGAL_REQUIRE_WEBGPU=1 or CI=true but ${found.why}`).toBe(false)
      const error = await useTfjsBackend('webgpu', { tf: tfns, timeoutMs: 20_000 }).then(
        () => null,
        (e: unknown) => e,
      )
      expect(error).toBeInstanceOf(TfjsBackendError)
      expect((error as Error).message).toMatch(/no WebGPU adapter/)
      console.warn(`[test-browser] tfjs-webgpu: useTfjsBackend('webgpu') said: ${(error as Error).message}`)
    })
  })
} else {
  const info = (found.adapter as GPUAdapter & { info?: Record<string, string> }).info ?? {}
  console.info(`[test-browser] tfjs-webgpu: adapter ${info.vendor} ${info.architecture} ${info.description ?? ''}`.trimEnd())
  // run every op in shaders: by default tfjs-webgpu runs ops on tensors of fewer than 1,000
  // elements still on the host on tfjs-cpu instead, which would leave the suite's tensors off the GPU
  tf.env().set('WEBGPU_CPU_HANDOFF_SIZE_THRESHOLD', 0)
  await useTfjsBackend('webgpu', { tf: tfns })
  const webgpu = tf.backend() as WebGPUBackend
  registerGpuBackend(tfjsBackend({ tf: tfns, backend: 'webgpu' }))
  const reference = flushToZeroReference()

  describe('tfjs webgpu in Chromium', () => {
    it('runs on tfjs-webgpu with a WebGPU device', () => {
      expect(tf.getBackend()).toBe('webgpu')
      expect(webgpu.device).toBeInstanceOf(GPUDevice)
      expect(tf.env().getNumber('WEBGPU_CPU_HANDOFF_SIZE_THRESHOLD')).toBe(0)
    })
  })

  conformance('tfjs-webgpu', { autodiff: { grad, jit }, tolerance: gpuTolerances.float32, reference, skip: trig, ...runs })
  trigChecks('tfjs-webgpu', reference)

  describe('tfjs webgpu: training', () => {
    chainedSteps('tfjs-webgpu')
    noLeak('tfjs-webgpu', "tf.memory() and tfjs-webgpu's buffer pool", () => {
      const m = tf.memory() as tf.MemoryInfo & { numBytesInGPU?: number; numBytesAllocatedInGPU?: number }
      return {
        numTensors: m.numTensors,
        numDataBuffers: m.numDataBuffers,
        numBytes: m.numBytes,
        numBytesInGPU: m.numBytesInGPU ?? -1,
        numBytesAllocatedInGPU: m.numBytesAllocatedInGPU ?? -1,
        usedBuffers: webgpu.bufferManager.getNumUsedBuffers(),
        freeBuffers: webgpu.bufferManager.getNumFreeBuffers(),
      }
    })
  })
}
