import type { Aval, Primitive, PrimitiveParams } from './Primitive'
import type { TypedArray } from './DType'
import type { Program } from './Program'

/**
 * A kernel: runs one primitive on backend handles and returns a new handle.
 * Inputs are never mutated. `avals` are the inputs' shapes and dtypes, `out` the output's.
 * @example
 * // the kernel of `add` on a backend whose handles are Float32Arrays (same shapes, for brevity)
 * const addKernel: Kernel<'add', Float32Array> = ([a, b]) => a.map((v, i) => v + b[i])
 */
export type Kernel<P extends Primitive, H> = (
  inputs: readonly H[],
  avals: readonly Aval[],
  params: PrimitiveParams[P],
  out: Aval,
) => H

/**
 * One kernel per primitive: leaving one out is a compile error.
 * @example
 * // a backend's kernels, one per primitive: leaving one out is a compile error
 * const partial: Partial<KernelTable<Float32Array>> = { neg: ([x]) => x.map((v) => -v) }
 */
export type KernelTable<H> = { readonly [P in Primitive]: Kernel<P, H> }

/**
 * A compiled program. `run` takes one handle per program input and per program
 * constant (in `Program.consts` order) and returns one handle per output. An
 * output that is itself an input or a constant is returned as that same handle.
 * Inputs listed in `donate` (indices into `inputs`) are handed over: the
 * executable may reuse their buffers for outputs or intermediates. The caller
 * never reads them again but still calls `dispose` on each donated handle
 * (that is not also returned as an output); a backend whose output took over a
 * donated buffer makes that `dispose` release only the handle, not the buffer.
 * @example
 * const program = jit((x: Tensor) => mul(x, 2)).lower(tensor([1]))
 * currentBackend().compile?.(program).describe // what the backend made of the program
 */
export interface Executable<H> {
  /**
   * `profile`, when given (one entry per `kernelInfo` entry), receives each
   * kernel's wall time in ms, added to its entry; without it `run` takes no time readings.
   */
  run(inputs: readonly H[], consts: readonly H[], donate?: readonly number[], profile?: Float64Array): H[]
  /**
   * The kernels a run executes, in order, as a profile names them (see
   * `run`'s `profile`). Absent where the executable cannot time its kernels.
   */
  readonly kernelInfo?: readonly KernelInfo[]
  /** a short description of what was compiled (which path, how many kernels) */
  readonly describe: string
  /**
   * Releases what the executable holds between runs (planned workspace,
   * staging buffers), so that later programs reuse that memory; `run` is not
   * called again. `jit` calls it when its cache drops the program. Absent
   * where an executable holds nothing of its own.
   */
  dispose?(): void
}

/**
 * One kernel of a compiled program, as a profile names it.
 * @example
 * const exe = currentBackend().compile!(jit((x: Tensor) => exp(mul(x, 2))).lower(tensor([1])))
 * exe.kernelInfo // [{ primitives: ['mul', 'exp'], kind: 'fused', path: 'wasm', shapes: 'f32[1] -> f32[1]' }]
 */
export interface KernelInfo {
  /** the primitives it runs, in program order (a fused group names every member) */
  readonly primitives: readonly Primitive[]
  /** `kernel`: one primitive; `fused`: an elementwise group run as one loop (or a backend's own fused kind) */
  readonly kind: string
  /** where it runs, e.g. `wasm` or `js` */
  readonly path: string
  /** its operands and results, e.g. `f32[8,64,64] f32[64,176] -> f32[8,64,176]` */
  readonly shapes: string
  /** what else distinguishes it, e.g. `Aᵀ·B` for a matmul reading its first operand transposed */
  readonly note?: string
}

/**
 * Live memory the backend holds, for leak tests and accounting.
 * @example
 * memory(currentBackend()) // { tensors, bytes }: handles alive and their bytes
 */
export interface MemoryInfo {
  /** handles alive (created and not yet disposed) */
  readonly tensors: number
  /** bytes those handles hold */
  readonly bytes: number
}

/**
 * A place tensors live and primitives run. Every backend implements every
 * primitive; `compile` is optional and receives whole traced programs (the fast path).
 * @example
 * registerBackend('mine', () => myBackend) // a Backend: kernels for every primitive, upload/read/dispose, memory()
 * withBackend('mine', () => add(tensor([1]), 1))
 */
export interface Backend<H = any> {
  readonly name: string
  /** a handle holding a copy of `data` (length = size of `aval.shape`) */
  fromHost(data: TypedArray, aval: Aval): H
  /** the handle's data as a new host array of the aval's dtype */
  readSync(handle: H, aval: Aval): TypedArray
  /** as readSync, without blocking where the backend can */
  read(handle: H, aval: Aval): Promise<TypedArray>
  /** releases the handle's memory; the handle is not used again */
  dispose(handle: H, aval: Aval): void
  /**
   * a handle of `aval` with every element `value` (already cast to the dtype),
   * made without a host array; absent means `full` fills one and uploads it
   */
  fill?(value: number, aval: Aval): H
  readonly kernels: KernelTable<H>
  /** whole-program compilation; absent means programs are interpreted op by op */
  compile?(program: Program): Executable<H>
  memory(): MemoryInfo
}
