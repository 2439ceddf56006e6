import { grad, jit } from '@frugal-ts/autodiff'
import { conformance, gpuTolerances } from '@frugal-ts/core/testing'
import { describe, expect, it } from 'vitest'
import { flushToZeroReference, registered, unavailable } from './support'

// gpu.js's WebGL kernels over headless-gl: needs the built `gl` module and an
// X display (`pnpm --filter @frugal-ts/backend-gpujs test:gl` runs under xvfb-run -a).
const why = unavailable('headlessgl')

if (why !== null) {
  console.warn(`[backend-gpujs] skipping the headless-gl conformance suite: ${why}`)
  describe.skip(`conformance: gpujs-headlessgl (skipped: ${why.split(':').slice(0, 2).join(':')})`, () => {
    it('needs headless-gl', () => {})
  })
} else {
  const { name, backend } = registered('headlessgl')

  describe('gpujs headlessgl mode', () => {
    it('runs on gpu.js HeadlessGLKernel, results stay in textures', () => {
      expect(backend.mode).toBe('headlessgl')
      expect(backend.gpu.Kernel.name).toBe('HeadlessGLKernel')
      const h = backend.fromHost(new Float32Array([1, 2, 3]), { shape: [3], dtype: 'float32' })
      const y = backend.kernels.exp([h], [{ shape: [3], dtype: 'float32' }], {}, { shape: [3], dtype: 'float32' })
      expect(y.buffer?.value.constructor.name).toBe('GLTextureMemoryOptimized')
      expect(Array.from(backend.readSync(y, { shape: [3], dtype: 'float32' }))).toEqual([Math.E, Math.E ** 2, Math.E ** 3].map((v) => expect.closeTo(v, 4)))
      backend.dispose(h, { shape: [3], dtype: 'float32' })
      backend.dispose(y, { shape: [3], dtype: 'float32' })
    })
  })

  // WebGL flushes float32 subnormals to zero: compare with the cpu backend doing the same
  conformance(name, { tolerance: gpuTolerances.float32, autodiff: { grad, jit }, reference: flushToZeroReference() })

  describe('gpujs headlessgl mode, after the suite', () => {
    it('built every kernel on HeadlessGLKernel (no silent CPU fallback)', () => {
      expect(Object.keys(backend.stats().kernelModes)).toEqual(['headlessgl'])
    })
  })
}
