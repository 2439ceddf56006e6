/**
 * `@frugal-ts/backend-tfjs`: a frugal-ts `Backend` over `@tensorflow/tfjs-core`.
 * It runs on whichever tfjs backend is active (cpu or wasm in Node, webgl or
 * webgpu in browsers) or on a pinned one; every primitive is a few tfjs ops,
 * and `compile` runs whole jitted programs in one `tf.tidy` with fused
 * matmuls. Nothing is registered on import:
 * @example
 * import { registerBackend, setBackend } from '@frugal-ts/core'
 * import { tfjsBackend, useTfjsBackend } from '@frugal-ts/backend-tfjs'
 * import '@tensorflow/tfjs-backend-cpu'
 * await useTfjsBackend('cpu')
 * registerBackend('tfjs', () => tfjsBackend())
 * setBackend('tfjs')
 * @packageDocumentation
 * @module @frugal-ts/backend-tfjs
 */
export { tfjsBackend } from './internal/backend'
export type { TfjsBackend, TfjsBackendOptions } from './internal/backend'
export { useTfjsBackend } from './internal/setup'
export type { TfjsBackendName, UseTfjsBackendOptions } from './internal/setup'
export type { Tf, TfTensor } from './internal/types'
export { TfjsBackendError } from './TfjsBackendError'
