/**
 * The device: a gpu.js `GPU`, its kernels (one per generated source, built
 * once and cached), the buffers they return and the accounting of both.
 *
 * Every kernel runs in pipeline mode with immutable outputs: on WebGL each
 * call returns a new float32 texture that stays on the GPU until `release`
 * deletes it; on the CPU modes it returns a new Float32Array. A buffer is
 * shared by reference count between the handles that alias it (reshape).
 * @internal
 */
import type { DType, TypedArray } from '@frugal-ts/core'
import type { GPU, IGPUKernelSettings, IKernelRunShortcut, Texture } from 'gpu.js'
import { GpujsError } from '../GpujsError'
import type { KernelMode } from './modes'
import { glModes, modeOfKernel } from './modes'
import { kernelSource } from './source'
import type { Plan, Stage } from './stage'

/** What a gpu.js kernel returns in pipeline mode: a texture (WebGL) or a Float32Array (CPU, WebAssembly). */
export type Value = Texture | Float32Array

/** Device memory shared by the handles that alias it. */
export interface Buffer {
  readonly value: Value
  /** elements */
  readonly size: number
  /** device bytes (a texture's texels × 16 bytes of RGBA float32) */
  readonly bytes: number
  refs: number
  /** exact int32 data kept on the host when some value is beyond ±2^24 (not exact as float32) */
  readonly host?: Int32Array
}

/**
 * A tensor's data on the gpujs backend: a buffer (null when empty), its shape and dtype.
 * @example
 * const gpu = gpujsBackend({ mode: 'cpu' })
 * registerBackend('gpujs', () => gpu)
 * const t = withBackend('gpujs', () => tensor([1, 2]))
 * storageOf(t).handle // a GpujsHandle: { buffer, shape, dtype }
 */
export interface GpujsHandle {
  readonly buffer: Buffer | null
  readonly shape: readonly number[]
  readonly dtype: DType
  released: boolean
}

/**
 * Launch and build counters of a backend instance.
 * @example
 * const gpu = gpujsBackend({ mode: 'cpu' })
 * gpu.stats() // launches, kernels built per kernel class, …
 */
export interface GpujsStats {
  /** generated kernels run (uploads not included) */
  readonly launches: number
  /** uploads of host data (one identity kernel each on WebGL) */
  readonly uploads: number
  /** distinct kernels built */
  readonly compiled: number
  /** kernels built, by the gpu.js kernel class (mode) that actually ran them */
  readonly kernelModes: Readonly<Record<string, number>>
}

/** Largest exact integer of float32: int32 values beyond it are not exact on the device. */
export const exactInt = 16777216

const bytesOf = (v: Value): number => {
  if (v instanceof Float32Array) return v.byteLength
  const size = (v as unknown as { size: ArrayLike<number> }).size
  return size[0] * size[1] * 16
}

/** The gpu.js device of one backend instance. */
export class Device {
  private readonly kernels = new Map<string, IKernelRunShortcut>()
  private readonly dummy = new Float32Array(1)
  private counters = { launches: 0, uploads: 0, compiled: 0 }
  private readonly kernelModes: Record<string, number> = {}
  /** live handles, live buffers, bytes of live buffers */
  live = { tensors: 0, buffers: 0, bytes: 0 }
  readonly gl: boolean

  constructor(
    readonly gpu: GPU,
    readonly mode: KernelMode,
    private readonly strict: boolean,
  ) {
    this.gl = glModes.has(mode)
  }

  stats(): GpujsStats {
    return { ...this.counters, kernelModes: { ...this.kernelModes } }
  }

  /** A new handle on `buffer` (retained). */
  handle(buffer: Buffer | null, shape: readonly number[], dtype: DType): GpujsHandle {
    if (buffer) buffer.refs++
    this.live.tensors++
    return { buffer, shape, dtype, released: false }
  }

  private adopt(value: Value, size: number, host?: Int32Array): Buffer {
    const b: Buffer = { value, size, bytes: bytesOf(value), refs: 0, host }
    this.live.buffers++
    this.live.bytes += b.bytes
    return b
  }

  /** Drops one reference to `b`, deleting its texture when it was the last. */
  unref(b: Buffer | null): void {
    if (b && --b.refs === 0) this.discard(b)
  }

  /** Deletes a buffer no handle holds. */
  discard(b: Buffer): void {
    if (b.refs !== 0) return
    b.refs = -1
    this.live.buffers--
    this.live.bytes -= b.bytes
    if (!(b.value instanceof Float32Array)) b.value.delete()
  }

  /** Releases a handle (twice is harmless). */
  release(h: GpujsHandle): void {
    if (h.released) return
    h.released = true
    this.live.tensors--
    this.unref(h.buffer)
  }

  private checkSize(n: number): void {
    if (this.gl && n > exactInt)
      throw new GpujsError(
        `gpujs(${this.mode}): a tensor of ${n} elements exceeds 2^24 = ${exactInt}: WebGL kernels index in float32, which is exact only below that; split the tensor or use mode 'cpu'/'webasm'`,
      )
  }

