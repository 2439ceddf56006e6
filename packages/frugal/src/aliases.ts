import { Tensor } from '@frugal-ts/core'
import { check } from './FrugalError'
import type { EmptyState, GradientTransformation } from './GradientTransformation'
import type { LeafSpec } from './combinators/slots'
import { chain } from './combinators/chain'
import type { ScalarOrSchedule } from './schedules'
import type { ScaleByAdamOptions, ScaleByAdamState } from './transforms/adam'
import { scaleByAdam } from './transforms/adam'
import type { ScaleByLearningRateState } from './transforms/basic'
import { identity, scaleByLearningRate, scaleBySign } from './transforms/basic'
import type { Hyper } from './transforms/common'
import type { ScaleByLionOptions, ScaleByLionState } from './transforms/lion'
import { scaleByLion } from './transforms/lion'
import type { TraceState } from './transforms/trace'
import { trace } from './transforms/trace'
import { addDecayedWeights } from './transforms/weightDecay'
import { guarded } from './internal/treeChecks'
import { checkKeys } from './internal/options'
import { FrugalError } from './FrugalError'

const ADAM_KEYS = ['b1', 'b2', 'eps', 'epsRoot']
const ADAMW_KEYS = [...ADAM_KEYS, 'weightDecay', 'mask']
const LION_KEYS = ['b1', 'b2', 'weightDecay', 'mask']
const SGD_KEYS = ['momentum', 'nesterov']

/**
 * A learning rate: a positive number, a scalar tensor (from `injectHyperparams`) or a schedule of the step count.
 * A concrete scalar tensor is read once where it enters (the factory, `setHyperparam`) and checked like a number;
 * inside `jit` it is a tracer with no value yet, so only its shape (a scalar) and dtype (float32) are checked
 * there, and a schedule's values are not read back at each step.
 * @example
 * adam(1e-3) // a number
 * adam(warmupCosineDecaySchedule({ init: 0, peak: 1e-3, warmupSteps: 100, decaySteps: 1000 })) // or a schedule
 */
export type LearningRate = ScalarOrSchedule

/**
 * Options with the learning rate inside: the one-object form every alias also accepts (what `injectHyperparams` calls).
 * @example
 * const o: WithLearningRate<AdamWOptions> = { learningRate: 1e-3, weightDecay: 0.1 }
 * adamw(o)
 */
export type WithLearningRate<O> = O & { readonly learningRate: LearningRate }

/** The learning rate and the options of either call form, the option keys checked against `known`. */
const split = <O extends object>(a: LearningRate | WithLearningRate<O>, o: O | undefined, at: string, known: readonly string[]): [LearningRate, O] => {
  if (typeof a === 'object' && a !== null && !(a instanceof Tensor)) {
    checkKeys(a, ['learningRate', ...known], at)
    if (o !== undefined) throw new FrugalError(`expected one options object or (learningRate, options), got two objects (at ${at})`)
    return [a.learningRate, a]
  }
  if (o !== undefined && (o === null || typeof o !== 'object'))
    throw new FrugalError(`options must be an object, got ${o === null ? 'null' : typeof o} (at ${at})`)
  if (o) {
    // the one-object form's learningRate, repeated in the options: accepted when it is the same value
    const repeated = (o as { learningRate?: unknown }).learningRate
    if (repeated !== undefined && repeated !== a)
      throw new FrugalError(`learningRate is given twice, as ${String(a)} and in the options as ${String(repeated)} (at ${at}.learningRate)`)
    checkKeys(o, ['learningRate', ...known], at)
  }
  return [a, o ?? ({} as O)]
}

/** Options of `sgd`. @example sgd(0.1, { momentum: 0.9, nesterov: true }) */
export interface SgdOptions {
  /** heavy-ball momentum in [0, 1); none when left out */
  readonly momentum?: Hyper
  /** Nesterov momentum (default false) */
  readonly nesterov?: boolean
}

