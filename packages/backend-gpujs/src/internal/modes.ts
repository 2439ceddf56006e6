/**
 * Which gpu.js kernel class runs the backend, and why a requested one cannot.
 *
 * gpu.js silently falls back to its CPU or WebAssembly kernels when a GPU
 * context is missing; this module refuses instead, with a message naming
 * what is missing and how to get it.
 * @internal
 */
import * as gpujs from 'gpu.js'
import { CPUKernel, GPU, HeadlessGLKernel, WebAssemblyKernel, WebGL2Kernel, WebGLKernel } from 'gpu.js'
import { GpujsError } from '../GpujsError'

/** The kernel classes the backend can run on, by the name of their gpu.js mode. @example const mode: KernelMode = gpujsBackend().mode */
export type KernelMode = 'headlessgl' | 'webgl2' | 'webgl' | 'webasm' | 'cpu'

/**
 * What `gpujsBackend` accepts: a kernel mode, or `'gpu'` for the best one available.
 * @example
 * gpujsBackend({ mode: 'gpu' }) // the best available KernelMode; or name one: 'webgl2', 'cpu', …
 */
export type RequestedMode = KernelMode | 'gpu'

/** The modes whose kernels run in WebGL shaders (float32 textures, float32 index math). */
export const glModes: ReadonlySet<KernelMode> = new Set<KernelMode>(['headlessgl', 'webgl2', 'webgl'])

// HeadlessGLKernel extends WebGLKernel: match constructors exactly, not with instanceof
const classes: readonly (readonly [KernelMode | 'webgpu', unknown])[] = [
  ['headlessgl', HeadlessGLKernel],
  ['webgl2', WebGL2Kernel],
  ['webgl', WebGLKernel],
  ['webasm', WebAssemblyKernel],
  ['cpu', CPUKernel],
  ['webgpu', (gpujs as Record<string, unknown>).WebGPUKernel], // in gpu.js since 2.20, not in its typings
]

/** The mode of a gpu.js kernel instance (from its class), or its class name when unknown. */
export const modeOfKernel = (kernel: object): string =>
  classes.find(([, c]) => kernel.constructor === c)?.[0] ?? kernel.constructor.name

const buildGl =
  'build it: apt-get install -y build-essential pkg-config libxi-dev libxext-dev libx11-dev libgl1 libgl1-mesa-dri ' +
  'libglu1-mesa-dev libglew-dev xvfb xauth, allow its install script (pnpm: onlyBuiltDependencies: [gl]), then ' +
  'npm_config_nodedir=/usr JOBS=max pnpm install (or pnpm rebuild gl)'

type NodeModule = { createRequire(path: string): NodeJS.Require }

/** Why headless-gl cannot create a context here: the `gl` module is missing or unbuilt, or there is no X display. */
const whyNoHeadlessGl = (): string => {
  const proc = (globalThis as { process?: NodeJS.Process }).process
  if (!proc?.versions?.node) return "headlessgl runs only in Node (in a browser use mode 'webgl2' or 'webgl')"
  const mod = proc.getBuiltinModule?.('node:module') as NodeModule | undefined
  if (mod) {
    try {
      const req = mod.createRequire(mod.createRequire(import.meta.url).resolve('gpu.js'))
      req('gl')
    } catch (e) {
      return `the native module 'gl' (gpu.js's optional dependency) is not installed or not built (${(e as Error).message.split('\n')[0]}); ${buildGl}`
    }
  }
  const display = proc.env.DISPLAY
  return display
    ? `'gl' could not create a context on DISPLAY=${display}: is the X server running and Mesa's drivers (libgl1-mesa-dri) installed? Or run under xvfb-run -a`
    : "'gl' could not create a context: there is no X display (DISPLAY is unset); run under xvfb-run -a (e.g. xvfb-run -a npx vitest run)"
}

const unavailable = (mode: string, why: string) => new GpujsError(`gpujs: mode '${mode}' is not available: ${why}`)

const supported: Readonly<Record<KernelMode, () => boolean>> = {
  headlessgl: () => GPU.isHeadlessGLSupported,
  webgl2: () => GPU.isWebGL2Supported,
  webgl: () => GPU.isWebGLSupported,
  webasm: () => GPU.isWebAssemblySupported,
  cpu: () => true,
}

/**
 * The kernel modes that can run in this process, best first.
 * @example availableModes() // ['headlessgl', 'webasm', 'cpu'] under xvfb-run in Node
 */
export const availableModes = (): KernelMode[] =>
  (['headlessgl', 'webgl2', 'webgl', 'webasm', 'cpu'] as const).filter((m) => supported[m]())

/**
 * The mode to run: `requested` itself when it can run here, the best
 * available for `'gpu'`; never a silent fallback.
 * @throws GpujsError naming what is missing and how to get it
 */
export const resolveMode = (requested: string): KernelMode => {
  switch (requested) {
    case 'gpu':
      return availableModes()[0]
    case 'headlessgl':
      if (!supported.headlessgl()) throw unavailable(requested, whyNoHeadlessGl())
      return requested
    case 'webgl2':
    case 'webgl':
      if (!supported[requested]())
        throw unavailable(
          requested,
          typeof document === 'undefined' && typeof OffscreenCanvas === 'undefined'
            ? "it needs a browser (a canvas with a WebGL context); in Node use 'headlessgl' under xvfb-run -a"
            : `this browser gives no ${requested === 'webgl2' ? 'WebGL2' : 'WebGL'} context with float textures`,
        )
      return requested
    case 'webasm':
      if (!supported.webasm()) throw unavailable(requested, 'this runtime has no WebAssembly')
      return requested
    case 'cpu':
      return requested
    case 'webgpu':
    case 'async':
      throw unavailable(
        requested,
        "gpu.js's WebGPU kernels (and its 'async' mode) return a Promise from every call, and a frugal-ts Backend runs " +
          "kernels synchronously; use 'webgl2' in browsers or 'headlessgl' in Node",
      )
    default:
      throw new GpujsError(`gpujs: unknown mode '${requested}' (expected one of gpu, headlessgl, webgl2, webgl, webasm, cpu)`)
  }
}

/** The kernel mode a caller's GPU instance runs. @throws GpujsError for webgpu, async and dev modes */
export const modeOfGpu = (gpu: GPU): KernelMode => {
  const mode = classes.find(([, c]) => (gpu as unknown as { Kernel: unknown }).Kernel === c)?.[0]
  if (mode === undefined || mode === 'webgpu') return resolveMode(mode ?? gpu.mode)
  return mode
}
