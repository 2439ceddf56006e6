import type { Backend, MemoryInfo } from './Backend'
import type { Storage } from './Tensor'
import { Tensor } from './Tensor'

const frames: Set<Tensor>[] = []

/** @internal records a new concrete tensor in the innermost scope */
export const track = (t: Tensor): Tensor => {
  if (frames.length > 0) frames[frames.length - 1].add(t)
  return t
}

/** @internal wraps a backend handle as a concrete tensor, tracked by the innermost scope */
export const concrete = (backend: Backend, handle: unknown, shape: readonly number[], dtype: Tensor['dtype']): Tensor =>
  track(new Tensor(shape, dtype, null, { backend, handle, released: false } satisfies Storage))

const collect = (x: unknown, out: Set<Tensor>, seen = new Set<unknown>()): void => {
  if (x instanceof Tensor) out.add(x)
  else if (x !== null && typeof x === 'object' && !ArrayBuffer.isView(x) && !seen.has(x)) {
    seen.add(x)
    for (const v of Object.values(x)) collect(v, out, seen)
  }
}

const release = (t: Tensor): void => {
  if (t.trace !== null) return
  const st = t.payload as Storage
  if (st.released) return
  st.released = true
  st.backend.dispose(st.handle, t)
}

/**
 * Runs `fn` and releases every concrete tensor created inside it that is not
 * part of its result (like `tf.tidy`); the result's tensors move to the
 * enclosing scope. `fn` must be synchronous.
 * @example
 * const y = scope(() => add(mul(x, x), 1)) // the intermediate x*x is released
 */
export const scope = <R>(fn: () => R): R => {
  const frame = new Set<Tensor>()
  frames.push(frame)
  let result: R
  try {
    result = fn()
  } catch (e) {
    frames.pop()
    for (const t of frame) release(t)
    throw e
  }
  frames.pop()
  const kept = new Set<Tensor>()
  collect(result, kept)
  for (const t of frame) if (!kept.has(t)) release(t)
  const parent = frames[frames.length - 1]
  if (parent) for (const t of kept) if (frame.has(t)) parent.add(t)
  return result
}

/**
 * Runs `fn` like `scope`, but releases nothing itself: returns the result and
 * every concrete tensor created inside `fn`, which the caller now owns (for
 * caches, such as `jit`'s captured constants, that free them later).
 * @example
 * const [y, created] = scopeCreated(() => add(x, 1)) // created holds y and the constant 1
 */
export const scopeCreated = <R>(fn: () => R): [R, Set<Tensor>] => {
  const frame = new Set<Tensor>()
  frames.push(frame)
  try {
    return [fn(), frame]
  } catch (e) {
    for (const t of frame) release(t)
    throw e
  } finally {
    frames.pop()
  }
}

/**
 * Takes tensors out of the innermost scope so it does not release them. Returns its argument.
 * @example
 * let w: Tensor = tensor([0])
 * scope(() => {
 *   w = keep(add(w, 1)) // survives the scope
 *   return null
 * })
 */
export const keep = <R>(tree: R): R => {
  const ts = new Set<Tensor>()
  collect(tree, ts)
  for (const f of frames) for (const t of ts) f.delete(t)
  return tree
}

/**
 * Releases the memory of every concrete tensor in `tree` (any nesting of
 * objects and arrays). Disposing twice is harmless.
 * @example
 * const t = tensor([1, 2])
 * dispose(t) // released now; reading it throws a CoreError
 */
export const dispose = (tree: unknown): void => {
  const ts = new Set<Tensor>()
  collect(tree, ts)
  for (const t of ts) {
    release(t)
    for (const f of frames) f.delete(t)
  }
}

/** The live memory of a backend (handles and bytes). @example memory(currentBackend()) // { tensors, bytes }: the handles the backend holds */
export const memory = (backend: Backend): MemoryInfo => backend.memory()
