/**
 * The conformance suite of `@frugal-ts/core/testing` on tfjs's WebGL backend
 * (WebGL2; SwiftShader where there is no GPU) in headless Chromium, against
 * the reference `cpu-js` backend (subnormals flushed, as the GPU does), with
 * `grad`, `jit` and `jit(grad)`; then chained jitted training steps against
 * the reference, and 200 jitted steps that must leave tf.memory() and the
 * live GL textures unchanged. GPU shaders need
 * `gpuTolerances` (float32 rtol 1e-4), and sin/cos the GPU trig tolerance.
 */
import * as tf from '@tensorflow/tfjs-core'
import '@tensorflow/tfjs-backend-webgl'
import type { MathBackendWebGL } from '@tensorflow/tfjs-backend-webgl'
import { grad, jit } from '@frugal-ts/autodiff'
import { conformance, gpuTolerances } from '@frugal-ts/core/testing'
import { tfjsBackend, useTfjsBackend } from '@frugal-ts/backend-tfjs'
import type { Tf } from '@frugal-ts/backend-tfjs'
import { describe, expect, it } from 'vitest'
import { chainedSteps, countTextures, flushToZeroReference, noLeak, registerGpuBackend, rendererOf, runs, trig, trigChecks } from './support'

const tfns = tf as unknown as Tf
// run every op in shaders: by default tfjs-webgl runs ops whose inputs are small and still on
// the host on tfjs-cpu instead, which would leave most of the suite's small tensors off the GPU
tf.env().set('WEBGL_CPU_FORWARD', false)
await useTfjsBackend('webgl', { tf: tfns })
const gl = (tf.backend() as MathBackendWebGL).gpgpu.gl
console.info(`[test-browser] tfjs-webgl: WebGL ${tf.env().getNumber('WEBGL_VERSION')} on ${rendererOf(gl)}`)
const textures = countTextures(gl)
registerGpuBackend(tfjsBackend({ tf: tfns, backend: 'webgl' }))
const reference = flushToZeroReference()

describe('tfjs webgl in Chromium', () => {
  it('runs on WebGL2 with float32 render targets', () => {
    expect(tf.getBackend()).toBe('webgl')
    expect(tf.env().getNumber('WEBGL_VERSION')).toBe(2)
    expect(gl).toBeInstanceOf(WebGL2RenderingContext)
    expect(tf.env().getBool('WEBGL_RENDER_FLOAT32_ENABLED')).toBe(true)
    expect(tf.env().getBool('WEBGL_CPU_FORWARD')).toBe(false)
  })
})

conformance('tfjs-webgl', { autodiff: { grad, jit }, tolerance: gpuTolerances.float32, reference, skip: trig, ...runs })
trigChecks('tfjs-webgl', reference)

describe('tfjs webgl: training', () => {
  chainedSteps('tfjs-webgl')
  noLeak('tfjs-webgl', 'tf.memory() and the live GL textures', () => {
    const m = tf.memory() as tf.MemoryInfo & { numBytesInGPU?: number; numBytesInGPUAllocated?: number }
    return {
      numTensors: m.numTensors,
      numDataBuffers: m.numDataBuffers,
      numBytes: m.numBytes,
      numBytesInGPU: m.numBytesInGPU ?? -1,
      numBytesInGPUAllocated: m.numBytesInGPUAllocated ?? -1,
      glTextures: textures.live(),
    }
  })
  it('(the texture count saw tfjs create textures on the context)', () => expect(textures.created()).toBeGreaterThan(0))
})
