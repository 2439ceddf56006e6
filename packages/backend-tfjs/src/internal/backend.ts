/**
 * The frugal-ts `Backend` over tfjs: handles are tfjs tensors owned by one
 * frugal-ts tensor each, kernels are the raw ops of `ops.ts` run one `tf.tidy`
 * each, and `compile` runs whole programs (see `compile.ts`).
 * @internal
 */
import * as tfDefault from '@tensorflow/tfjs-core'
import { alloc, byteSize, Shape as S } from '@frugal-ts/core'
import type { Aval, Backend, Executable, KernelTable, MemoryInfo, Primitive, Program, TypedArray } from '@frugal-ts/core'
import { TfjsBackendError } from '../TfjsBackendError'
import { compileProgram } from './compile'
import type { Host } from './compile'
import { guarded, rawOps } from './ops'
import type { RawOp } from './ops'
import type { Tf, TfTensor } from './types'

/**
 * Options of `tfjsBackend`.
 * @example tfjsBackend({ backend: 'wasm' }) // a backend named 'tfjs-wasm' that always runs on tfjs-wasm
 */
export interface TfjsBackendOptions {
  /** the tfjs namespace to use (`@tensorflow/tfjs-core` by default; `@tensorflow/tfjs` works too) */
  readonly tf?: Tf
  /** the backend's name (default `tfjs`, or `tfjs-<backend>` when `backend` is given) */
  readonly name?: string
  /**
   * Pins the tfjs backend (`'cpu'`, `'wasm'`, `'webgl'`, `'webgpu'`) this
   * frugal-ts backend runs on: before each call it makes that tfjs backend the
   * active one if it is not (it must have been started, e.g. by
   * `useTfjsBackend`). Without it, whichever tfjs backend is active is used.
   */
  readonly backend?: string
}

/**
 * A frugal-ts backend over tfjs, with `compile` and the tfjs namespace it uses.
 * @example const b: TfjsBackend = tfjsBackend(); b.tfBackend // 'cpu'
 */
export interface TfjsBackend extends Backend<TfTensor> {
  /** the tfjs namespace this backend calls */
  readonly tf: Tf
  /** the tfjs backend calls run on now (the pinned one, or the active one) */
  readonly tfBackend: string
  compile(program: Program): Executable<TfTensor>
}

/**
 * A frugal-ts `Backend` whose tensors are tfjs tensors, running on the active
 * tfjs backend (cpu or wasm in Node; webgl or webgpu in browsers) or on the
 * one pinned by `options.backend`. Every primitive is a few tfjs ops inside
 * one `tf.tidy`; `compile` runs whole jitted programs in one `tf.tidy` with
 * fused matmuls. Handles are kept out of tfjs scopes (`tf.keep`) and released
 * only by `dispose`; `memory()` counts the handles this backend holds.
 * Register it under a name to use it (nothing is registered on import).
 * @param options the tfjs namespace, the backend's name, a pinned tfjs backend
 * @returns the backend
 * @example
 * registerBackend('tfjs', () => tfjsBackend())
 * await useTfjsBackend('wasm')
 * setBackend('tfjs')
 */
export const tfjsBackend = (options: TfjsBackendOptions = {}): TfjsBackend => {
  const tf = options.tf ?? (tfDefault as unknown as Tf)
  const pinned = options.backend
  const name = options.name ?? (pinned ? `tfjs-${pinned}` : 'tfjs')
  const live = new Map<TfTensor, number>()
  let bytes = 0

  const adopt = (h: TfTensor): TfTensor => {
    tf.keep(h)
    if (!live.has(h)) {
      const b = h.size * byteSize[h.dtype as keyof typeof byteSize]
      live.set(h, b)
      bytes += b
    }
    return h
  }
  const release = (h: TfTensor): void => {
    const b = live.get(h)
    if (b === undefined) return
    live.delete(h)
    bytes -= b
    h.dispose()
  }

  const notReady = (tfName: string, cause?: unknown) =>
    new TfjsBackendError(
      `${name}: tfjs backend '${tfName}' is not ready; await useTfjsBackend('${tfName}') (or tf.setBackend and tf.ready) before using this backend`,
      { cause },
    )
  const enter = (): string => {
    let active: string | null = tf.getBackend()
    if (!pinned) {
      if (active) return active
      try {
        void tf.engine().backend // starts the best registered backend when it can start synchronously
      } catch (e) {
        throw notReady('<any>', e)
      }
      active = tf.getBackend()
      if (!active) throw notReady('<any>')
      return active
    }
    if (active === pinned) return active
    if (tf.engine().registry[pinned] === undefined) throw notReady(pinned)
    tf.setBackend(pinned).catch(() => undefined) // switches synchronously: the backend is initialised
    if (tf.getBackend() !== pinned) throw notReady(pinned)
    return pinned
  }

  const ops = rawOps(tf)
  const kernelOf = <P extends Primitive>(p: P) => {
    const op = guarded(tf, ops[p] as RawOp<P>)
    return (inputs: readonly TfTensor[], avals: readonly Aval[], params: Parameters<RawOp<P>>[2], out: Aval): TfTensor => {
      enter()
      const y = adopt(tf.tidy(() => op(inputs, avals, params, out)))
      if (y.dtype !== out.dtype || !S.equals(y.shape, out.shape)) {
        release(y)
        throw new TfjsBackendError(`${name}: ${p} gave ${y.dtype}${S.show(y.shape)}, expected ${out.dtype}${S.show(out.shape)} (a bug in @frugal-ts/backend-tfjs)`)
      }
      return y
    }
  }
  const kernels = Object.fromEntries((Object.keys(ops) as Primitive[]).map((p) => [p, kernelOf(p)])) as unknown as KernelTable<TfTensor>

  /**
   * tfjs-wasm's readSync copies out of the wasm heap, so its arrays are ours to
   * return; tfjs-cpu (and webgl's cached downloads) hand out their own storage,
   * which we copy.
   */
  const isCopy = (h: TfTensor): boolean => {
    const e = tf.engine()
    const wasm = e.registry.wasm
    return wasm !== undefined && e.state.tensorInfo.get(h.dataId)?.backend === wasm
  }
  const copyOut = (h: TfTensor, data: TypedArray, aval: Aval): TypedArray => {
    const want = alloc(aval.dtype, 0).constructor
    if (data.constructor === want && data.length === S.size(aval.shape) && isCopy(h)) return data
    const out = alloc(aval.dtype, S.size(aval.shape))
    out.set(data)
    return out
  }

  const host: Host = { tf, ops, name, enter, adopt, release }

  return {
    name,
    tf,
    get tfBackend() {
      return pinned ?? enter()
    },
    fromHost: (data, aval) => {
      enter()
      const copy = alloc(aval.dtype, S.size(aval.shape))
      copy.set(data)
      return adopt(tf.tensor(copy, [...aval.shape], aval.dtype))
    },
    readSync: (h, aval) => copyOut(h, h.dataSync() as TypedArray, aval),
    read: async (h, aval) => copyOut(h, (await h.data()) as TypedArray, aval),
    dispose: (h) => release(h),
    kernels,
    compile: (program) => compileProgram(host, program),
    memory: (): MemoryInfo => ({ tensors: live.size, bytes }),
  }
}