  /** The kernel cached under `key` (output size, argument sizes and source: gpu.js specialises a kernel to its arguments' sizes), built on first use. */
  private kernel(key: string, source: string, size: number, loops: number): IKernelRunShortcut {
    let k = this.kernels.get(key)
    if (k) return k
    try {
      const settings: IGPUKernelSettings & { loopMaxIterations: number } = {
        output: [size],
        pipeline: true,
        immutable: true,
        precision: 'single',
        optimizeFloatMemory: this.gl,
        tactic: 'precision',
        loopMaxIterations: Math.max(1000, loops + 1),
      }
      k = this.gpu.createKernel(source, settings)
    } catch (e) {
      throw new GpujsError(`gpujs(${this.mode}): gpu.js rejected a generated kernel: ${(e as Error).message}\n${source}`)
    }
    this.kernels.set(key, k)
    this.counters.compiled++
    return k
  }

  /** Runs one kernel; the first call of a kernel checks which gpu.js class built it. */
  private call(source: string, size: number, loops: number, args: readonly Value[], sizes: readonly number[]): Value {
    this.checkSize(size)
    const key = `${size}|${sizes.join(',')}|${source}`
    const k = this.kernel(key, source, size, loops)
    const first = !k.kernel.built
    let out: unknown
    try {
      out = k(...(args as never[]))
    } catch (e) {
      throw new GpujsError(`gpujs(${this.mode}): a generated kernel failed: ${(e as Error).message}\n${source}`)
    }
    if (first) {
      const ran = modeOfKernel(k.kernel)
      this.kernelModes[ran] = (this.kernelModes[ran] ?? 0) + 1
      if (this.strict && ran !== this.mode) {
        if (out && !(out instanceof Float32Array)) (out as Texture).delete()
        this.kernels.delete(key)
        const reason = (k.kernel as unknown as { fallbackReason?: string }).fallbackReason
        throw new GpujsError(`gpujs(${this.mode}): gpu.js built a kernel on '${ran}' instead${reason ? ` (${reason})` : ''}; pass strict: false to allow it\n${source}`)
      }
    }
    return typeof out === 'number' ? Float32Array.of(out) : (out as Value)
  }

  /**
   * Runs a stage of a plan on buffers (an empty buffer is passed as a 1-element
   * dummy: it is never read), and `extra`, a host array, as the last argument.
   */
  runStage(s: Stage, args: readonly (Buffer | null)[], extra?: Float32Array): Buffer {
    this.counters.launches++
    const values: Value[] = args.map((b) => b?.value ?? this.dummy)
    const sizes = args.map((b) => b?.size ?? 1)
    if (extra) (values.push(extra), sizes.push(extra.length))
    return this.adopt(this.call(s.source, s.size, s.loops, values, sizes), s.size)
  }

  /** Runs a plan on input handles; returns the output's handle. */
  runPlan(plan: Plan, inputs: readonly GpujsHandle[], shape: readonly number[], dtype: DType): GpujsHandle {
    if (plan.kind === 'empty') return this.handle(null, shape, dtype)
    if (plan.kind === 'alias') return this.handle(inputs[0].buffer, shape, dtype)
    const outs: Buffer[] = []
    plan.stages.forEach((s) => {
      outs.push(this.runStage(s, s.args.map((r) => ('input' in r ? inputs[r.input].buffer : outs[r.stage]))))
    })
    const result = this.handle(outs[outs.length - 1], shape, dtype)
    for (const b of outs) this.discard(b) // intermediates (the output is held by its handle)
    return result
  }

  /** A buffer holding a copy of host data (int32 beyond ±2^24 also kept exactly on the host). */
  upload(data: TypedArray, dtype: DType): Buffer | null {
    const n = data.length
    if (n === 0) return null
    this.checkSize(n)
    const f = Float32Array.from(data)
    let host: Int32Array | undefined
    if (dtype === 'int32' && (data as Int32Array).some((v) => v > exactInt || v < -exactInt)) host = Int32Array.from(data)
    this.counters.uploads++
    if (!this.gl) return this.adopt(f, n, host)
    return this.adopt(this.call(kernelSource(1, ['return a0[i];']), n, 0, [f], [n]), n, host)
  }

  /** The buffer's values as float32 (the caller must not keep or write the array). */
  download(b: Buffer | null): Float32Array {
    if (!b) return new Float32Array(0)
    if (b.value instanceof Float32Array) return b.value
    const a = b.value.toArray() as unknown
    return a instanceof Float32Array ? a : Float32Array.from(a as ArrayLike<number>)
  }

  /** Destroys every cached kernel (and the textures gpu.js keeps for them); later calls build them again. */
  clearCache(): void {
    for (const k of this.kernels.values()) k.destroy(false)
    this.kernels.clear()
  }
}
