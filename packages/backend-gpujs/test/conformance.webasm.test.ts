import { grad, jit } from '@frugal-ts/autodiff'
import { conformance, gpuTolerances } from '@frugal-ts/core/testing'
import { describe, expect, it } from 'vitest'
import { registered } from './support'

// gpu.js's WebAssembly kernels: available wherever WebAssembly is.
const { name, backend } = registered('webasm')

describe('gpujs webasm mode', () => {
  it('runs every kernel on gpu.js WebAssemblyKernel', () => {
    expect(backend.mode).toBe('webasm')
    expect(backend.gpu.mode).toBe('webasm')
  })
})

conformance(name, { tolerance: gpuTolerances.float32, autodiff: { grad, jit } })

describe('gpujs webasm mode, after the suite', () => {
  it('built no kernel on another gpu.js class', () => {
    expect(Object.keys(backend.stats().kernelModes)).toEqual(['webasm'])
  })
})
