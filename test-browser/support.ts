/**
 * Shared helpers of the browser suites: the run counts provided by the config;
 * GPU backends registered without subnormal inputs, and the reference they are
 * compared with (the `cpu-js` backend (the JS kernels) with float32 subnormals flushed to zero);
 * sin/cos checked with the trig precision WebGL/WebGPU promise; chained jitted
 * training steps against the reference; and the no-leak check (a jitted MLP
 * training step repeated `noLeakSteps` times must leave every memory counter
 * where it was).
 */
import { jit, nn, valueAndGrad } from '@frugal-ts/autodiff'
import { Tree, add, dispose, fromArray, getBackend, keep, matmul, mul, registerBackend, scope, sub, withBackend } from '@frugal-ts/core'
import type { Aval, Backend, Primitive, Tensor } from '@frugal-ts/core'
import { cases, checkVariant, gpuTolerances } from '@frugal-ts/core/testing'
import type { ConformanceOptions, Tolerance, Variant } from '@frugal-ts/core/testing'
import { describe, expect, inject, it } from 'vitest'

/** fast-check runs of the conformance suite in the browser (see vitest.config.ts). */
export const runs: Pick<ConformanceOptions, 'numRuns' | 'compositeRuns'> = {
  numRuns: inject('numRuns'),
  compositeRuns: inject('compositeRuns'),
}

/** The WebGL renderer behind a context (SwiftShader's name on a machine without a GPU). */
export const rendererOf = (gl: WebGLRenderingContext | WebGL2RenderingContext): string => {
  const info = gl.getExtension('WEBGL_debug_renderer_info')
  return String(gl.getParameter(info ? info.UNMASKED_RENDERER_WEBGL : gl.RENDERER))
}

/**
 * Live WebGL textures of a context, counted from now on by wrapping
 * createTexture/deleteTexture; `created` counts every creation (so that a
 * constant `live` is known to have seen textures come and go).
 */
export const countTextures = (gl: WebGLRenderingContext | WebGL2RenderingContext) => {
  let live = 0
  let created = 0
  const create = gl.createTexture.bind(gl)
  const del = gl.deleteTexture.bind(gl)
  gl.createTexture = () => (live++, created++, create())
  gl.deleteTexture = (t) => (t && live--, del(t))
  return { live: () => live, created: () => created }
}

const minNormal = 2 ** -126

const flush = <T>(a: T): T => {
  if (a instanceof Float32Array) for (let i = 0; i < a.length; i++) if (a[i] !== 0 && Math.abs(a[i]) < minNormal) a[i] = 0
  return a
}

/**
 * Registers GPU backend `backend` under its name, with float32 subnormals
 * (|x| < 2⁻¹²⁶, which fast-check generates) flushed to zero in the host data
 * it receives. GPUs handle subnormal inputs in implementation-defined ways
 * that differ from instruction to instruction (SwiftShader flushes them in
 * `sign` and `x ≠ 0` against a tensor, not against a uniform scalar), so the
 * suite gives them none; everything else is the backend itself.
 * @returns the registered name
 */
export const registerGpuBackend = <H>(backend: Backend<H>): string => {
  const flushed: Backend<H> = { ...backend, fromHost: (data, aval) => backend.fromHost(flush(data.slice()), aval) }
  registerBackend(backend.name, () => flushed)
  return backend.name
}

/**
 * Registers `cpu-ftz`, the reference GPU backends are compared with: the
 * `cpu` backend with float32 subnormals flushed to zero in the host data it
 * receives and in every result, as GPU shaders do.
 * @returns the name to pass as `reference`
 */
