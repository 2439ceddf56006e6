import type { DType } from '../DType'

/**
 * How close two numbers must be: `|actual − expected| ≤ atol + rtol·|expected|`
 * (numpy's `allclose` rule). `{ rtol: 0, atol: 0 }` means bit-for-bit equal values.
 * @example const t: Tolerance = { rtol: 1e-5, atol: 1e-6 }
 */
export interface Tolerance {
  readonly rtol: number
  readonly atol: number
}

/**
 * Tolerances of the reference `cpu-js` backend compared with itself (or with a
 * backend that computes in float32 the same way). int32 and bool results must
 * be exact. float32 allows a few ulps (2⁻²³ ≈ 1.2e-7) of relative error for
 * transcendental functions and reassociated sums.
 * @example
 * allClose(a, b, tolerances.float32)
 */
export const tolerances: Readonly<Record<DType, Tolerance>> = {
  float32: { rtol: 1e-5, atol: 1e-6 },
  int32: { rtol: 0, atol: 0 },
  bool: { rtol: 0, atol: 0 },
}

/**
 * Looser tolerances for GPU backends (WebGL / WebGPU shaders): their `exp`,
 * `log`, `pow`, `sin` and `tanh` are only accurate to about 1e-5 relative,
 * and they sum in another order. int32 and bool stay exact.
 * @example
 * conformance('webgl', { tolerance: gpuTolerances.float32 })
 */
export const gpuTolerances: Readonly<Record<DType, Tolerance>> = {
  float32: { rtol: 1e-4, atol: 1e-5 },
  int32: { rtol: 0, atol: 0 },
  bool: { rtol: 0, atol: 0 },
}

/**
 * The fast-check seed of every property in the conformance suite and the
 * package tests, so that a failure reproduces run after run.
 * @example
 * fc.assert(property, { seed: defaultSeed, numRuns })
 */
export const defaultSeed = 2411_07837

/**
 * How many random cases each property tries by default.
 * @example
 * fc.assert(property, { seed: defaultSeed, numRuns })
 */
export const numRuns = 40

/**
 * The fast-check parameters built from `defaultSeed` and `numRuns`, overridable.
 * @example
 * fc.assert(fc.property(arbShape(), (s) => s.length <= 4), checkParams())
 */
export const checkParams = (overrides: { readonly seed?: number; readonly numRuns?: number } = {}) => ({
  seed: overrides.seed ?? defaultSeed,
  numRuns: overrides.numRuns ?? numRuns,
})
