/**
 * `@frugal-ts/core`: immutable tensors, the closed primitive set with its shape
 * rules, the interpreter stack (`bind`), backends (the reference `cpu` backend
 * built in), scopes for deterministic release, pytrees, PRNG keys, host linear
 * algebra and checkpoint codecs.
 * @packageDocumentation
 */
export { CoreError } from './CoreError'
export type { DType, TypedArray } from './DType'
export { alloc, byteSize, dtypes, isDType } from './DType'
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
export type { Backend, Executable, Kernel, KernelTable, MemoryInfo } from './Backend'
export { currentBackend, getBackend, listBackends, registerBackend, setBackend, withBackend } from './Backends'
export { cpu } from './internal/cpu/backend'
export type { CpuBackend, CpuOptions } from './internal/cpu/backend'
export { concrete, dispose, keep, memory, scope } from './Memory'
export type { Const, Equation, Program, Var } from './Program'
export { evalProgram, show as showProgram } from './Program'
export * from './creation'
export * from './ops'
export { isConcrete, isTensor, toBackend } from './Convert'
export * as Tree from './Tree'
export * as Key from './Key'
export { qr, qrHost, svd, svdHost } from './linalg'
export * from './codec'
