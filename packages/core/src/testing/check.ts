import fc from 'fast-check'
import { getBackend, withBackend } from '../Backends'
import { bind } from '../bind'
import type { MemoryInfo } from '../Backend'
import type { DType } from '../DType'
import { scope } from '../Memory'
import type { Tensor } from '../Tensor'
import type { Primitive } from '../Primitive'
import * as S from '../Shape'
import { assertAllClose } from './allClose'
import type { HostTensor } from './arbitraries'
import { toHost, toTensor } from './arbitraries'
import type { CaseInput, Variant } from './cases'
import type { Tolerance } from './tolerances'
import { checkParams, tolerances } from './tolerances'

/**
 * Options shared by the checks of the conformance suite.
 * @example checkVariant('webgl', 'exp', cases.exp[0], { tolerance: gpuTolerances.float32, numRuns: 10 } satisfies CheckOptions)
 */
export interface CheckOptions {
  /** float32 tolerance (default `tolerances.float32`; GPU backends pass `gpuTolerances.float32`) */
  readonly tolerance?: Tolerance
  /** fast-check runs per property (default `numRuns`) */
  readonly numRuns?: number
  /** fast-check seed (default `defaultSeed`) */
  readonly seed?: number
  /** the backend results are compared with (default `cpu-js`, the JS kernels: independent of the wasm path of `cpu`) */
  readonly reference?: string
}

/**
 * The default reference of every check: `cpu-js`, the cpu backend's plain JS
 * kernels (checked themselves against float64 index-by-index references in
 * core's tests), which share no code with the wasm kernels and compiled
 * programs of `cpu`, nor with any other backend.
 * @example checkVariant('webgl', 'exp', cases.exp[0], { reference: referenceBackend })
 */
export const referenceBackend = 'cpu-js'

/**
 * The tolerance for results of `dtype`: exact for int32 and bool, the given
 * float32 tolerance with its `atol` multiplied by `atolScale`.
 * @example toleranceFor('float32', { tolerance: gpuTolerances.float32 }, 8) // { rtol: 1e-4, atol: 8e-5 }
 */
export const toleranceFor = (dtype: DType, o: CheckOptions = {}, atolScale = 1): Tolerance => {
  if (dtype !== 'float32') return tolerances[dtype]
  const t = o.tolerance ?? tolerances.float32
  return { rtol: t.rtol, atol: t.atol * atolScale }
}

/**
 * Runs `fn` on backend `name` inside a `scope`; `fn` must return host data, so
 * that every tensor it made is released.
 * @example onBackend('cpu', () => toHost(add(x, y)))
 */
export const onBackend = <R>(name: string, fn: () => R): R => withBackend(name, () => scope(fn))

/**
 * A `jit` transformation (autodiff's), passed in: core does not depend on autodiff.
 * @example
 * const jitLike: JitFunction = jit // what checkVariant and conformance accept as `jit`
 */
export type JitFunction = (f: (...args: any[]) => any) => (...args: any[]) => any

/**
 * One primitive on backend `name`: builds the inputs there, binds `prim`
 * (through `jit` when given: the backend's `compile` path), reads the result
 * back, and releases everything.
 * @example evaluate('cpu', 'add', { args: [a, b], params: {} }).data
 */
export const evaluate = <P extends Primitive>(name: string, prim: P, input: CaseInput<P>, jit?: JitFunction): HostTensor =>
  onBackend(name, () => {
    const f = (...xs: Tensor[]) => bind(prim, xs, input.params)
    return toHost((jit ? jit(f) : f)(...input.args.map(toTensor)))
  })

/**
 * Throws unless `actual` has `expected`'s dtype and shape and close values.
 * @example assertHostClose(evaluate('webgl', 'exp', input), evaluate('cpu', 'exp', input), gpuTolerances.float32, 'exp')
 */
export const assertHostClose = (actual: HostTensor, expected: HostTensor, tol: Tolerance, what: string): void => {
  const shapes = `${actual.dtype}${S.show(actual.shape)} vs expected ${expected.dtype}${S.show(expected.shape)}`
  if (actual.dtype !== expected.dtype || !S.equals(actual.shape, expected.shape)) throw new Error(`${what}: got ${shapes}`)
  assertAllClose(actual.data, expected.data, tol, `${what} (${shapes})`)
}

const showMemory = (m: MemoryInfo) => `${m.tensors} tensors, ${m.bytes} bytes`

/**
 * Throws when backend `name` holds other memory after `fn` than before it.
 * @example assertNoLeak('cpu', () => onBackend('cpu', () => add(x, x).dataSync()), 'add')
 */
export const assertNoLeak = <R>(name: string, fn: () => R, what: string): R => {
  const b = getBackend(name)
  const before = b.memory()
  const r = fn()
  const after = b.memory()
  if (after.tensors !== before.tensors || after.bytes !== before.bytes)
    throw new Error(`${what}: ${name} held ${showMemory(before)} before and ${showMemory(after)} after a scope that returned no tensor`)
  return r
}

/**
 * `fc.assert` whose error message starts with the failing check's own message
 * (which op, index, values, shapes), followed by fast-check's report (seed,
 * shrunk counterexample).
 * @throws Error when the property fails
 * @example assertProperty(fc.property(arbShape(), (s) => s.length <= 4), checkParams())
 */
export const assertProperty = <T>(property: fc.IProperty<T>, params: fc.Parameters<T>): void => {
  const details = fc.check(property, params)
  if (!details.failed) return
  const cause = details.errorInstance instanceof Error ? details.errorInstance.message : String(details.errorInstance)
  throw new Error(`${cause}\n${fc.defaultReportMessage(details) ?? ''}`, { cause: details.errorInstance })
}

/**
 * Checks one variant of a primitive on fast-check inputs: the result on backend
 * `name` equals the eager result on the reference backend (dtype, shape, values
 * within tolerance), and the backend's memory returns to its value after each
 * `scope`. With `jit`, the primitive runs jitted on `name` (its `compile` path).
 * @throws the fast-check report of the first (shrunk) counterexample
 * @example checkVariant('webgl', 'matmul', cases.matmul[0], { tolerance: gpuTolerances.float32 })
 */
export const checkVariant = <P extends Primitive>(name: string, prim: P, variant: Variant<P>, o: CheckOptions = {}, jit?: JitFunction): void => {
  const ref = o.reference ?? referenceBackend
  const what = `${jit ? `jit(${prim})` : prim} (${variant.name}) on ${name} vs ${ref}`
  assertProperty(
    fc.property(variant.arb, (input) => {
      const expected = evaluate(ref, prim, input)
      const run = () => evaluate(name, prim, input, jit)
      const actual = jit ? run() : assertNoLeak(name, run, what)
      assertHostClose(actual, expected, toleranceFor(expected.dtype, o, variant.atolScale?.(input) ?? 1), what)
    }),
    checkParams(o),
  )
}
