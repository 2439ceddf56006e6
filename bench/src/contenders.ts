/**
 * The libraries under comparison and what a contender is. Each loader is
 * async and throws with a readable reason when the library cannot run here,
 * so a script can print a skipped row instead of crashing; the seeded
 * generators give every contender the same data.
 */
import { createRequire } from 'node:module'
import { dirname } from 'node:path'

const require = createRequire(import.meta.url)

/** The `@tensorflow/tfjs` namespace (the full package: tfjs-core alone registers no gradients). */
export type Tf = typeof import('@tensorflow/tfjs')
/** The `@jax-js/jax` namespace. */
export type Jax = typeof import('@jax-js/jax')
/** Our two packages. */
export interface Ours {
  readonly core: typeof import('@frugal-ts/core')
  readonly ad: typeof import('@frugal-ts/autodiff')
}
/** The `@frugal-ts/frugal` namespace. */
export type Frugal = typeof import('@frugal-ts/frugal')

/** A contender ready to run: `step` (or the promise it returns) finishes its work before returning. */
export interface Contender {
  /** untimed, before each timed step (e.g. make tfjs's global backend this contender's) */
  prepare?(): void
  step(): void | Promise<void>
  output?(): Float32Array | Promise<Float32Array>
  dispose(): void
  /** a line about what ran (e.g. the compiled program) */
  note?(): string
}

/** A named maker of a contender. */
export type Maker = readonly [name: string, make: () => Contender | Promise<Contender>]

/**
 * How a jax-js contender reads its results: `'sync'` with `dataSync` (kernels
 * on the calling thread), `'async'` with `await data()` or `blockUntilReady`
 * (in a browser, kernels on jax-js's Web Worker pool).
 */
export type JaxRead = 'sync' | 'async'

let tfPromise: Promise<Tf> | undefined
let wasmLoaded: Promise<void> | undefined

const quietTfNodeHint = (): (() => void) => {
  // tfjs prints a hint to install tfjs-node when it detects Node; it is not relevant to a pure-JS comparison
  const warn = console.warn
  const log = console.log
  const drop = (f: (...a: unknown[]) => void) => (...a: unknown[]) => {
    if (typeof a[0] === 'string' && (a[0].includes('tfjs-node') || a[0].includes('Hi there'))) return
    f(...a)
  }
  console.warn = drop(warn)
  console.log = drop(log)
  return () => {
    console.warn = warn
    console.log = log
  }
}

/** Imports `@tensorflow/tfjs` once. */
export const loadTf = (): Promise<Tf> =>
  (tfPromise ??= (async () => {
    const restore = quietTfNodeHint()
    try {
      const tf = (await import('@tensorflow/tfjs')) as Tf & { default?: Tf }
      return (tf.default ?? tf) as Tf
    } finally {
      setTimeout(restore, 0)
    }
  })())

/**
 * Makes tfjs's global backend `name`: `'cpu'` (tfjs-backend-cpu, plain JS) or
 * `'wasm'` (tfjs-backend-wasm, its .wasm binaries loaded from the package's dist folder).
 */
export const useTfBackend = async (name: 'cpu' | 'wasm'): Promise<Tf> => {
  const tf = await loadTf()
  if (name === 'wasm') {
    wasmLoaded ??= (async () => {
      const wasm = (await import('@tensorflow/tfjs-backend-wasm')) as typeof import('@tensorflow/tfjs-backend-wasm') & {
        default?: typeof import('@tensorflow/tfjs-backend-wasm')
      }
      const dist = `${dirname(require.resolve('@tensorflow/tfjs-backend-wasm'))}/`
      ;(wasm.default ?? wasm).setWasmPaths(dist)
    })()
    await wasmLoaded
  }
  const ok = await tf.setBackend(name)
  if (!ok) throw new Error(`tf.setBackend('${name}') failed`)
  await tf.ready()
  if (tf.getBackend() !== name) throw new Error(`tfjs backend is '${tf.getBackend()}', wanted '${name}'`)
  return tf
}

/**
 * A tfjs contender on `backend`: each step runs `compute` (which reads its
 * result back) inside `tf.tidy`, with tfjs's one global backend made this
 * contender's before it, untimed (both backends are started: a switch, not a
 * re-init). Tensors left behind across steps fail it at `dispose`, which
 * also releases the tensors it was built on (`owned`).
 * @example tfjsContender(tf, 'wasm', () => tf.matMul(a, b).dataSync() as Float32Array, [a, b])
 */
export const tfjsContender = (tf: Tf, backend: 'cpu' | 'wasm', compute: () => Float32Array, owned: Parameters<Tf['dispose']>[0]): Contender => {
  let out: Float32Array | undefined
  let leaked = 0
  return {
    prepare: () => void (tf.getBackend() !== backend && tf.setBackend(backend)),
    step: () => {
      const live = tf.memory().numTensors
      tf.tidy(() => void (out = compute()))
      leaked += tf.memory().numTensors - live
    },
    output: () => out!.slice(),
    dispose: () => {
      tf.dispose(owned)
      if (leaked !== 0) throw new Error(`tfjs-${backend}: ${leaked} tensors leaked across steps`)
    },
  }
}

let jaxPromise: Promise<Jax> | undefined

/** Imports `@jax-js/jax` and starts its wasm device (Node 20 needs an explicit `init('wasm')`). */
export const loadJax = (): Promise<Jax> =>
  (jaxPromise ??= (async () => {
    const jax = await import('@jax-js/jax')
    const devices = await jax.init('wasm')
    if (!devices.includes('wasm')) throw new Error(`jax-js init('wasm') gave devices [${devices.join(', ')}]`)
    jax.defaultDevice('wasm')
    return jax
  })())

let oursPromise: Promise<Ours> | undefined

/**
 * Imports `@frugal-ts/core` and `@frugal-ts/autodiff` (from source), registers
 * `cpu-1t` (the default `cpu` backend, WebAssembly SIMD, on one thread) and
 * selects it: single-thread tables compare single-thread contenders (tfjs-cpu,
 * tfjs-wasm and jax-js run on one thread in Node). Multi-thread rows use `cpu`
 * (the machine's cores) by name.
 */
export const loadOurs = (): Promise<Ours> =>
  (oursPromise ??= (async () => {
    const core = await import('@frugal-ts/core')
    const ad = await import('@frugal-ts/autodiff')
    core.registerBackend('cpu-1t', () => core.cpu({ wasm: true, threads: 1 }))
    core.setBackend('cpu-1t')
    return { core, ad }
  })())

/** Float32 values uniform in [-scale, scale) from a small seeded generator (mulberry32), so every contender gets the same data. */
export const randomFloats = (n: number, seed: number, scale = 1): Float32Array => {
  let s = seed >>> 0
  const out = new Float32Array(n)
  for (let i = 0; i < n; i++) {
    s = (s + 0x6d2b79f5) >>> 0
    let t = s
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    out[i] = ((((t ^ (t >>> 14)) >>> 0) / 4294967296) * 2 - 1) * scale
  }
  return out
}

/** `make()` on the first call, the same value on every later one: data made once, when first used. */
export const once = <T>(make: () => T): (() => T) => {
  let made: { value: T } | undefined
  return () => (made ??= { value: make() }).value
}

/** Int32 labels in [0, classes) from the same generator. */
export const randomLabels = (n: number, classes: number, seed: number): Int32Array =>
  Int32Array.from(randomFloats(n, seed), (x) => Math.min(classes - 1, Math.floor(((x + 1) / 2) * classes)))