/** The state of `sgd` and `momentum`: `[trace or empty, learning rate]`. @example const state: SgdState = sgd(0.1).init(params) */
export type SgdState = readonly [TraceState | EmptyState, ScaleByLearningRateState]

/**
 * Stochastic gradient descent, with optional (Nesterov) momentum:
 * `chain(trace | identity, scaleByLearningRate)`.
 * @example sgd(0.1, { momentum: 0.9 })
 * @see optax.sgd
 */
export function sgd(learningRate: LearningRate, options?: SgdOptions): GradientTransformation<SgdState>
export function sgd(options: WithLearningRate<SgdOptions>): GradientTransformation<SgdState>
export function sgd(a: LearningRate | WithLearningRate<SgdOptions>, b?: SgdOptions): GradientTransformation<SgdState> {
  const [lr, o] = split(a, b, 'sgd', SGD_KEYS)
  if (o.momentum !== undefined) check(o.momentum, 'decay', 'sgd.momentum')
  const head = o.momentum === undefined ? identity() : trace({ decay: o.momentum, nesterov: o.nesterov }, 'sgd')
  return guarded('sgd', chain<[GradientTransformation<TraceState | EmptyState>, GradientTransformation<ScaleByLearningRateState>]>(
    head,
    scaleByLearningRate(lr, true, 'sgd'),
  ), 2)
}

/**
 * SGD with heavy-ball momentum `m` (default 0.9): `chain(trace, scaleByLearningRate)`.
 * @example momentum(0.01, 0.9)
 * @see optax.sgd (with momentum)
 */
export function momentum(learningRate: LearningRate, m?: Hyper, options?: { readonly nesterov?: boolean }): GradientTransformation<SgdState>
export function momentum(options: WithLearningRate<SgdOptions>): GradientTransformation<SgdState>
export function momentum(a: LearningRate | WithLearningRate<SgdOptions>, m: Hyper = 0.9, options: { readonly nesterov?: boolean } = {}) {
  if (typeof a !== 'object' || a === null || a instanceof Tensor) checkKeys(options ?? {}, ['nesterov'], 'momentum')
  const [lr, o] = typeof a === 'object' && a !== null && !(a instanceof Tensor) ? split<SgdOptions>(a, undefined, 'momentum', SGD_KEYS) : [a, { momentum: m, nesterov: options.nesterov }]
  check(o.momentum ?? 0.9, 'decay', 'momentum.momentum')
  return guarded('momentum', chain(trace({ decay: o.momentum ?? 0.9, nesterov: o.nesterov }, 'momentum'), scaleByLearningRate(lr, true, 'momentum')), 2)
}

/** Options of `adam`. @example adam(1e-3, { b1: 0.9, b2: 0.95, eps: 1e-8 }) */
export type AdamOptions = Omit<ScaleByAdamOptions, 'biasCorrection'>

/**
 * The state of `adam`: `[adam moments, learning rate]`.
 * @example
 * const state: AdamState = adam(1e-3).init(params) // [{ count, mu, nu }, learning-rate state]
 */
export type AdamState = readonly [ScaleByAdamState, ScaleByLearningRateState]

/**
 * Adam: `chain(scaleByAdam, scaleByLearningRate)`.
 * @example adam(1e-3, { b2: 0.99 })
 * @see optax.adam
 */
export function adam(learningRate: LearningRate, options?: AdamOptions): GradientTransformation<AdamState>
export function adam(options: WithLearningRate<AdamOptions>): GradientTransformation<AdamState>
export function adam(a: LearningRate | WithLearningRate<AdamOptions>, b?: AdamOptions): GradientTransformation<AdamState> {
  const [lr, o] = split(a, b, 'adam', ADAM_KEYS)
  return guarded('adam', chain(scaleByAdam(pickAdam(o), 'adam'), scaleByLearningRate(lr, true, 'adam')), 2)
}

