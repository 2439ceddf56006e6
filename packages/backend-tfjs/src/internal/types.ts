/**
 * The tfjs types this package works with: the `@tensorflow/tfjs-core`
 * namespace (passed in or imported) and its tensors, which are our handles.
 * @internal
 */
import type * as tfc from '@tensorflow/tfjs-core'

/** The `@tensorflow/tfjs-core` namespace (or `@tensorflow/tfjs`, which re-exports it). */
export type Tf = typeof tfc

/** A tfjs tensor: the handle of a frugal-ts tensor on this backend. */
export type TfTensor = tfc.Tensor
