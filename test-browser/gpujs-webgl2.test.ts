/**
 * The conformance suite of `@frugal-ts/core/testing` on the gpu.js backend in
 * mode 'webgl2' (gpu.js's WebGL2Kernel; SwiftShader where there is no GPU) in
 * headless Chromium, against the reference `cpu-js` backend (subnormals flushed,
 * as the GPU does), with `grad`, `jit` and `jit(grad)` (gpu.js's fused
 * elementwise kernels); every kernel must have been built on WebGL2Kernel,
 * never on gpu.js's silent CPU fallback. Then chained jitted training steps
 * against the reference, and 200 jitted steps that must leave memory() and the
 * live GL textures unchanged.
 */
import { grad, jit } from '@frugal-ts/autodiff'
import { conformance, gpuTolerances } from '@frugal-ts/core/testing'
import { availableModes, gpujsBackend } from '@frugal-ts/backend-gpujs'
import { WebGL2Kernel } from 'gpu.js'
import { describe, expect, it } from 'vitest'
import { chainedSteps, countTextures, flushToZeroReference, noLeak, registerGpuBackend, rendererOf, runs, trig, trigChecks } from './support'

const name = 'gpujs-webgl2'
const backend = gpujsBackend({ mode: 'webgl2', name })
registerGpuBackend(backend)
const reference = flushToZeroReference()
// gpu.js makes its canvas and WebGL2 context with the first kernel
const context = (): WebGL2RenderingContext => backend.gpu.context as WebGL2RenderingContext
let textures: ReturnType<typeof countTextures> | undefined

describe('gpujs webgl2 in Chromium', () => {
  it("runs gpu.js's WebGL2Kernel on a WebGL2 context, not the CPU fallback", () => {
    expect(availableModes()).toContain('webgl2')
    expect(backend.mode).toBe('webgl2')
    expect(backend.gpu.Kernel).toBe(WebGL2Kernel)
    const aval = { shape: [3], dtype: 'float32' } as const
    const h = backend.fromHost(new Float32Array([1, 2, 3]), aval)
    const y = backend.kernels.exp([h], [aval], {}, aval)
    expect(y.buffer?.value.constructor.name).toMatch(/^GLTexture/) // the result stays in a texture
    expect(Array.from(backend.readSync(y, aval))).toEqual([1, 2, 3].map((v) => expect.closeTo(Math.exp(v), 4)))
    expect(context()).toBeInstanceOf(WebGL2RenderingContext)
    console.info(`[test-browser] ${name}: gpu.js ${backend.gpu.Kernel.name} on ${rendererOf(context())}`)
    backend.dispose(h, aval)
    backend.dispose(y, aval)
  })
})

conformance(name, { autodiff: { grad, jit }, tolerance: gpuTolerances.float32, reference, skip: trig, ...runs })
trigChecks(name, reference)

describe('gpujs webgl2: training', () => {
  chainedSteps(name)
  noLeak(name, 'the live GL textures', () => ({ glTextures: (textures ??= countTextures(context())).live() }))
  it('(the texture count saw the training create textures on the context)', () => expect(textures?.created()).toBeGreaterThan(0))
})

describe('gpujs webgl2, after the suites', () => {
  it('built every kernel on WebGL2Kernel (no silent CPU fallback)', () => {
    const built = backend.stats().kernelModes
    console.info(`[test-browser] ${name}: kernels built per gpu.js class: ${JSON.stringify(built)}`)
    expect(Object.keys(built)).toEqual(['webgl2'])
  })
})
