/**
 * `@frugal-ts/tfjs-optimizers`: every frugal-ts optimizer as a `tf.Optimizer`
 * for TensorFlow.js — FRUGAL, GaLore, BAdam, AdamW, Lion, signSGD, Signum and
 * any `chain` — for `model.compile({ optimizer })` and `model.fit` on
 * tfjs-layers models, with the optimizer state saved and restored by
 * `model.save(…, { includeOptimizer: true })` and `tf.loadLayersModel`.
 * Nothing is registered on import: each factory registers the class with tfjs
 * serialization, and `registerOptimizers()` does it before loading a model.
 * @example
 * import * as tf from '@tensorflow/tfjs-layers'
 * import { frugal } from '@frugal-ts/tfjs-optimizers'
 * const optimizer = frugal({ learningRate: 1e-3, density: 0.25, projector: 'columns' })
 * model.compile({ optimizer, loss: 'categoricalCrossentropy', metrics: ['accuracy'] })
 * await model.fit(xs, ys, { epochs: 5, batchSize: 32 })
 * optimizer.stateBytes() // about a quarter of Adam's for the split kernels
 * @see https://arxiv.org/abs/2411.07837 (FRUGAL)
 * @packageDocumentation
 * @module @frugal-ts/tfjs-optimizers
 */
export { TransformationOptimizer } from './internal/optimizer'
export type { Recipe } from './internal/optimizer'
export type { RecipeBuilder, RecipeContext } from './internal/registry'
export { defaultVariableRule } from './internal/names'
export type { VariableRule } from './internal/names'
export {
  adam, adamw, badam, fromRecipe, fromTransformation, frugal, galore, lion, registerOptimizers, registerRecipe, signSgd, signum,
} from './internal/factories'
export type { TfjsFrugalOptions } from './internal/factories'
export { TfjsOptimizersError } from './TfjsOptimizersError'
