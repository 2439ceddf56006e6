import type { Tensor } from '@frugal-ts/core'
import { Tree, add, cast, div, mul, pow, sqrt, sub } from '@frugal-ts/core'
import { check } from '../FrugalError'
import type { GradientTransformation, Params } from '../GradientTransformation'
import type { Hyper } from './common'
import { hyper, safeIncrement, zeroCount, zerosLikeTree } from './common'
import { checkFits } from '../internal/treeChecks'
import { checkStateKeys } from '../internal/stateChecks'
import { checkOptions } from '../internal/options'

/** Options of `scaleByAdam` (and of the `adam`/`adamw` aliases). @example scaleByAdam({ b1: 0.9, b2: 0.999, eps: 1e-8, biasCorrection: true }) */
export interface ScaleByAdamOptions {
  /** decay of the first moment, in [0, 1) (default 0.9) */
  readonly b1?: Hyper
  /** decay of the second moment, in [0, 1) (default 0.999) */
  readonly b2?: Hyper
  /** added to √v̂ in the denominator (default 1e-8) */
  readonly eps?: Hyper
  /** added to v̂ inside the square root (default 0) */
  readonly epsRoot?: Hyper
  /** divide the moments by `1 − βᵗ` (default true) */
  readonly biasCorrection?: boolean
}

/**
 * The state of `scaleByAdam`: the step count (int32 scalar) and the two moment trees.
 * @example
 * const { count, mu, nu }: ScaleByAdamState = scaleByAdam().init({ w: zeros([2]) }) // count 0, mu and nu zeros like the params
 */
export interface ScaleByAdamState {
  readonly count: Tensor
  readonly mu: Params
  readonly nu: Params
}

/** `1 − h` for a number or a scalar tensor. @example oneMinus(0.25) // 0.75 */
export const oneMinus = (h: Hyper): Hyper => (typeof h === 'number' ? 1 - h : sub(1, h))

/**
 * `decay·t + (1 − decay)·g`, the exponential moving average of optax's `update_moment`.
 * @example ema(tensor([1]), tensor([0]), 0.9) // [0.1]
 * @see optax.tree_utils.tree_update_moment
 */
export const ema = (g: Tensor, t: Tensor, decay: Hyper): Tensor => add(mul(t, decay), mul(g, oneMinus(decay)))

/** @internal Validates Adam's options; `at` names where they sit in messages. @example checkAdamOptions({ b1: 1.5 }, 'adam') // throws 'b1 must be in [0, 1), got 1.5 (at adam.b1)' */
export const checkAdamOptions = (o: ScaleByAdamOptions, at: string): void => {
  if (o.b1 !== undefined) check(o.b1, 'decay', `${at}.b1`)
  if (o.b2 !== undefined) check(o.b2, 'decay', `${at}.b2`)
  if (o.eps !== undefined) check(o.eps, 'nonNegative', `${at}.eps`)
  if (o.epsRoot !== undefined) check(o.epsRoot, 'nonNegative', `${at}.epsRoot`)
}

/**
 * Rescales updates by Adam's rule: with `m ← β₁m + (1−β₁)g`, `v ← β₂v + (1−β₂)g²`
 * and the bias-corrected `m̂ = m/(1−β₁ᵗ)`, `v̂ = v/(1−β₂ᵗ)`, the update is
 * `m̂ / (√(v̂ + epsRoot) + eps)`. Compose with `scaleByLearningRate` for Adam.
 * @param at where the options sit, for error messages (default `scaleByAdam`)
 * @example chain(scaleByAdam({ b2: 0.99 }), scaleByLearningRate(1e-3))
 * @see optax.scale_by_adam; Kingma & Ba, "Adam: A Method for Stochastic Optimization" (2014)
 */
export const scaleByAdam = (o: ScaleByAdamOptions = {}, at = 'scaleByAdam'): GradientTransformation<ScaleByAdamState> => {
  checkOptions(o, ['b1', 'b2', 'eps', 'epsRoot', 'biasCorrection'], at)
  checkAdamOptions(o, at)
  const { b1 = 0.9, b2 = 0.999, eps = 1e-8, epsRoot = 0, biasCorrection = true } = o
  return {
    init: (params) => ({ count: zeroCount(), mu: zerosLikeTree(params), nu: zerosLikeTree(params) }),
    update: (updates, state) => {
      checkStateKeys(state, ['count', 'mu', 'nu'], at, 'update')
      checkFits(updates, state.mu, `${at}.update`)
      const mu = Tree.zipWith([updates, state.mu], (g: Tensor, m: Tensor) => ema(g, m, b1))
      const nu = Tree.zipWith([updates, state.nu], (g: Tensor, v: Tensor) => ema(mul(g, g), v, b2))
      const count = safeIncrement(state.count)
      const t = cast(count, 'float32')
      // bias corrections as scalar reciprocals: one division per element instead of three
      const r1 = biasCorrection ? div(1, sub(1, pow(hyper(b1), t))) : null
      const r2 = biasCorrection ? div(1, sub(1, pow(hyper(b2), t))) : null
      const out = Tree.zipWith([mu, nu], (m: Tensor, v: Tensor) => {
        const mHat = r1 ? mul(m, r1) : m
        const vHat = r2 ? mul(v, r2) : v
        return div(mHat, add(sqrt(epsRoot === 0 ? vHat : add(vHat, epsRoot)), eps))
      })
      return { updates: out, state: { count, mu, nu } }
    },
  }
}
