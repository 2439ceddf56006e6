/**
 * The frugal-ts side of the adapter: one `@frugal-ts/backend-tfjs` backend per
 * tfjs namespace (registered with core under its own name the first time an
 * optimizer is made, never on import), and tfjs tensors seen as frugal-ts
 * tensors without a copy.
 * @internal
 */
import * as tfc from '@tensorflow/tfjs-core'
import { concrete, getBackend, listBackends, registerBackend, storageOf } from '@frugal-ts/core'
import type { Tensor } from '@frugal-ts/core'
import { tfjsBackend } from '@frugal-ts/backend-tfjs'
import type { TfjsBackend } from '@frugal-ts/backend-tfjs'
import { TfjsOptimizersError } from '../TfjsOptimizersError'

/** The frugal-ts backend name the adapter's tensors live on. */
export const BACKEND = 'tfjs-optimizers'

/** The adapter's backend, registered with core on first use. */
export const adapterBackend = (): TfjsBackend => {
  if (!listBackends().includes(BACKEND)) {
    const b = tfjsBackend({ tf: tfc, name: BACKEND })
    registerBackend(BACKEND, () => b)
  }
  return getBackend(BACKEND) as TfjsBackend
}

/**
 * A tfjs tensor seen as a frugal-ts tensor on the adapter's backend, without a
 * copy. The backend does not own it: releasing the view (a `scope` ending)
 * leaves the tfjs tensor alone.
 */
export const view = (backend: TfjsBackend, t: tfc.Tensor, where: string): Tensor => {
  if (t.dtype !== 'float32' && t.dtype !== 'int32' && t.dtype !== 'bool')
    throw new TfjsOptimizersError(`${where}: dtype ${t.dtype} is not supported (expected float32, int32 or bool)`)
  return concrete(backend, t, t.shape, t.dtype)
}

/** The tfjs tensor behind a frugal-ts tensor of the adapter's backend. */
export const handleOf = (t: Tensor, where: string): tfc.Tensor => {
  const st = storageOf(t, where)
  if (st.backend.name !== BACKEND)
    throw new TfjsOptimizersError(`${where}: a tensor lives on backend '${st.backend.name}', expected '${BACKEND}' (a transformation made tensors on another backend)`)
  return st.handle as tfc.Tensor
}
