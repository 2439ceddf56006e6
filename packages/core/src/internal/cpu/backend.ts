/**
 * The reference and default backend `cpu`: tensors are host typed arrays,
 * every primitive is a tight typed-array loop (generated per loop pattern for
 * elementwise and movement ops, a register-blocked GEMM for matmul), and
 * `compile` runs whole programs with fused elementwise chains and planned,
 * reused buffers. With `wasm: true`, `compile` emits WebAssembly SIMD
 * instead (`../wasm/`): tensors live in a shared WebAssembly.Memory, fused
 * chains, matmuls and reductions run as SIMD kernels (split across worker
 * threads when large), eager matmul takes the wasm GEMM, and the JS kernels
 * stay the reference and the fallback.
 */
import type { Backend, KernelTable, MemoryInfo } from '../../Backend'
import type { DType, TypedArray } from '../../DType'
import { alloc } from '../../DType'
import type { Aval, Primitive } from '../../Primitive'
import type { Program } from '../../Program'
import * as S from '../../Shape'
import { compileProgram } from './compile'
import type { CpuExecutable } from './compile'
import { prepare } from './kernels'
import type { CpuHandle, Prepared } from './types'
import { compileWasm } from '../wasm/compile'
import { theHeap } from '../wasm/heap'
import { lowerMatmul } from '../wasm/lower'
import { detect } from '../wasm/support'
import type { Pool } from '../wasm/threads'
import { hardwareThreads, poolOf } from '../wasm/threads'

export type { CpuHandle } from './types'
export type { CpuExecutable } from './compile'
export { into, prepare } from './kernels'

/** Allocation counters of a cpu backend instance (for tests of buffer reuse). */
export interface CpuStats {
  /** typed arrays this backend has allocated, ever: handles, pooled buffers of compiled programs, outputs */
  readonly allocations: number
  /** their bytes */
  readonly allocatedBytes: number
  /** eager kernels that ran in wasm, ever (matmul on resident tensors; every other eager kernel runs its JS loop) */
  readonly wasmKernels: number
}

/**
 * The cpu backend: a `Backend` whose handles are typed arrays, with allocation counters and `compile`.
 * @example
 * cpu({ wasm: true }).path // e.g. 'cpu/wasm-simd (tensors resident in shared wasm memory, 2 threads, fused multiply-add)', or 'cpu/js (…)' with the reason
 */
export interface CpuBackend extends Backend<CpuHandle> {
  compile(program: Program): CpuExecutable
  /** allocation counters, for tests that check steady-state runs allocate nothing */
  stats(): CpuStats
  /**
   * Which path compiled programs take, and why: `cpu/wasm-simd (…)` or
   * `cpu/js (…)` with the reason (not requested, or what the engine lacks).
   */
  readonly path: string
}

/** Options of a cpu backend instance. @example registerBackend('cpu-fast', () => cpu({ wasm: true, exactFusion: false })) */
export interface CpuOptions {
  /**
   * Whether compiled programs round every float32 intermediate of a fused
   * elementwise chain to float32, so that compiled results equal op-by-op
   * results bit for bit (default true). False runs fused chains in float64,
   * rounding once per stored result: faster on long chains (an Adam update:
   * about 1.6× here), and at least as accurate, but not bit-identical. On the
   * wasm path (which computes in float32 lanes) false lets fused divisions
   * by scalars multiply by reciprocals instead (within an ulp or two).
   */
  readonly exactFusion?: boolean
  /**
   * Compile programs to WebAssembly SIMD (default false: the JS path). Where
   * the engine has SIMD and shared memory, tensors then live in one shared
   * WebAssembly.Memory and compiled programs run on them in place; without
   * shared memory, programs copy their inputs in and outputs out; without
   * SIMD, the JS path runs and `path` says why.
   */
  readonly wasm?: boolean
  /**
   * Told once per distinct reason when a compiled step stays on the JS path
   * (an op without a SIMD lowering). Default: `console.warn`, once per process.
   */
  readonly onFallback?: (message: string) => void
  /**
   * Threads compiled wasm programs split large matmuls and elementwise loops
   * across (worker threads sharing the wasm memory; the calling thread is one
   * of them). Default: the machine's cores (at most 8). Without shared
   * memory there is one, and `path` says why.
   */
  readonly threads?: number
  /**
   * Keep tensors in the shared wasm memory (default true where there is
   * one). False keeps them in plain JS arrays; compiled wasm programs then
   * copy their inputs in and outputs out, as without SharedArrayBuffer.
   */
  readonly resident?: boolean
  /**
   * On the wasm path, run independent elementwise loops of the same shape
   * (an optimizer's per-leaf updates) as one loop (default true): fewer
   * calls and more memory streams per loop. False keeps one loop per fused
   * chain (for comparison).
   */
  readonly mergeLoops?: boolean
}

const warned = new Set<string>()
const warnOnce = (message: string): void => {
  if (warned.has(message)) return
  warned.add(message)
  console.warn(`frugal-ts cpu/wasm-simd: ${message}; that step runs on the JS path`)
}

