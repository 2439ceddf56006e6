import type { Aval, Backend, MemoryInfo, Program, TypedArray } from '@frugal-ts/core'
import { GPU } from 'gpu.js'
import type { GpujsExecutable } from './internal/compile'
import { compileProgram } from './internal/compile'
import type { GpujsHandle, GpujsStats } from './internal/device'
import { Device } from './internal/device'
import { Plans, kernelTable, readAs } from './internal/kernels'
import type { KernelMode, RequestedMode } from './internal/modes'
import { modeOfGpu, resolveMode } from './internal/modes'

/**
 * Options of `gpujsBackend`.
 * @example
 * const gpu = gpujsBackend({ mode: 'cpu', name: 'gpujs-cpu' })
 * registerBackend('gpujs-cpu', () => gpu)
 */
export interface GpujsOptions {
  /**
   * Which gpu.js kernels run: `'headlessgl'` (Node, under an X display such
   * as `xvfb-run -a`), `'webgl2'` / `'webgl'` (browsers), `'webasm'` or `'cpu'`
   * (gpu.js's WebAssembly and JavaScript kernels), or `'gpu'` (default): the
   * best of those available. A requested mode that cannot run throws; there
   * is no silent fallback.
   */
  readonly mode?: RequestedMode
  /** a gpu.js `GPU` to use (its mode is taken from it); by default the backend makes its own */
  readonly gpu?: GPU
  /** the backend's name (default `'gpujs'`): register it under the same name */
  readonly name?: string
  /**
   * Throw when gpu.js builds a kernel on another class than the mode's (its
   * silent CPU fallback), naming the reason; default true.
   */
  readonly strict?: boolean
}

/**
 * Live memory of a gpujs backend: handles, device buffers (textures on WebGL) and their bytes.
 * @example
 * gpujsBackend({ mode: 'cpu' }).memory() // { tensors: 0, buffers: 0, bytes: 0 }
 */
export interface GpujsMemoryInfo extends MemoryInfo {
  /** device buffers alive (a reshape shares its input's buffer) */
  readonly buffers: number
}

/**
 * The gpujs backend: a frugal-ts `Backend` whose tensors live in gpu.js textures (or arrays, on the CPU modes).
 * @example
 * const gpu: GpujsBackend = gpujsBackend()
 * gpu.mode // e.g. 'webgl2' in a browser, 'headlessgl' under xvfb-run, else 'webasm'
 */
export interface GpujsBackend extends Backend<GpujsHandle> {
  /** the kernel mode that runs (what `'gpu'` resolved to) */
  readonly mode: KernelMode
  /** the gpu.js instance */
  readonly gpu: GPU
  compile(program: Program): GpujsExecutable
  memory(): GpujsMemoryInfo
  /** launch and build counters */
  stats(): GpujsStats
  /** destroys the cached gpu.js kernels (and the output texture gpu.js keeps for each) */
  clearCache(): void
}

/**
 * A frugal-ts backend over gpu.js: one generated kernel per primitive and
 * shape signature (built once, cached), results kept on the GPU between
 * kernels (pipeline mode; textures are handles) and downloaded only by
 * `readSync`/`read`; `compile` fuses chains of elementwise primitives into
 * one kernel per materialized result.
 *
 * Precision: float32 everywhere (WebGL float textures). int32 and bool are
 * stored as float32: int32 arithmetic on the device is exact within ±2^24
 * (16,777,216); int32 host data beyond that (PRNG keys) round-trips exactly,
 * and primitives reading it run on the reference cpu kernels. On WebGL a
 * tensor may hold at most 2^24 elements (index math is float32).
 * @param options mode, an existing `GPU`, the name, strictness
 * @returns the backend; register it with `registerBackend(name, () => backend)`
 * @throws GpujsError when the requested mode cannot run here, saying what is missing
 * @example
 * import { registerBackend, setBackend, tensor, matmul } from '@frugal-ts/core'
 * const gl = gpujsBackend({ mode: 'headlessgl' }) // node, under xvfb-run -a
 * registerBackend('gpujs', () => gl)
 * setBackend('gpujs')
 * matmul(tensor([[1, 2]]), tensor([[3], [4]])).dataSync() // Float32Array [11]
 */
export const gpujsBackend = (options: GpujsOptions = {}): GpujsBackend => {
  const mode = options.gpu ? modeOfGpu(options.gpu) : resolveMode(options.mode ?? 'gpu')
  const gpu = options.gpu ?? new GPU({ mode })
  const dev = new Device(gpu, mode, options.strict ?? true)
  const plans = new Plans()

  const readSync = (h: GpujsHandle, _aval: Aval): TypedArray => readAs(dev, h)

  return {
    name: options.name ?? 'gpujs',
    mode,
    gpu,
    fromHost: (data, aval) => dev.handle(dev.upload(data, aval.dtype), [...aval.shape], aval.dtype),
    readSync,
    read: async (h, aval) => readSync(h, aval),
    dispose: (h) => dev.release(h),
    kernels: kernelTable(dev, plans),
    compile: (program) => compileProgram(program, dev, plans),
    memory: () => ({ ...dev.live }),
    stats: () => dev.stats(),
    clearCache: () => dev.clearCache(),
  }
}
