/**
 * The shared conformance suite on tfjs's wasm backend (tfjs-backend-wasm), against
 * the reference `cpu-js` backend of core. tfjs-wasm computes in single precision
 * (XNNPACK matmul with its own summation order, C float `expf`/`logf`/`tanhf`),
 * yet stays within the reference tolerances: float32 rtol 1e-5 / atol 1e-6 (scaled by
 * the suite for sums and matmuls), int32 and bool exact.
 */
import { grad, jit } from '@frugal-ts/autodiff'
import { registerBackend } from '@frugal-ts/core'
import { conformance, tolerances } from '@frugal-ts/core/testing'
import { tfjsBackend } from '../src/index'
import { startWasm } from './wasm'

await startWasm()
registerBackend('tfjs-wasm', () => tfjsBackend({ backend: 'wasm' }))

conformance('tfjs-wasm', { autodiff: { grad, jit }, tolerance: tolerances.float32 })
