import { getBackend } from './Backends'
import { concrete } from './Memory'
import { Tensor, storageOf } from './Tensor'

/**
 * A copy of `x` on the backend registered as `name` (the same tensor if it is already there).
 * @example toBackend(x, 'tfjs')
 */
export const toBackend = (x: Tensor, name: string): Tensor => {
  const target = getBackend(name)
  const st = storageOf(x, 'toBackend')
  if (st.backend === target) return x
  const data = st.backend.readSync(st.handle, x)
  return concrete(target, target.fromHost(data, x), x.shape, x.dtype)
}

/**
 * True when `x` is a concrete tensor or a tracer (of any transformation).
 * @example
 * isTensor(tensor([1])) // true
 * isTensor([1]) // false
 */
export const isTensor = (x: unknown): x is Tensor => x instanceof Tensor

/**
 * True when `x` is a concrete tensor (holds data on a backend), false for tracers inside grad/jvp/jit.
 * @example
 * isConcrete(tensor([1])) // true; false for the tracers that `grad` and `jit` pass to your function
 */
export const isConcrete = (x: Tensor): boolean => x.trace === null