export const flushToZeroReference = (): string => {
  const cpu = getBackend('cpu-js')
  const kernels = Object.fromEntries(
    Object.entries(cpu.kernels).map(([p, k]) => [p, (h: unknown, a: unknown, params: unknown, out: unknown) => flush((k as (...xs: unknown[]) => unknown)(h, a, params, out))]),
  ) as unknown as Backend['kernels']
  const ftz: Backend = { ...cpu, name: 'cpu-ftz', fromHost: (d, a: Aval) => flush(cpu.fromHost(d, a)), kernels, compile: undefined }
  registerBackend('cpu-ftz', () => ftz)
  return 'cpu-ftz'
}

/**
 * sin and cos on WebGL and WebGPU: GLSL ES and WGSL leave their precision to
 * the implementation, and Vulkan (SwiftShader's, under both) only promises an
 * absolute error of 2⁻¹¹ on [−π, π]; SwiftShader's are off by up to 1.9e-4
 * on the suite's [−7, 7], twice `gpuTolerances` there. The other primitives
 * keep `gpuTolerances.float32`.
 */
export const trigTolerance: Tolerance = { rtol: gpuTolerances.float32.rtol, atol: 2 ** -11 }

/** The primitives the conformance suite runs with `trigTolerance` instead of its own (see `trigChecks`). */
export const trig = {
  sin: 'checked below with the GPU trig tolerance (atol 2^-11)',
  cos: 'checked below with the GPU trig tolerance (atol 2^-11)',
} satisfies Partial<Record<Primitive, string>>

/**
 * The conformance checks of sin and cos (every variant, eager and jitted) on
 * backend `name`, with `trigTolerance`, against `reference`.
 */
export const trigChecks = (name: string, reference: string): void => {
  describe(`conformance: ${name} against ${reference}: sin and cos with the GPU trig tolerance`, () => {
    const check = <P extends 'sin' | 'cos'>(prim: P) => {
      for (const variant of cases[prim] as readonly Variant<P>[])
        for (const jitted of [false, true])
          it(`${jitted ? 'jit of ' : ''}${prim} (${variant.name})`, () =>
            checkVariant(name, prim, variant, { tolerance: trigTolerance, reference, ...runs }, jitted ? jit : undefined),
          )
    }
    check('sin')
    check('cos')
  })
}

type Params = { w1: Tensor; b1: Tensor; w2: Tensor; b2: Tensor }
const loss = (p: Params, x: Tensor, y: Tensor): Tensor => nn.crossEntropy(add(matmul(nn.relu(add(matmul(x, p.w1), p.b1)), p.w2), p.b2), y)

/** The MLP `train` fits: its layer sizes, batch, the scale of its initial weights, and where its data and weights come from. */
export interface Mlp {
  readonly sizes: readonly [input: number, hidden: number, output: number]
  readonly batch: number
  readonly initScale: number
  /** `n` deterministic values from `seed`, times `scale` */
  readonly values: (n: number, seed: number, scale: number) => Float32Array
}

/** The MLP of `chainedSteps` and `noLeak`: 8-16-3 on a batch of 16. */
const small: Mlp = {
  sizes: [8, 16, 3],
  batch: 16,
  initScale: 0.4,
  values: (n, seed, scale) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * 12.9898 + seed) * scale),
}

/**
 * Trains an MLP (`small` unless `mlp` says otherwise) with a jitted SGD step
 * (forward, backward and update in one compiled program, params donated, each
 * step in a `scope`) on backend `name`: `warmUp` steps, then `probe()`, then
 * `steps` more, then `probe()`.
 * @returns every step's loss, the final params on the host, and what `probe` returned before and after the `steps`
 */
