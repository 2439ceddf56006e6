import type { Backend } from './Backend'
import { CoreError } from './CoreError'
import { cpu } from './internal/cpu/backend'

type Factory = () => Backend

/**
 * Built in: `cpu`, the default, compiles programs to WebAssembly SIMD where the
 * engine has it (else it runs the JS path and its `path` says why); `cpu-js`
 * is the readable typed-array interpreter with JS-compiled programs, the reference.
 */
const factories = new Map<string, Factory>([
  ['cpu', () => cpu({ wasm: true })],
  ['cpu-js', () => cpu()],
])
const instances = new Map<string, Backend>()
let current = 'cpu'

/**
 * Makes a backend available under `name` (created on first use). Nothing is
 * registered by importing a package: call this with the backend's factory.
 * @example registerBackend('tfjs', () => tfjsBackend())
 */
export const registerBackend = (name: string, factory: Factory): void => {
  factories.set(name, factory)
  instances.delete(name)
}

/** The names of the registered backends. @example listBackends() // ['cpu', 'cpu-js', …what you registered] */
export const listBackends = (): string[] => [...factories.keys()]

/**
 * The backend registered under `name`.
 * @throws CoreError naming the unknown backend and the registered ones
 * @example getBackend('cpu-js').memory() // { tensors: …, bytes: … }
 */
export const getBackend = (name: string): Backend => {
  const made = instances.get(name)
  if (made) return made
  const factory = factories.get(name)
  if (!factory)
    throw new CoreError(`unknown backend '${name}' (registered: ${listBackends().join(', ')}); register it with registerBackend`)
  const b = factory()
  instances.set(name, b)
  return b
}

/** The backend new tensors are created on (default `cpu`). @example currentBackend().name // 'cpu' */
export const currentBackend = (): Backend => getBackend(current)

/**
 * Makes `name` the backend new tensors are created on. @throws CoreError for an unknown name
 * @example
 * registerBackend('tfjs', () => tfjsBackend())
 * setBackend('tfjs') // new tensors live on tfjs from now on
 */
export const setBackend = (name: string): void => {
  getBackend(name)
  current = name
}

/**
 * Runs `fn` with `name` as the current backend, restoring the previous one after.
 * @example
 * const y = withBackend('cpu-js', () => add(tensor([1, 2]), 1)) // [2, 3], computed by the JS reference
 */
export const withBackend = <R>(name: string, fn: () => R): R => {
  const prev = current
  setBackend(name)
  try {
    return fn()
  } finally {
    current = prev
  }
}
