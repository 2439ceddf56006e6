/**
 * The tfjs types this package works with: the `@tensorflow/tfjs-core`
 * namespace (passed in or imported) and its tensors, which are our handles.
 * @internal
 */
import type * as tfc from '@tensorflow/tfjs-core'

/**
 * The `@tensorflow/tfjs-core` namespace (or `@tensorflow/tfjs`, which re-exports it).
 * @example
 * import * as tf from '@tensorflow/tfjs'
 * registerBackend('tfjs', () => tfjsBackend({ tf })) // any tfjs namespace: tfjs-core, or the @tensorflow/tfjs bundle
 */
export type Tf = typeof tfc

/**
 * A tfjs tensor: the handle of a frugal-ts tensor on this backend.
 * @example
 * const t: TfTensor = storageOf(withBackend('tfjs', () => tensor([1, 2]))).handle // the tfjs tensor behind a frugal-ts tensor
 */
export type TfTensor = tfc.Tensor