const pathOf = (wasm: boolean, resident: boolean): { path: string; on: boolean; resident: boolean } => {
  if (!wasm) return { path: 'cpu/js (wasm not requested)', on: false, resident: false }
  const s = detect()
  if (!s.simd) return { path: `cpu/js (wasm unavailable: ${s.reason})`, on: false, resident: false }
  if (!s.shared) return { path: `cpu/wasm-simd (inputs and outputs copied: ${s.reason})`, on: true, resident: false }
  if (!resident) return { path: 'cpu/wasm-simd (inputs and outputs copied: resident tensors turned off)', on: true, resident: false }
  return { path: 'cpu/wasm-simd (tensors resident in shared wasm memory)', on: true, resident: true }
}

const threadsOf = (pool: Pool) => (pool.size > 1 ? `, ${pool.size} threads` : `, 1 thread${pool.reason ? `: ${pool.reason}` : ''}`)
const fmaOf = () => (detect().fma ? ', fused multiply-add' : '')

/**
 * A new cpu backend instance with its own memory accounting. The registry
 * creates one under the name `cpu`.
 * @param options see `CpuOptions`
 * @example
 * const b = cpu()
 * const aval = { shape: [2], dtype: 'float32' } as const
 * const h = b.fromHost(new Float32Array([1, 2]), aval)
 * b.kernels.add([h, h], [aval, aval], {}, aval) // Float32Array [2, 4]
 * b.memory() // { tensors: 2, bytes: 16 }
 * cpu({ wasm: true }).path // 'cpu/wasm-simd (tensors resident in shared wasm memory, 2 threads, fused multiply-add)'
 */
export const cpu = (options: CpuOptions = {}): CpuBackend => {
  let tensors = 0
  let bytes = 0
  let allocations = 0
  let allocatedBytes = 0
  let wasmKernels = 0
  const { path: basePath, on, resident } = pathOf(options.wasm ?? false, options.resident ?? true)
  const heap = on ? theHeap() : undefined
  let pool: Pool | undefined
  const poolNow = () => (pool ??= poolOf(options.threads ?? hardwareThreads()))
  const path = () => (on ? basePath.replace(/\)$/, `${threadsOf(poolNow())}${fmaOf()})`) : basePath)
  const onFallback = options.onFallback ?? warnOnce

  const allocate = (dtype: DType, n: number): CpuHandle => {
    const a = resident ? heap!.handle(dtype, n) : alloc(dtype, n)
    allocations++
    allocatedBytes += a.byteLength
    return a
  }
  const adopt = (h: CpuHandle): void => {
    tensors++
    bytes += h.byteLength
    if (resident) heap!.retain(h)
  }
  const block = (n: number) => {
    allocations++
    allocatedBytes += n
    return heap!.block(n)
  }
  const fresh = (dtype: DType, n: number): CpuHandle => {
    const a = allocate(dtype, n)
    adopt(a)
    return a
  }

  /** where every array is in wasm memory (or empty), their addresses; else null */
  const addresses = (arrays: readonly CpuHandle[]): number[] | null => {
    const out: number[] = []
    for (const a of arrays) {
      const off = heap!.offsetOf(a)
      if (off < 0 && a.length > 0) return null
      out.push(Math.max(0, off))
    }
    return out
  }
  const kernelOf =
    (p: Primitive) =>
    (inputs: readonly CpuHandle[], avals: readonly Aval[], params: unknown, out: Aval): CpuHandle => {
      const dst = fresh(out.dtype, S.size(out.shape))
      // eager matmul on resident handles takes the wasm GEMM too
      const at = resident && p === 'matmul' ? addresses([dst, ...inputs]) : null
      if (at) {
        lowerMatmul(avals[0], avals[1], out, false, false, poolNow())(at)
        wasmKernels++
      } else (prepare[p] as (a: readonly Aval[], q: unknown, o: Aval) => Prepared)(avals, params, out)(inputs, dst)
      return dst
    }
  const kernels = Object.fromEntries((Object.keys(prepare) as Primitive[]).map((p) => [p, kernelOf(p)])) as unknown as KernelTable<CpuHandle>

  const copyOf = (h: TypedArray, aval: Aval): TypedArray => {
    const a = alloc(aval.dtype, S.size(aval.shape))
    a.set(h)
    return a
  }

  return {
    name: 'cpu',
    fromHost: (data, aval) => {
      const h = fresh(aval.dtype, S.size(aval.shape))
      h.set(data)
      return h
    },
    fill: (value, aval) => {
      const h = fresh(aval.dtype, S.size(aval.shape))
      h.fill(value)
      return h
    },
    readSync: copyOf,
    read: async (h, aval) => copyOf(h, aval),
    dispose: (h) => {
      tensors--
      bytes -= h.byteLength
      if (resident) heap!.release(h)
    },
    kernels,
    compile: (program) => {
      const exact = options.exactFusion ?? true
      if (on) return compileWasm(program, { heap: heap!, handle: allocate, block, adopt, fallback: onFallback, pool: poolNow() }, exact, resident, options.mergeLoops ?? true)
      const exe = compileProgram(program, { alloc: allocate, adopt }, exact)
      return options.wasm ? { ...exe, describe: exe.describe.replace(/^cpu:/, `${path()}:`) } : exe
    },
    get path() {
      return path()
    },
    memory: (): MemoryInfo => ({ tensors, bytes }),
    stats: () => ({ allocations, allocatedBytes, wasmKernels }),
  }
}
