/**
 * What this JavaScript engine offers the WebAssembly path: SIMD (checked by
 * validating a tiny module that uses v128), shared memory (a
 * SharedArrayBuffer-backed `WebAssembly.Memory`, needed to keep tensors
 * inside wasm memory across grows and to share it with worker threads).
 * @internal
 */
import { Code, V, moduleBytes } from './emit'

/** What the engine supports, with the reason when something is missing. */
export interface WasmSupport {
  /** WebAssembly with fixed-width SIMD (v128) */
  readonly simd: boolean
  /** shared WebAssembly.Memory (SharedArrayBuffer) */
  readonly shared: boolean
  /** why `simd` or `shared` is false (empty when both are true) */
  readonly reason: string
}

let cached: WasmSupport | undefined

const simdProbe = (): Uint8Array<ArrayBuffer> => {
  const c = new Code(['i32'], ['i32'])
  c.get(0).v(V.i32x4Splat).get(0).v(V.i32x4Splat).v(V.i32x4Add).lane(V.i32x4ExtractLane, 0)
  return moduleBytes([{ name: 'f', code: c }], { min: 1, max: 1, shared: false })
}

/** Probes the engine once (cached). @example detect().simd // true on Node ≥ 16.4 */
export const detect = (): WasmSupport => {
  if (cached) return cached
  const reasons: string[] = []
  let simd = false
  let shared = false
  if (typeof WebAssembly !== 'object' || typeof WebAssembly.validate !== 'function') reasons.push('no WebAssembly')
  else {
    try {
      simd = WebAssembly.validate(simdProbe())
    } catch {
      simd = false
    }
    if (!simd) reasons.push('WebAssembly SIMD is not supported')
    try {
      shared =
        typeof SharedArrayBuffer === 'function' &&
        new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true } as WebAssembly.MemoryDescriptor).buffer instanceof SharedArrayBuffer
    } catch {
      shared = false
    }
    if (!shared) reasons.push('SharedArrayBuffer is unavailable (a page needs cross-origin isolation)')
  }
  cached = { simd, shared, reason: reasons.join('; ') }
  return cached
}
