/**
 * Shared test support: which gpu.js modes run in this process, and a backend
 * registered per mode for the conformance suite.
 */
import type { Aval, Backend } from '@frugal-ts/core'
import { getBackend, registerBackend } from '@frugal-ts/core'
import type { GpujsBackend, KernelMode } from '../src'
import { describe, it } from 'vitest'
import { gpujsBackend } from '../src'

/** CI=true (any value but '', '0' or 'false'): what is missing fails instead of skipping. */
const ci = process.env.CI !== undefined && !['', '0', 'false'].includes(process.env.CI)

/**
 * Why `mode` cannot run in this process, or null when it can. With
 * FRUGAL_REQUIRE_GL=1 or CI=true (CI under xvfb-run) a missing headless-gl fails instead.
 */
export const unavailable = (mode: KernelMode): string | null => {
  try {
    gpujsBackend({ mode }).gpu.destroy()
    return null
  } catch (e) {
    if (mode === 'headlessgl' && (process.env.FRUGAL_REQUIRE_GL === '1' || ci)) throw new Error(`headless-gl is required (FRUGAL_REQUIRE_GL=1 or CI=true) but failed: ${(e as Error).message}`, { cause: e })
    return (e as Error).message
  }
}

/** A backend of `mode` registered as `gpujs-<mode>` (made once per test file). */
export const registered = (mode: KernelMode): { name: string; backend: GpujsBackend } => {
  const name = `gpujs-${mode}`
  const backend = gpujsBackend({ mode, name })
  registerBackend(name, () => backend)
  return { name, backend }
}

/** Smallest normal float32: WebGL shaders flush smaller magnitudes (subnormals) to zero. */
const minNormal = 1.1754943508222875e-38

const flush = <T>(a: T): T => {
  if (a instanceof Float32Array) for (let i = 0; i < a.length; i++) if (a[i] !== 0 && Math.abs(a[i]) < minNormal) a[i] = 0
  return a
}

/**
 * The reference for WebGL runs: the `cpu-js` backend (the JS kernels) with float32 subnormals
 * flushed to zero in every input and result, as GPU shaders (and WebGL float
 * textures) do. fast-check generates subnormals (1.4e-45); on a GPU
 * `sign(1.4e-45)` is 0, on the cpu it is 1.
 * @returns the registered name, `cpu-ftz`
 */
export const flushToZeroReference = (): string => {
  const cpu = getBackend('cpu-js')
  const kernels = Object.fromEntries(
    Object.entries(cpu.kernels).map(([p, k]) => [
      p,
      (h: readonly unknown[], a: readonly Aval[], params: unknown, out: Aval) =>
        flush((k as (...args: unknown[]) => unknown)(h, a, params, out)),
    ]),
  ) as unknown as Backend['kernels']
  const ref: Backend = { ...cpu, name: 'cpu-ftz', fromHost: (d, a) => flush(cpu.fromHost(d, a)), kernels, compile: undefined }
  registerBackend('cpu-ftz', () => ref)
  return 'cpu-ftz'
}

const allModes: readonly KernelMode[] = ['cpu', 'webasm', 'headlessgl']

/**
 * Registers `suite` once per gpu.js mode this package tests: cpu and webasm
 * always, headlessgl when it can run here (else a skipped block whose title
 * and a warning give the reason).
 */
export const describeModes = (title: string, suite: (mode: KernelMode) => void): void => {
  for (const mode of allModes) {
    const why = unavailable(mode)
    if (why === null) describe(`${title} [${mode}]`, () => suite(mode))
    else {
      console.warn(`[backend-gpujs] skipping "${title} [${mode}]": ${why}`)
      describe.skip(`${title} [${mode}] (skipped: ${mode} unavailable)`, () => it('needs the mode', () => {}))
    }
  }
}
