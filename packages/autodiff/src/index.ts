/**
 * `@frugal-ts/autodiff`: tracing transformations over `@frugal-ts/core`:
 * reverse mode (`vjp`, `grad`, `valueAndGrad`), forward mode (`jvp`),
 * `stopGradient`, `jit` with a per-signature cache and backend compilation,
 * the VJP/JVP rule tables, and `nn` composites.
 * @example
 * import { sum, mul, tensor } from '@frugal-ts/core'
 * import { grad, jit } from '@frugal-ts/autodiff'
 * const df = jit(grad((x) => sum(mul(x, x))))
 * df(tensor([1, 2, 3])) // [2, 4, 6]
 * @packageDocumentation
 * @module @frugal-ts/autodiff
 */
export { vjp, grad, valueAndGrad } from './vjp'
export type { GradOptions } from './vjp'
export { jvp } from './jvp'
export { jit } from './jit'
export type { JitOptions, Jitted } from './jit'
export { groupKernels, kernelClass, kernelLabel, profile } from './profile'
export type { KernelGroup, KernelTime, Profile, ProgramTime } from './profile'
export { stopGradient } from './stopGradient'
export { vjpRules } from './rules/vjp'
export type { VjpRule } from './rules/vjp'
export { jvpRules } from './rules/jvp'
export type { JvpRule } from './rules/jvp'
/**
 * Neural-network composites built from core ops: softmax, logSumExp, crossEntropy, mse, rmsNorm, layerNorm, gelu, silu, linear, embedding, attention.
 * @example nn.crossEntropy(tensor([[2, 0, 0]]), tensor([0], 'int32')) // ≈ 0.240
 */
export * as nn from './nn'
