/**
 * The three backends the page offers, started on first use: tfjs on WebGL
 * (`@frugal-ts/backend-tfjs` over `@tensorflow/tfjs-backend-webgl`), gpu.js on
 * WebGL2 (`@frugal-ts/backend-gpujs`), and frugal-ts's own `cpu` backend
 * (WebAssembly SIMD). A backend that cannot start here fails with a
 * `BackendUnavailable` saying what is missing and what to pick instead.
 */
import '@tensorflow/tfjs-backend-webgl'
import { getBackend, registerBackend } from '@frugal-ts/core'
import type { Backend } from '@frugal-ts/core'
import { tfjsBackend, useTfjsBackend } from '@frugal-ts/backend-tfjs'
import { gpujsBackend } from '@frugal-ts/backend-gpujs'
import type { BackendChoice } from './choices'

/** A backend that cannot run in this browser. */
export class BackendUnavailable extends Error {
  override readonly name = 'BackendUnavailable'
  /**
   * @param backend the menu entry
   * @param message what went wrong (the backend package's own message)
   * @param fix what to do about it
   */
  constructor(
    readonly backend: BackendChoice,
    message: string,
    readonly fix: string,
  ) {
    super(message)
  }
}

const noGl = (what: string) =>
  `Turn on hardware acceleration / ${what} in the browser (chrome://settings/system, chrome://gpu shows its status), or pick the "cpu" backend, which needs neither.`

const starters: Record<BackendChoice, () => Promise<void>> = {
  'tfjs-webgl': async () => {
    try {
      await useTfjsBackend('webgl', { timeoutMs: 20_000 })
    } catch (e) {
      throw new BackendUnavailable('tfjs-webgl', (e as Error).message, noGl('WebGL'))
    }
    registerBackend('tfjs-webgl', () => tfjsBackend({ backend: 'webgl', name: 'tfjs-webgl' }))
  },
  'gpujs-webgl2': async () => {
    let b: Backend
    try {
      b = gpujsBackend({ mode: 'webgl2', name: 'gpujs-webgl2' })
    } catch (e) {
      throw new BackendUnavailable('gpujs-webgl2', (e as Error).message, noGl('WebGL2'))
    }
    registerBackend('gpujs-webgl2', () => b)
  },
  cpu: async () => undefined,
}

const started = new Map<BackendChoice, Promise<Backend>>()

/**
 * Starts a backend once (later calls share the first start); a failed start
 * is forgotten, so the next call tries again.
 * @returns the frugal-ts backend, registered under its menu name
 * @throws BackendUnavailable when it cannot run here
 * @example const b = await startBackend('gpujs-webgl2')
 */
export const startBackend = (choice: BackendChoice): Promise<Backend> => {
  let p = started.get(choice)
  if (!p) {
    p = starters[choice]().then(() => getBackend(choice))
    p.catch(() => started.delete(choice))
    started.set(choice, p)
  }
  return p
}

/** One line on what a started backend runs on (renderer, cpu path). */
export const describeBackend = (b: Backend): string => {
  const x = b as Backend & { path?: string; mode?: string; tfBackend?: unknown }
  if (x.path) return x.path
  if (x.mode) return `gpu.js ${x.mode}`
  return b.name
}
