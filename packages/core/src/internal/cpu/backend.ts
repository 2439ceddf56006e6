/**
 * The reference and default backend `cpu`: tensors are host typed arrays,
 * every primitive is a tight typed-array loop (generated per loop pattern for
 * elementwise and movement ops, a register-blocked GEMM for matmul), and
 * `compile` runs whole programs with fused elementwise chains and planned,
 * reused buffers.
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

export type { CpuHandle } from './types'
export type { CpuExecutable } from './compile'
export { into, prepare } from './kernels'

/** Allocation counters of a cpu backend instance (for tests of buffer reuse). */
export interface CpuStats {
  /** typed arrays this backend has allocated, ever: handles, pooled buffers of compiled programs, outputs */
  readonly allocations: number
  /** their bytes */
  readonly allocatedBytes: number
}

/** The cpu backend: a `Backend` whose handles are typed arrays, with allocation counters and `compile`. */
export interface CpuBackend extends Backend<CpuHandle> {
  compile(program: Program): CpuExecutable
  /** allocation counters, for tests that check steady-state runs allocate nothing */
  stats(): CpuStats
}

/** Options of a cpu backend instance. */
export interface CpuOptions {
  /**
   * Whether compiled programs round every float32 intermediate of a fused
   * elementwise chain to float32, so that compiled results equal op-by-op
   * results bit for bit (default true). False runs fused chains in float64,
   * rounding once per stored result: faster on long chains (an Adam update:
   * about 1.6× here), and at least as accurate, but not bit-identical.
   */
  readonly exactFusion?: boolean
}

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
 */
export const cpu = (options: CpuOptions = {}): CpuBackend => {
  let tensors = 0
  let bytes = 0
  let allocations = 0
  let allocatedBytes = 0

  const allocate = (dtype: DType, n: number): CpuHandle => {
    const a = alloc(dtype, n)
    allocations++
    allocatedBytes += a.byteLength
    return a
  }
  const adopt = (h: CpuHandle): void => {
    tensors++
    bytes += h.byteLength
  }
  const fresh = (dtype: DType, n: number): CpuHandle => {
    const a = allocate(dtype, n)
    adopt(a)
    return a
  }

  const kernelOf =
    (p: Primitive) =>
    (inputs: readonly CpuHandle[], avals: readonly Aval[], params: unknown, out: Aval): CpuHandle => {
      const dst = fresh(out.dtype, S.size(out.shape))
      ;(prepare[p] as (a: readonly Aval[], q: unknown, o: Aval) => Prepared)(avals, params, out)(inputs, dst)
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
    readSync: copyOf,
    read: async (h, aval) => copyOf(h, aval),
    dispose: (h) => {
      tensors--
      bytes -= h.byteLength
    },
    kernels,
    compile: (program) => compileProgram(program, { alloc: allocate, adopt }, options.exactFusion ?? true),
    memory: (): MemoryInfo => ({ tensors, bytes }),
    stats: () => ({ allocations, allocatedBytes }),
  }
}
