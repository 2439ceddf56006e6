/**
 * Instantiating generated kernel modules against the process heap's memory
 * (synchronously: `compile` is synchronous; kernel modules are a few KiB).
 * @internal
 */
import type { Func } from './emit'
import { moduleBytes } from './emit'
import { theHeap } from './heap'

/** A compiled kernel module (kept for worker threads, which instantiate it too) and its exports here. */
export interface Kernels {
  readonly module: WebAssembly.Module
  readonly exports: Record<string, (...args: number[]) => void>
}

/**
 * Compiles `funcs` into a module importing the heap's memory and instantiates it.
 * @example instantiate([{ name: 'run', code }]).exports.run(ptr, n)
 */
export const instantiate = (funcs: readonly Func[]): Kernels => {
  const heap = theHeap()
  const bytes = moduleBytes(funcs, { min: 1, max: heap.maxPages, shared: heap.shared })
  const module = new WebAssembly.Module(bytes)
  const instance = new WebAssembly.Instance(module, { env: { memory: heap.memory } })
  return { module, exports: instance.exports as Record<string, (...args: number[]) => void> }
}
