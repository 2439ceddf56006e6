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
  /**
   * relaxed SIMD's fused multiply-add (`f32x4.relaxed_madd`), which the GEMM's
   * inner loop uses when present: Chromium ≥ 114, Node ≥ 22, and Node 20 run
   * with `--experimental-wasm-relaxed-simd`
   */
  readonly fma: boolean
}

let cached: WasmSupport | undefined

const simdProbe = (): Uint8Array<ArrayBuffer> => {
  const c = new Code(['i32'], ['i32'])
  c.get(0).v(V.i32x4Splat).get(0).v(V.i32x4Splat).v(V.i32x4Add).lane(V.i32x4ExtractLane, 0)
  return moduleBytes([{ name: 'f', code: c }], { min: 1, max: 1, shared: false })
}

/** the opcode of `f32x4.relaxed_madd` (after the 0xfd prefix): a·b + c, fused where the hardware has FMA */
export const RELAXED_MADD = 0x105

const fmaProbe = (): Uint8Array<ArrayBuffer> => {
  const c = new Code(['f32'], ['f32'])
  c.get(0).v(V.f32x4Splat).get(0).v(V.f32x4Splat).get(0).v(V.f32x4Splat).v(RELAXED_MADD).lane(V.f32x4ExtractLane, 0)
  return moduleBytes([{ name: 'f', code: c }], { min: 1, max: 1, shared: false })
}

const validates = (bytes: () => Uint8Array<ArrayBuffer>): boolean => {
  try {
    return WebAssembly.validate(bytes())
  } catch {
    return false
  }
}

/** `FRUGAL_WASM_FMA=0` (or `off`, `false`) in Node's environment keeps the GEMM on separate multiply and add */
const fmaWanted = (): boolean => {
  const v = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.FRUGAL_WASM_FMA
  return v === undefined || !['0', 'off', 'false'].includes(v.toLowerCase())
}

/**
 * Node 20 has relaxed SIMD behind `--experimental-wasm-relaxed-simd` (on by
 * default from Node 22, V8 11.4): turns the flag on through `node:v8` when the
 * runtime offers `process.getBuiltinModule` (Node ≥ 20.16), before any kernel
 * module is compiled. Returns whether it could try.
 */
const enableRelaxedSimd = (): boolean => {
  const get = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process?.getBuiltinModule
  if (typeof get !== 'function') return false
  try {
    ;(get('node:v8') as { setFlagsFromString(flags: string): void }).setFlagsFromString('--experimental-wasm-relaxed-simd')
    return true
  } catch {
    return false
  }
}

/** Probes the engine once (cached). @example detect().simd // true on Node ≥ 16.4 */
export const detect = (): WasmSupport => {
  if (cached) return cached
  const reasons: string[] = []
  let simd = false
  let shared = false
  let fma = false
  if (typeof WebAssembly !== 'object' || typeof WebAssembly.validate !== 'function') reasons.push('no WebAssembly')
  else {
    simd = validates(simdProbe)
    fma = simd && fmaWanted() && (validates(fmaProbe) || (enableRelaxedSimd() && validates(fmaProbe)))
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
  cached = { simd, shared, fma, reason: reasons.join('; ') }
  return cached
}
