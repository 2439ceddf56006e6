import { grad, jit } from '@frugal-ts/autodiff'
import { conformance, gpuTolerances } from '@frugal-ts/core/testing'
import { describe, expect, it } from 'vitest'
import { registered } from './support'

// gpu.js's JavaScript kernels: always available.
const { name, backend } = registered('cpu')

describe('gpujs cpu mode', () => {
  it('runs every kernel on gpu.js CPUKernel', () => {
    expect(backend.mode).toBe('cpu')
    expect(backend.gpu.mode).toBe('cpu')
  })
})

conformance(name, { tolerance: gpuTolerances.float32, autodiff: { grad, jit } })

describe('gpujs cpu mode, after the suite', () => {
  it('built no kernel on another gpu.js class', () => {
    expect(Object.keys(backend.stats().kernelModes)).toEqual(['cpu'])
  })
})
