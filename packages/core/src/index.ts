/**
 * `@frugal-ts/core`: immutable tensors, the closed primitive set with its shape
 * rules, the interpreter stack (`bind`), backends (the reference `cpu` backend
 * built in), scopes for deterministic release, pytrees, PRNG keys, host linear
 * algebra and checkpoint codecs.
 * @example
 * import { add, matmul, scope, tensor } from '@frugal-ts/core'
 * const x = tensor([[1, 2], [3, 4]])
 * const y = scope(() => add(matmul(x, x), 1)) // [[8, 11], [16, 23]]; x·x is released
 * @packageDocumentation
 * @module @frugal-ts/core
 */
export { CoreError } from './CoreError'
export type { DType, TypedArray } from './DType'
export { alloc, byteSize, dtypes, isDType } from './DType'
/**
 * Shapes: one non-negative integer per axis; size, broadcasting and axis helpers.
 * @example Shape.broadcastShapes('add', [2, 1], [3]) // [2, 3]
 */
export * as Shape from './Shape'
export type { Aval, CompareOp, Primitive, PrimitiveParams, PrimitiveTable, UnaryPrimitive, BinaryPrimitive } from './Primitive'
export { binaryPrimitives, inferAval, shapeRules, unaryPrimitives } from './Primitive'
export type { NestedArray } from './Tensor'
export { Tensor } from './Tensor'
/** @internal for transformation and backend authors: the storage behind a concrete tensor */
export { storageOf } from './Tensor'
export type { Storage } from './Tensor'
export { Trace, nextLevel, withTrace } from './Trace'
export { bind } from './bind'
export type { Backend, Executable, Kernel, KernelInfo, KernelTable, MemoryInfo } from './Backend'
export { currentBackend, getBackend, listBackends, registerBackend, setBackend, withBackend } from './Backends'
export { cpu } from './internal/cpu/backend'
export type { CpuBackend, CpuOptions } from './internal/cpu/backend'
export { concrete, dispose, keep, memory, scope, scopeCreated } from './Memory'
export type { Const, Equation, Program, Var } from './Program'
export { evalProgram, show as showProgram } from './Program'
export * from './creation'
export * from './ops'
export { isConcrete, isTensor, toBackend } from './Convert'
export type { RunCheck } from './RunCheck'
export { collectRunChecks, maskRunChecks, warnIf, warnOnce } from './RunCheck'
/**
 * Pytrees: nested plain objects and arrays with tensor (or other) leaves; `map`, `zipWith`, `leaves`, `paths`, `flatten`/`unflatten`.
 * @example Tree.map({ w: tensor([1]), b: [tensor([2])] }, (t: Tensor) => add(t, 1)) // { w: [2], b: [[3]] }
 */
export * as Tree from './Tree'
/**
 * JAX-style PRNG keys (Threefry-2x32, counter-based): the same seed gives the same bits on every backend.
 * @example
 * const [k1, k2] = Key.splitKeys(Key.key(0))
 * Key.normal(k1, [2, 3]) // standard normal samples; Key.uniform(k2, [4]) in [0, 1)
 */
export * as Key from './Key'
export { qr, qrHost, svd, svdHost } from './linalg'
export * from './codec'
