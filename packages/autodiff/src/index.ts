/**
 * `@frugal-ts/autodiff`: tracing transformations over `@frugal-ts/core`:
 * reverse mode (`vjp`, `grad`, `valueAndGrad`), forward mode (`jvp`),
 * `stopGradient`, `jit` with a per-signature cache and backend compilation,
 * the VJP/JVP rule tables, and `nn` composites.
 * @packageDocumentation
 */
export { vjp, grad, valueAndGrad } from './vjp'
export type { GradOptions } from './vjp'
export { jvp } from './jvp'
export { jit } from './jit'
export type { JitOptions, Jitted } from './jit'
export { stopGradient } from './stopGradient'
export { vjpRules } from './rules/vjp'
export type { VjpRule } from './rules/vjp'
export { jvpRules } from './rules/jvp'
export type { JvpRule } from './rules/jvp'
export * as nn from './nn'