const pickAdam = (o: AdamOptions): ScaleByAdamOptions => ({ b1: o.b1, b2: o.b2, eps: o.eps, epsRoot: o.epsRoot })

/** Options of `adamw`. @example adamw(1e-3, { weightDecay: 0.1, mask: (path) => !Tree.pathString(path).includes('norm') }) */
export interface AdamWOptions extends AdamOptions {
  /** decoupled weight decay, non-negative (default 1e-4) */
  readonly weightDecay?: Hyper
  /** which leaves decay (all by default); under `injectHyperparams` list a mask function in `staticArgs` */
  readonly mask?: LeafSpec<boolean>
}

/** The state of `adamw`: `[adam moments, weight decay, learning rate]`. @example const state: AdamWState = adamw(1e-3).init(params) */
export type AdamWState = readonly [ScaleByAdamState, EmptyState, ScaleByLearningRateState]

/**
 * Adam with decoupled weight decay: `chain(scaleByAdam, addDecayedWeights, scaleByLearningRate)`.
 * @example adamw(1e-3, { weightDecay: 0.01, mask: (path, w) => w.rank >= 2 })
 * @see optax.adamw; Loshchilov & Hutter, "Decoupled Weight Decay Regularization" (2019)
 */
export function adamw(learningRate: LearningRate, options?: AdamWOptions): GradientTransformation<AdamWState>
export function adamw(options: WithLearningRate<AdamWOptions>): GradientTransformation<AdamWState>
export function adamw(a: LearningRate | WithLearningRate<AdamWOptions>, b?: AdamWOptions): GradientTransformation<AdamWState> {
  const [lr, o] = split(a, b, 'adamw', ADAMW_KEYS)
  return guarded('adamw', chain(
    scaleByAdam(pickAdam(o), 'adamw'),
    addDecayedWeights(o.weightDecay ?? 1e-4, o.mask, 'adamw'),
    scaleByLearningRate(lr, true, 'adamw'),
  ), 3)
}

/** Options of `lion`. @example lion({ learningRate: 1e-4, b1: 0.9, b2: 0.99, weightDecay: 0.1 }) */
export interface LionOptions extends ScaleByLionOptions {
  /** decoupled weight decay, non-negative (default 1e-3) */
  readonly weightDecay?: Hyper
  /** which leaves decay (all by default) */
  readonly mask?: LeafSpec<boolean>
}

/** The state of `lion`: `[lion momentum, weight decay, learning rate]`. @example const state: LionState = lion(1e-4).init(params) */
export type LionState = readonly [ScaleByLionState, EmptyState, ScaleByLearningRateState]

/**
 * Lion: `chain(scaleByLion, addDecayedWeights, scaleByLearningRate)`. Its
 * updates are signs, so it wants a learning rate 3–10× below Adam's.
 * @example lion(1e-4, { weightDecay: 0.1 })
 * @see optax.lion
 */
export function lion(learningRate: LearningRate, options?: LionOptions): GradientTransformation<LionState>
export function lion(options: WithLearningRate<LionOptions>): GradientTransformation<LionState>
export function lion(a: LearningRate | WithLearningRate<LionOptions>, b?: LionOptions): GradientTransformation<LionState> {
  const [lr, o] = split(a, b, 'lion', LION_KEYS)
  return guarded('lion', chain(
    scaleByLion({ b1: o.b1, b2: o.b2 }, 'lion'),
    addDecayedWeights(o.weightDecay ?? 1e-3, o.mask, 'lion'),
    scaleByLearningRate(lr, true, 'lion'),
  ), 3)
}

/** The state of `signSgd`: `[empty, learning rate]`. @example const state: SignSgdState = signSgd(1e-3).init(params) */
export type SignSgdState = readonly [EmptyState, ScaleByLearningRateState]

