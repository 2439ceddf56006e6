import type { Tensor } from '@frugal-ts/core'
import { Tensor as TensorClass, full } from '@frugal-ts/core'
import { FrugalError, trusted } from '../FrugalError'
import { checkOptions } from '../internal/options'
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
 * What a factory may tell `injectHyperparams` about itself: the names of the
 * float hyperparameters it accepts as scalar tensors. Every other option stays
 * static (passed as it is: integers, schedules of host-side quantities,
 * projectors, masks). Factories without it get every number injected.
 * @example
 * const mine = Object.assign((o: { learningRate: number; steps: number }) => sgd(o.learningRate), { injectable: ['learningRate'] as const })
 * injectHyperparams(mine)({ learningRate: 0.1, steps: 100 }) // steps stays a number
 */
export interface InjectableFactory {
  readonly injectable?: readonly string[]
}

/** Validators of the states `injectHyperparams` made: the factory, rebuilt with new values, checks them. */
const validators = new WeakMap<object, (values: Readonly<Record<string, Tensor>>) => void>()

const registered = <S>(state: InjectHyperparamsState<S>, validate: (values: Readonly<Record<string, Tensor>>) => void) => {
  validators.set(state, validate)
  return state
}

const isScalarTensor = (x: unknown): x is Tensor => x instanceof TensorClass && x.rank === 0

/** True when `f` acts as a schedule: given the step count, a scalar tensor (or a number). Masks and other rules are not. */
const isSchedule = (f: (x: unknown) => unknown): boolean => {
  try {
    const v = f(zeroCount())
    return typeof v === 'number' || isScalarTensor(v)
  } catch {
    return false
  }
}

/**
 * Makes the float hyperparameters of an optimizer factory part of its state
 * (float32 scalar tensors), so they can be read and changed between steps
 * (`setHyperparam`) without rebuilding or re-jitting the optimizer. Numbers
 * become state; schedules (functions of the step count returning a scalar)
 * are evaluated at the step count into the state each step; everything else,
 * and the `staticArgs`, is passed to the factory as it is. A factory may list
 * its injectable hyperparameters (`InjectableFactory`): the aliases and the
 * FRUGAL presets do, so `injectHyperparams(frugal)({ learningRate, density,
 * updateGap })` injects the learning rate and keeps the density, the gap, the
 * seed and the projector static. `refresh` is forwarded.
 *
 * Values are checked where they enter: at construction and in `setHyperparam`
 * (eagerly, by the factory's own rules: `learningRate must be positive, got -1
 * (a scalar tensor) (at adam.learningRate)`). A value set inside `jit` is a
 * tracer and cannot be read there; it is checked for shape and dtype only, and
 * schedule values are not read back at each step.
 * @example
 * const opt = injectHyperparams(adam)({ learningRate: 1e-3 })
 * let state = opt.init(params)
 * state = setHyperparam(state, 'learningRate', 1e-4)
 * @example
 * const f = injectHyperparams(frugal)({ learningRate: 1e-3, density: 0.25, updateGap: 20 })
 * @throws FrugalError for a `staticArgs` entry the hyperparameters do not have, or a bad value (the factory's message)
 * @see optax.inject_hyperparams
 */