export const train = <T>(name: string, warmUp: number, steps: number, probe: () => T, mlp: Mlp = small) =>
  withBackend(name, () => {
    const { sizes: [IN, HIDDEN, OUT], batch: BATCH, initScale, values } = mlp
    const step = jit(
      (p: Params, x: Tensor, y: Tensor) => {
        const [l, g] = valueAndGrad(loss)(p, x, y)
        return { loss: l, params: Tree.zipWith([p, g], (w: Tensor, d: Tensor) => sub(w, mul(d, 0.5))) as Params }
      },
      { donate: [0] },
    )
    const x = keep(fromArray(values(BATCH * IN, 3, 1), [BATCH, IN]))
    const y = keep(fromArray(Int32Array.from({ length: BATCH }, (_, i) => i % OUT), [BATCH], 'int32'))
    let params: Params = keep({
      w1: fromArray(values(IN * HIDDEN, 1, initScale), [IN, HIDDEN]),
      b1: fromArray(new Float32Array(HIDDEN), [HIDDEN]),
      w2: fromArray(values(HIDDEN * OUT, 2, initScale), [HIDDEN, OUT]),
      b2: fromArray(new Float32Array(OUT), [OUT]),
    })
    const losses: number[] = []
    const once = (): void => {
      const out = scope(() => step(params, x, y))
      params = out.params
      losses.push(out.loss.item()) // as a training loop does (tfjs-webgpu recycles buffers once the GPU is done with them)
      dispose(out.loss)
    }
    for (let i = 0; i < warmUp; i++) once()
    const before = probe()
    for (let i = 0; i < steps; i++) once()
    const after = probe()
    const final = Tree.map(params, (t: Tensor) => Array.from(t.dataSync())) as unknown as Record<keyof Params, number[]>
    dispose([params, x, y])
    return { losses, final, before, after }
  })

/** Throws, naming the first step and value that differ, unless `actual` is within `tol` of `expected`. */
const expectClose = (actual: readonly number[], expected: readonly number[], tol: Tolerance, what: string): void => {
  expect(actual.length, what).toBe(expected.length)
  actual.forEach((a, i) => {
    const e = expected[i]
    if (!(Math.abs(a - e) <= tol.atol + tol.rtol * Math.abs(e))) throw new Error(`${what}: element ${i}: ${a}, expected ${e} (rtol ${tol.rtol}, atol ${tol.atol})`)
  })
}

/**
 * Registers a test: 20 chained jitted SGD steps on backend `name` (each
 * step's params are the previous compiled call's outputs, so the programs run
 * on tensors the backend itself produced, not on fresh uploads) give the
 * reference `cpu-js` backend's loss at every step and its final params.
 */
export const chainedSteps = (name: string): void => {
  it('20 chained jitted SGD steps follow the reference cpu-js backend step by step', () => {
    const run = train(name, 0, 20, () => null)
    const ref = train('cpu-js', 0, 20, () => null)
    const tol = { rtol: 1e-3, atol: 1e-4 }
    expectClose(run.losses, ref.losses, tol, `${name} vs cpu-js: loss per step`)
    for (const k of Object.keys(ref.final) as (keyof Params)[]) expectClose(run.final[k], ref.final[k], tol, `${name} vs cpu-js: ${k} after 20 steps`)
  })
}

/**
 * Registers a test: `noLeakSteps` (200) jitted MLP training steps on backend
 * `name` leave `memory()` and every counter of `counters()` (named by `what`:
 * tf.memory(), live GL textures, ...) exactly where they were after 5 warm-up
 * steps (compilation, texture pools), and the loss goes down.
 */
export const noLeak = (name: string, what: string, counters: () => Record<string, number>): void => {
  const steps = inject('noLeakSteps')
  it(`${steps} jitted MLP training steps keep memory() and ${what} constant`, () => {
    const probe = () => ({ memory: { ...getBackend(name).memory() }, ...counters() })
    probe() // arms counters that start counting on their first call, before the warm-up
    const run = train(name, 5, steps, probe)
    const [first, last] = [run.losses[0], run.losses[run.losses.length - 1]]
    console.info(`[test-browser] ${name}: ${steps + 5} jitted steps, loss ${first.toFixed(4)} -> ${last.toFixed(4)}; ${JSON.stringify(run.after)}`)
    expect(run.after).toEqual(run.before)
    expect(last).toBeLessThan(first) // it ran real steps
  })
}
