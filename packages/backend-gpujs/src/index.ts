/**
 * `@frugal-ts/backend-gpujs`: a frugal-ts `Backend` over gpu.js. One generated
 * kernel per primitive and shape signature, results kept on the GPU between
 * kernels (pipeline mode), and `compile` fusing chains of elementwise
 * primitives into one kernel. WebGL2/WebGL in browsers, headless-gl in Node,
 * gpu.js's WebAssembly and CPU kernels elsewhere.
 * @example
 * import { registerBackend, setBackend } from '@frugal-ts/core'
 * import { gpujsBackend } from '@frugal-ts/backend-gpujs'
 * registerBackend('gpujs', () => gpujsBackend()) // the best mode here: webgl2, headlessgl, webasm or cpu
 * setBackend('gpujs')
 * @packageDocumentation
 * @module @frugal-ts/backend-gpujs
 */
export { gpujsBackend } from './backend'
export type { GpujsBackend, GpujsMemoryInfo, GpujsOptions } from './backend'
export { GpujsError } from './GpujsError'
export { availableModes } from './internal/modes'
export type { KernelMode, RequestedMode } from './internal/modes'
export type { GpujsHandle, GpujsStats } from './internal/device'
export type { GpujsExecutable } from './internal/compile'