export const injectHyperparams =
  <H extends object, S>(factory: ((hyperparams: H) => GradientTransformation<S>) & InjectableFactory, options: InjectHyperparamsOptions<H> = {}) => {
    if (typeof factory !== 'function')
      throw new FrugalError(`factory must be a function of an options object (adam, frugal, …), got ${describe(factory)} (at injectHyperparams.factory)`)
    checkOptions(options, ['staticArgs'], 'injectHyperparams')
    return (hyperparams: Injectable<H>): GradientTransformation<InjectHyperparamsState<S>> => {
      if (hyperparams === null || typeof hyperparams !== 'object')
        throw new FrugalError(`hyperparams must be an options object, got ${hyperparams === null ? 'null' : typeof hyperparams} (at injectHyperparams)`)
      const statics = new Set<string>(options.staticArgs ?? [])
      for (const k of statics)
        if (!Object.prototype.hasOwnProperty.call(hyperparams, k))
          throw new FrugalError(
            `staticArgs names '${k}', which the hyperparameters do not have; expected one of [${Object.keys(hyperparams).join(', ')}] (at injectHyperparams.staticArgs)`,
          )
      const allowed = factory.injectable === undefined ? null : new Set(factory.injectable)
      const dynamic = (k: string) => !statics.has(k) && (allowed === null || allowed.has(k))
      const entries = Object.entries(hyperparams as Record<string, unknown>)
      const numeric = entries.filter(([k, v]) => dynamic(k) && (typeof v === 'number' || isScalarTensor(v))) as [string, number | Tensor][]
      const scheduled = entries.filter(([k, v]) => dynamic(k) && typeof v === 'function' && isSchedule(v as (x: unknown) => unknown)) as [
        string,
        Schedule,
      ][]
      const build = (values: Readonly<Record<string, Tensor>>): GradientTransformation<S> =>
        factory({ ...(hyperparams as object), ...values } as H)
      const scheduleValues = (count: Tensor): Record<string, Tensor> =>
        Object.fromEntries(scheduled.map(([k, s]) => [k, trusted(asTensor(s(count)))]))
      const initial = (): Record<string, Tensor> =>
        Object.fromEntries(numeric.map(([k, v]) => [k, typeof v === 'number' ? full([], v) : v]))
      // built once now with the values as they will be in the state, so invalid ones fail here with the factory's own message
      const first = build({ ...initial(), ...scheduleValues(zeroCount()) })
      const validate = (values: Readonly<Record<string, Tensor>>) => void build(values)

      const out: GradientTransformation<InjectHyperparamsState<S>> = {
        init: (params) => {
          const count = zeroCount()
          return registered({ count, hyperparams: { ...initial(), ...scheduleValues(count) }, inner: first.init(params) }, validate)
        },
        update: (updates, state, params) => {
          checkInjectState(state, 'injectHyperparams.update')
          const hp = { ...state.hyperparams, ...scheduleValues(state.count) }
          const r = build(hp).update(updates, state.inner, params)
          return { updates: r.updates, state: registered({ count: safeIncrement(state.count), hyperparams: hp, inner: r.state }, validate) }
        },
      }
      if (!first.refresh) return out
      // whether a refresh is due is read from the inner state's counters, whatever the hyperparameters
      const innerDue = first.refreshDue
      return {
        ...out,
        ...(innerDue ? { refreshDue: (state: InjectHyperparamsState<S>) => innerDue.call(first, state.inner) } : {}),
        refresh: (updates: Params, state, params) => {
          checkInjectState(state, 'injectHyperparams.refresh')
          const fresh = build({ ...state.hyperparams, ...scheduleValues(state.count) }).refresh?.(updates, state.inner, params) ?? null
          return fresh === null ? null : registered({ ...state, inner: fresh }, validate)
        },
      }
    }
  }

const asTensor = (v: unknown): Tensor => (typeof v === 'number' ? full([], v) : (v as Tensor))

const describe = (x: unknown): string =>
  x === null ? 'null' : Array.isArray(x) ? `an array of length ${x.length}` : typeof x === 'object' ? `an object with keys [${Object.keys(x as object).sort().join(', ')}]` : typeof x

const checkInjectState = (state: unknown, at: string): void => {
  const s = state as Partial<InjectHyperparamsState<unknown>> | null
  if (
    s === null ||
    typeof s !== 'object' ||
    !(s.count instanceof TensorClass) ||
    s.hyperparams === null ||
    typeof s.hyperparams !== 'object' ||
    !('inner' in s)
  )
    throw new FrugalError(
      `expected the state of an injectHyperparams optimizer ({count, hyperparams, inner}), got ${describe(state)} (at ${at}); was it made by this optimizer's init?`,
    )
}

/**
 * A copy of an `injectHyperparams` state with the hyperparameter `name` set to
 * `value` from the next step on, checked by the optimizer's own rules (a state
 * read back from a checkpoint is checked at its next eager `update`). (A
 * scheduled hyperparameter is recomputed from its schedule at every step, so
 * setting it has no lasting effect.)
 * @throws FrugalError naming the unknown hyperparameter and the known ones, a state not made by `injectHyperparams`, or a bad value
 * @example state = setHyperparam(state, 'learningRate', 1e-4)
 */
export const setHyperparam = <S>(state: InjectHyperparamsState<S>, name: string, value: number | Tensor): InjectHyperparamsState<S> => {
  checkInjectState(state, 'setHyperparam.state')
  const old = state.hyperparams[name]
  if (!Object.prototype.hasOwnProperty.call(state.hyperparams, name) || old === undefined)
    throw new FrugalError(
      `no hyperparameter '${name}' in the state; expected one of [${Object.keys(state.hyperparams).join(', ')}] (at setHyperparam.name)`,
    )
  if (typeof value !== 'number' && !(value instanceof TensorClass))
    throw new FrugalError(`value must be a number or a scalar tensor, got ${describe(value)} (at setHyperparam.value)`)
  const v = typeof value === 'number' ? full([], value, old.dtype) : value
  if (v.rank !== 0)
    throw new FrugalError(`value must be a scalar, got a tensor of shape [${v.shape.join(', ')}] (at setHyperparam.value)`)
  if (v.dtype !== old.dtype) throw new FrugalError(`value must be a ${old.dtype} scalar, got ${v.dtype === 'int32' ? 'an' : 'a'} ${v.dtype} tensor (at setHyperparam.value)`)
  if (typeof value === 'number' && !Number.isFinite(value))
    throw new FrugalError(`${name} must be a finite number, got ${value} (at setHyperparam.value)`)
  const hyperparams = { ...state.hyperparams, [name]: v }
  const validate = validators.get(state)
  validate?.(hyperparams)
  const next = { ...state, hyperparams }
  return validate ? registered(next, validate) : next
}
