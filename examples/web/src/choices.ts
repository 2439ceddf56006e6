/** The menus of the form: the optimizers and the backends a run can use. */

/** The optimizers of the optimizer menu. */
export const OPTIMIZERS = {
  adam: 'Adam',
  galore: 'GaLore',
  badam: 'BAdam',
  frugal: 'FRUGAL',
} as const

/** An optimizer of the menu. */
export type OptimizerChoice = keyof typeof OPTIMIZERS

/** The backends of the backend menu (keys: their `registerBackend` names). */
export const BACKENDS = {
  'tfjs-webgl': 'tfjs · WebGL',
  'gpujs-webgl2': 'gpu.js · WebGL2',
  cpu: 'cpu · WebAssembly SIMD',
} as const

/** A backend of the menu. */
export type BackendChoice = keyof typeof BACKENDS

/** @returns whether `x` names an optimizer of the menu */
export const isOptimizerChoice = (x: string): x is OptimizerChoice => Object.hasOwn(OPTIMIZERS, x)

/** @returns whether `x` names a backend of the menu */
export const isBackendChoice = (x: string): x is BackendChoice => Object.hasOwn(BACKENDS, x)
