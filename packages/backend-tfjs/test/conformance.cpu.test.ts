/**
 * The shared conformance suite on tfjs's cpu backend (tfjs-backend-cpu), against
 * the reference `cpu-js` backend of core. tfjs-cpu computes float32 elementwise ops
 * and matmul like the reference (a double result rounded to float32), so the
 * default tolerances hold: float32 rtol 1e-5 / atol 1e-6, int32 and bool exact.
 */
import '@tensorflow/tfjs-backend-cpu'
import { grad, jit } from '@frugal-ts/autodiff'
import { registerBackend } from '@frugal-ts/core'
import { conformance, tolerances } from '@frugal-ts/core/testing'
import { tfjsBackend, useTfjsBackend } from '../src/index'

await useTfjsBackend('cpu')
registerBackend('tfjs-cpu', () => tfjsBackend({ backend: 'cpu' }))

conformance('tfjs-cpu', { autodiff: { grad, jit }, tolerance: tolerances.float32 })
