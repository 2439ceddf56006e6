import { describe, expect, it } from 'vitest'
import { getBackend, withBackend } from '../Backends'
import { fromArray } from '../creation'
import { dispose, keep, scope } from '../Memory'
import { add, exp, matmul, mul, reshape, sum, transpose } from '../ops'
import type { Primitive } from '../Primitive'
import type { Tensor } from '../Tensor'
import type { Case } from './cases'
import { cases } from './cases'
import type { CheckOptions, JitFunction } from './check'
import { assertNoLeak, checkVariant, referenceBackend } from './check'
import type { AutodiffFunctions } from './composite'
import { checkComposite, transforms } from './composite'

/**
 * Options of `conformance`.
 * @example conformance('gpujs', { tolerance: gpuTolerances.float32, empty: false, skip: { scatterAdd: 'not yet' } })
 */
export interface ConformanceOptions extends CheckOptions {
  /** `grad` and `jit` of `@frugal-ts/autodiff`; without them the autodiff checks are skipped */
  readonly autodiff?: AutodiffFunctions
  /** fast-check runs of each MLP autodiff check (default 10: each one traces); jitted primitives get `numRuns`, as eager ones */
  readonly compositeRuns?: number
  /** include zero-size tensors (default true) */
  readonly empty?: boolean
  /** primitives the backend cannot run yet, with the reason (their tests are reported as skipped) */
  readonly skip?: Partial<Record<Primitive, string>>
}

const primitives = Object.keys(cases) as Primitive[]

const ramp = (n: number, shape: number[]): Tensor => fromArray(Float32Array.from({ length: n }, (_, i) => (i % 7) / 7 - 0.5), shape)

/**
 * Registers a vitest suite that checks the backend registered as `name`
 * against the reference backend (`referenceBackend`, `cpu-js`, unless
 * `options.reference` says otherwise; the tfjs `ALL_ENVS` pattern): every
 * primitive on fast-check inputs (all variants of `cases`), memory release by
 * `scope` and `dispose`, and, given `autodiff`, `grad`, `jit` and `jit(grad)`
 * of a small MLP loss and of every primitive (the backend's `compile` path,
 * with as many runs as the eager primitives). When `name` is the reference
 * itself, the eager primitives would compare code with itself: they are
 * reported as skipped, and only the compiled path is checked against them.
 * Call it at the top level of a test file, after registering the backend.
 * @param name the registered backend to test
 * @example
 * // packages/backend-webgl/test/conformance.test.ts
 * registerBackend('webgl', () => webglBackend())
 * conformance('webgl', { tolerance: gpuTolerances.float32, autodiff: { grad, jit } })
 */
export const conformance = (name: string, options: ConformanceOptions = {}): void => {
  const ref = options.reference ?? referenceBackend
  describe(`conformance: ${name} against ${ref}`, () => {
    const self = name === ref ? `${name} is its own reference` : undefined
    const primitiveSuite = (jit?: JitFunction) => () => {
      for (const prim of primitives)
        describe(prim, () => {
          for (const variant of cases[prim] as Case<Primitive>) {
            const skip =
              options.skip?.[prim] ?? (variant.empty && options.empty === false ? 'empty tensors excluded' : jit ? undefined : self)
            const title = skip === undefined ? variant.name : `${variant.name} (skipped: ${skip})`
            ;(skip === undefined ? it : it.skip)(title, () => checkVariant(name, prim, variant, options, jit))
          }
        })
    }

    describe('primitives', primitiveSuite())

    describe('memory', () => {
      it('scope releases every tensor it made and did not return', () => {
        assertNoLeak(name, () => withBackend(name, () => scope(() => {
          const x = ramp(12, [3, 4])
          sum(exp(matmul(x, transpose(add(mul(x, 2), 1))))).dataSync()
        })), 'scope')
      })

      it('returned tensors survive the scope; dispose releases them, twice is harmless', () => {
        const b = getBackend(name)
        const before = b.memory()
        const y = withBackend(name, () => scope(() => reshape(mul(ramp(6, [6]), 3), [2, 3])))
        expect(y.isDisposed).toBe(false)
        expect(b.memory().tensors).toBe(before.tensors + 1)
        expect(Array.from(y.dataSync())).toEqual(Array.from({ length: 6 }, (_, i) => Math.fround(Math.fround((i % 7) / 7 - 0.5) * 3)))
        dispose(y)
        dispose(y)
        expect(y.isDisposed).toBe(true)
        expect(b.memory()).toEqual(before)
      })

      it('keep takes a tensor out of the scope', () => {
        const b = getBackend(name)
        const before = b.memory()
        let kept: Tensor | undefined
        withBackend(name, () => scope(() => {
          kept = keep(add(ramp(4, [4]), 1))
          add(kept, kept)
        }))
        expect(kept?.isDisposed).toBe(false)
        expect(b.memory().tensors).toBe(before.tensors + 1)
        dispose(kept)
        expect(b.memory()).toEqual(before)
      })
    })

    describe('autodiff', () => {
      const ad = options.autodiff
      for (const kind of Object.keys(transforms).filter((k) => k !== 'eager')) {
        const skip = !ad ? 'pass options.autodiff' : kind === 'grad' ? self : undefined
        ;(skip === undefined ? it : it.skip)(`${kind} of an MLP loss${skip === undefined ? '' : ` (skipped: ${skip})`}`, () =>
          checkComposite(name, kind, ad as AutodiffFunctions, { ...options, numRuns: options.compositeRuns ?? 10 }),
        )
      }
      if (ad) describe('jit of every primitive', primitiveSuite(ad.jit))
    })
  })
}
