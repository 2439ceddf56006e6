/**
 * `@frugal-ts/core/testing`: the shared test kit of every backend and package.
 * Tolerances and seeds in one place, `allClose`, fast-check arbitraries of
 * shapes, host tensors, pytrees and keys, and `conformance(name)`, the suite
 * every backend runs against the reference `cpu-js` backend (the JS kernels).
 * Needs the optional peer dependencies `fast-check` and `vitest`.
 * @example
 * import { conformance, gpuTolerances } from '@frugal-ts/core/testing'
 * conformance('webgl', { tolerance: gpuTolerances.float32 })
 * @packageDocumentation
 * @module @frugal-ts/core/testing
 */
export type { Tolerance } from './tolerances'
export { checkParams, defaultSeed, gpuTolerances, numRuns, tolerances } from './tolerances'
export type { Comparable } from './allClose'
export { allClose, assertAllClose } from './allClose'
export type { HostTensor, ShapeOptions, TensorOptions } from './arbitraries'
export { arbBroadcastShapes, arbKey, arbReshape, arbSeed, arbShape, arbTensor, arbTree, toHost, toTensor } from './arbitraries'
export type { Case, CaseInput, Variant } from './cases'
export { cases } from './cases'
export type { CheckOptions, JitFunction } from './check'
export { assertHostClose, assertNoLeak, assertProperty, checkVariant, evaluate, onBackend, referenceBackend, toleranceFor } from './check'
export type { AutodiffFunctions, MlpInputs, MlpParams } from './composite'
export { arbMlpInputs, checkComposite, mlpLoss, transforms } from './composite'
export type { ConformanceOptions } from './conformance'
export { conformance } from './conformance'
export { float64Backend } from './float64'
