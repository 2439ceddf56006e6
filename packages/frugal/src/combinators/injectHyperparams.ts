import type { Tensor } from '@frugal-ts/core'
import { full } from '@frugal-ts/core'
import { FrugalError } from '../FrugalError'
import type { GradientTransformation, Params } from '../GradientTransformation'
import type { Schedule } from '../schedules'
import { safeIncrement, zeroCount } from '../transforms/common'

/**
 * The state of `injectHyperparams`: the step count, the current hyperparameters as float32 scalars, and the inner state.
 * @example
 * const state = injectHyperparams(adam)({ learningRate: 1e-3 }).init(params)
 * state.hyperparams.learningRate.item() // 0.001
 */
export interface InjectHyperparamsState<S> {
  readonly count: Tensor
  readonly hyperparams: Readonly<Record<string, Tensor>>
  readonly inner: S
}

/**
 * Options of `injectHyperparams`.
 * @example
 * injectHyperparams(adamw, { staticArgs: ['mask'] })({ learningRate: 1e-3, mask: (path) => path[0] !== 'embed' })
 */
export interface InjectHyperparamsOptions<H> {
  /** hyperparameters passed to the factory as they are, even numbers and functions (e.g. a `mask` function) */
  readonly staticArgs?: readonly (keyof H & string)[]
}

/**
 * The hyperparameters `injectHyperparams` accepts: those of the factory, where a numeric one may also be a schedule.
 * @example
 * injectHyperparams(adam)({ learningRate: linearSchedule({ init: 1e-3, end: 0, transitionSteps: 1000 }) }) // a number or a schedule
 */
export type Injectable<H> = { [K in keyof H]: number extends H[K] ? H[K] | Schedule : H[K] }

/**
 * Makes the numeric hyperparameters of an optimizer factory part of its
 * state (float32 scalar tensors), so they can be read and changed between
 * steps (`setHyperparam`) without rebuilding or re-jitting the optimizer.
 * Numbers become state; functions are schedules, evaluated at the step count
 * into the state each step; everything else, and the `staticArgs`, is passed
 * to the factory as it is. The factory takes one options object and must
 * accept scalar tensors for the injected hyperparameters (all building blocks
 * and aliases here do; integer hyperparameters must be static).
 * @example
 * const opt = injectHyperparams(adam)({ learningRate: 1e-3 })
 * let state = opt.init(params)
 * state = setHyperparam(state, 'learningRate', 1e-4)
 * @see optax.inject_hyperparams
 */
export const injectHyperparams =
  <H extends object, S>(factory: (hyperparams: H) => GradientTransformation<S>, options: InjectHyperparamsOptions<H> = {}) =>
  (hyperparams: Injectable<H>): GradientTransformation<InjectHyperparamsState<S>> => {
    const statics = new Set<string>(options.staticArgs ?? [])
    const entries = Object.entries(hyperparams as Record<string, unknown>)
    const numeric = entries.filter(([k, v]) => !statics.has(k) && typeof v === 'number') as [string, number][]
    const scheduled = entries.filter(([k, v]) => !statics.has(k) && typeof v === 'function') as [string, Schedule][]
    const build = (values: Readonly<Record<string, Tensor>>): GradientTransformation<S> =>
      factory({ ...(hyperparams as object), ...values } as H)
    const scheduleValues = (count: Tensor): Record<string, Tensor> => Object.fromEntries(scheduled.map(([k, s]) => [k, s(count)]))
    // built once now, so invalid numbers fail at construction with the factory's own message
    const first = factory({ ...(hyperparams as object), ...scheduleValues(zeroCount()) } as H)

    const out: GradientTransformation<InjectHyperparamsState<S>> = {
      init: (params) => {
        const count = zeroCount()
        const hp = { ...Object.fromEntries(numeric.map(([k, v]) => [k, full([], v)])), ...scheduleValues(count) }
        return { count, hyperparams: hp, inner: first.init(params) }
      },
      update: (updates, state, params) => {
        const hp = { ...state.hyperparams, ...scheduleValues(state.count) }
        const r = build(hp).update(updates, state.inner, params)
        return { updates: r.updates, state: { count: safeIncrement(state.count), hyperparams: hp, inner: r.state } }
      },
    }
    if (!first.refresh) return out
    return {
      ...out,
      refresh: (updates: Params, state, params) => {
        const fresh = build({ ...state.hyperparams, ...scheduleValues(state.count) }).refresh?.(updates, state.inner, params) ?? null
        return fresh === null ? null : { ...state, inner: fresh }
      },
    }
  }

/**
 * A copy of an `injectHyperparams` state with the hyperparameter `name` set to
 * `value` from the next step on. (A scheduled hyperparameter is recomputed
 * from its schedule at every step, so setting it has no lasting effect.)
 * @throws FrugalError naming the unknown hyperparameter and the known ones
 * @example state = setHyperparam(state, 'learningRate', 1e-4)
 */
export const setHyperparam = <S>(state: InjectHyperparamsState<S>, name: string, value: number | Tensor): InjectHyperparamsState<S> => {
  const old = state.hyperparams[name]
  if (!Object.prototype.hasOwnProperty.call(state.hyperparams, name) || old === undefined)
    throw new FrugalError(
      `no hyperparameter '${name}' in the state; expected one of [${Object.keys(state.hyperparams).join(', ')}] (at setHyperparam.name)`,
    )
  const v = typeof value === 'number' ? full([], value, old.dtype) : value
  if (v.size !== 1 || v.rank !== 0)
    throw new FrugalError(`value must be a scalar, got a tensor of shape [${v.shape.join(', ')}] (at setHyperparam.value)`)
  return { ...state, hyperparams: { ...state.hyperparams, [name]: v } }
}
