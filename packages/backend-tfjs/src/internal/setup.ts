/**
 * Starting a tfjs backend with errors that say what is missing: an
 * unregistered backend names the package to install and import, a backend
 * that fails to start names the likely cause (no WebGPU adapter, no WebGL
 * context, .wasm files not found), and a start that never settles times out.
 * @internal
 */
import * as tfDefault from '@tensorflow/tfjs-core'
import { TfjsBackendError } from '../TfjsBackendError'
import type { Tf } from './types'

/** The tfjs backends this package knows how to explain. @example await useTfjsBackend('wasm') // after importing @tensorflow/tfjs-backend-wasm */
export type TfjsBackendName = 'cpu' | 'wasm' | 'webgl' | 'webgpu'

/**
 * Options of `useTfjsBackend`.
 * @example await useTfjsBackend('wasm', { timeoutMs: 5000 })
 */
export interface UseTfjsBackendOptions {
  /** the tfjs namespace (default `@tensorflow/tfjs-core`) */
  readonly tf?: Tf
  /** how long to wait for the backend to start before failing (default 30 000 ms) */
  readonly timeoutMs?: number
}

const isNode = (): boolean => typeof process !== 'undefined' && typeof process.versions?.node === 'string'

const packageOf = (name: string): string => `@tensorflow/tfjs-backend-${name}`

const wasmHint =
  "tfjs-backend-wasm could not load its .wasm binaries (tfjs-backend-wasm.wasm, tfjs-backend-wasm-simd.wasm, tfjs-backend-wasm-threaded-simd.wasm). Call setWasmPaths(folder) from '@tensorflow/tfjs-backend-wasm' before useTfjsBackend('wasm') with the folder or URL that serves them: in Node, `dirname(createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm')) + '/'`; with a bundler, copy them from node_modules/@tensorflow/tfjs-backend-wasm/dist/ next to your bundle"

const startHint = (name: string): string => {
  switch (name) {
    case 'webgpu':
      return isNode()
        ? 'Node has no WebGPU adapter (navigator.gpu is missing); use a browser with WebGPU, or the cpu or wasm tfjs backend in Node'
        : 'no WebGPU adapter: navigator.gpu is missing or navigator.gpu.requestAdapter() returned null (WebGPU disabled, unsupported browser, or blocklisted GPU); use the webgl, wasm or cpu tfjs backend'
    case 'webgl':
      return isNode()
        ? 'Node has no WebGL context; use the cpu or wasm tfjs backend in Node'
        : 'no WebGL context could be created (WebGL disabled or blocklisted GPU); use the wasm or cpu tfjs backend'
    case 'wasm':
      return wasmHint
    default:
      return 'its initialisation failed; tfjs printed the reason above'
  }
}

const notRegistered = (tf: Tf, name: string): string => {
  const registered = Object.keys(tf.engine().registryFactory)
  const how = ['cpu', 'wasm', 'webgl', 'webgpu'].includes(name)
    ? `install ${packageOf(name)} (same version as @tensorflow/tfjs-core) and import it once (import '${packageOf(name)}') before useTfjsBackend('${name}')`
    : `register it with tf.registerBackend('${name}', factory) first`
  const extra = name === 'webgpu' && isNode() ? `; note that ${startHint('webgpu')}` : ''
  return `tfjs backend '${name}' is not registered (registered: ${registered.length ? registered.join(', ') : 'none'}): ${how}${extra}`
}

const withTimeout = <T>(p: Promise<T>, ms: number, what: string): Promise<T> =>
  new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new TfjsBackendError(`${what} did not finish within ${ms} ms`)), ms)
    p.then(
      (v) => (clearTimeout(timer), resolve(v)),
      (e) => (clearTimeout(timer), reject(e)),
    )
  })

/**
 * Makes `name` tfjs's active backend and waits until it is ready, or fails
 * with a `TfjsBackendError` that says what is missing and how to get it (the
 * package to install and import, `setWasmPaths` for wasm's binaries, a
 * browser with WebGPU or WebGL). Never waits longer than `timeoutMs`.
 * @param name the tfjs backend: `'cpu'`, `'wasm'`, `'webgl'`, `'webgpu'` (or any registered name)
 * @returns the tfjs namespace, with `name` active
 * @throws TfjsBackendError when the backend is not registered, fails to start, or times out
 * @example
 * import '@tensorflow/tfjs-backend-wasm'
 * await useTfjsBackend('wasm')
 */
export const useTfjsBackend = async (name: TfjsBackendName | (string & {}), options: UseTfjsBackendOptions = {}): Promise<Tf> => {
  const tf = options.tf ?? (tfDefault as unknown as Tf)
  const timeoutMs = options.timeoutMs ?? 30_000
  if (!tf.findBackendFactory(name)) throw new TfjsBackendError(notRegistered(tf, name))
  const previous = tf.getBackend()
  const fail = (e: TfjsBackendError): never => {
    // tf.setBackend names the failed backend active even when it did not start: put the previous one back
    if (previous && previous !== name && tf.engine().registry[previous] !== undefined) void tf.setBackend(previous).catch(() => undefined)
    throw e
  }
  let ok = false
  try {
    ok = await withTimeout(tf.setBackend(name), timeoutMs, `starting tfjs backend '${name}'`)
  } catch (e) {
    if (e instanceof TfjsBackendError) fail(new TfjsBackendError(`${e.message}: ${startHint(name)}`, { cause: e }))
    fail(new TfjsBackendError(`tfjs backend '${name}' could not start (${e instanceof Error ? e.message : String(e)}): ${startHint(name)}`, { cause: e }))
  }
  if (!ok || tf.getBackend() !== name) fail(new TfjsBackendError(`tfjs backend '${name}' could not start: ${startHint(name)}`))
  return tf
}