/**
 * Sign descent: `chain(scaleBySign, scaleByLearningRate)`, FRUGAL's default state-free part.
 * @example signSgd(exponentialDecay({ init: 0.1, transitionSteps: 100, decayRate: 0.5 }))
 * @see optax.contrib.sign_sgd (optax.scale_by_sign); Bernstein et al., "signSGD" (2018)
 */
export function signSgd(learningRate: LearningRate): GradientTransformation<SignSgdState>
export function signSgd(options: WithLearningRate<object>): GradientTransformation<SignSgdState>
export function signSgd(a: LearningRate | WithLearningRate<object>): GradientTransformation<SignSgdState> {
  const [lr] = split(a, undefined, 'signSgd', [])
  return guarded('signSgd', chain(scaleBySign(), scaleByLearningRate(lr, true, 'signSgd')), 2)
}

/** Options of `signum`. @example signum({ learningRate: 1e-3, momentum: 0.9 }) */
export interface SignumOptions {
  /** momentum in [0, 1) (default 0.9) */
  readonly momentum?: Hyper
}

/** The state of `signum`: `[momentum, empty, learning rate]`. @example const state: SignumState = signum(1e-3).init(params) */
export type SignumState = readonly [TraceState, EmptyState, ScaleByLearningRateState]

/**
 * Signum, sign descent on the momentum: `chain(trace, scaleBySign, scaleByLearningRate)`.
 * (`trace` sums `Σβᵏg` where Signum averages `(1−β)Σβᵏg`; the signs agree.)
 * @example signum(1e-3, { momentum: 0.9 })
 * @see optax.contrib.signum; Bernstein et al., "signSGD" (2018)
 */
export function signum(learningRate: LearningRate, options?: SignumOptions): GradientTransformation<SignumState>
export function signum(options: WithLearningRate<SignumOptions>): GradientTransformation<SignumState>
export function signum(a: LearningRate | WithLearningRate<SignumOptions>, b?: SignumOptions): GradientTransformation<SignumState> {
  const [lr, o] = split(a, b, 'signum', ['momentum'])
  check(o.momentum ?? 0.9, 'decay', 'signum.momentum')
  return guarded('signum', chain(trace({ decay: o.momentum ?? 0.9 }, 'signum'), scaleBySign(), scaleByLearningRate(lr, true, 'signum')), 3)
}

/** The hyperparameters `injectHyperparams(sgd)` makes state (the others stay static). @example injectHyperparams(sgd)({ learningRate: 1e-3 }) */
sgd.injectable = ['learningRate', 'momentum'] as readonly string[]
/** The hyperparameters `injectHyperparams(momentum)` makes state (the others stay static). @example injectHyperparams(momentum)({ learningRate: 1e-3 }) */
momentum.injectable = ['learningRate', 'momentum'] as readonly string[]
/** The hyperparameters `injectHyperparams(adam)` makes state (the others stay static). @example injectHyperparams(adam)({ learningRate: 1e-3 }) */
adam.injectable = ['learningRate', ...ADAM_KEYS] as readonly string[]
/** The hyperparameters `injectHyperparams(adamw)` makes state (the others stay static). @example injectHyperparams(adamw)({ learningRate: 1e-3 }) */
adamw.injectable = ['learningRate', ...ADAM_KEYS, 'weightDecay'] as readonly string[]
/** The hyperparameters `injectHyperparams(lion)` makes state (the others stay static). @example injectHyperparams(lion)({ learningRate: 1e-3 }) */
lion.injectable = ['learningRate', 'b1', 'b2', 'weightDecay'] as readonly string[]
/** The hyperparameters `injectHyperparams(signSgd)` makes state (the others stay static). @example injectHyperparams(signSgd)({ learningRate: 1e-3 }) */
signSgd.injectable = ['learningRate'] as readonly string[]
/** The hyperparameters `injectHyperparams(signum)` makes state (the others stay static). @example injectHyperparams(signum)({ learningRate: 1e-3 }) */
signum.injectable = ['learningRate', 'momentum'] as readonly string[]
