import type { GradientTransformation, Params, UpdateResult } from '../GradientTransformation'
import { checkChainState } from '../internal/stateChecks'

/** The state type of a transformation. @example type S = StateOf<ReturnType<typeof adam>> // AdamState */
export type StateOf<T> = T extends GradientTransformation<infer S> ? S : never

/**
 * The state of `chain`: the tuple of its children's states, in order.
 * @example
 * const state: ChainState<[GradientTransformation<EmptyState>, GradientTransformation<AdamState>]> = chain(clipByGlobalNorm(1), adam(1e-3)).init(params)
 */
export type ChainState<Ts extends readonly GradientTransformation<any>[]> = { readonly [K in keyof Ts]: StateOf<Ts[K]> }

/**
 * Applies transformations one after another: each sees the updates of the one
 * before. The state is the tuple of their states. `refresh` is forwarded: a
 * child is refreshed with the updates it would see in `update` (those of the
 * children before it, with their refreshed states).
 * @example const adamw = chain(scaleByAdam(), addDecayedWeights(1e-4), scaleByLearningRate(1e-3))
 * @see optax.chain
 */
export const chain = <Ts extends readonly GradientTransformation<any>[]>(...ts: Ts): GradientTransformation<ChainState<Ts>> => {
  const out: GradientTransformation<ChainState<Ts>> = {
    init: (params) => ts.map((t) => t.init(params)) as unknown as ChainState<Ts>,
    update: (updates, state, params) => {
      checkChainState(state, ts.length, 'chain', 'update')
      const states: unknown[] = []
      for (let i = 0; i < ts.length; i++) {
        const r: UpdateResult<unknown> = ts[i].update(updates, state[i], params)
        updates = r.updates
        states.push(r.state)
      }
      return { updates, state: states as unknown as ChainState<Ts> }
    },
  }
  const lastRefresh = ts.reduce((last, t, i) => (t.refresh ? i : last), -1)
  if (lastRefresh < 0) return out
  const dues = ts.map((t) => (t.refresh ? t.refreshDue : undefined))
  const refreshDue = ts.every((t, i) => !t.refresh || dues[i])
    ? (state: ChainState<Ts>) => ts.some((t, i) => t.refresh !== undefined && dues[i]!.call(t, (state as readonly unknown[])[i]))
    : undefined
  return {
    ...out,
    ...(refreshDue ? { refreshDue } : {}),
    refresh: (updates: Params, state, params) => {
      checkChainState(state, ts.length, 'chain', 'refresh')
      const states = [...(state as readonly unknown[])]
      let changed = false
      for (let i = 0; i <= lastRefresh; i++) {
        const fresh = ts[i].refresh?.(updates, states[i], params) ?? null
        if (fresh !== null) [states[i], changed] = [fresh, true]
        // later children refresh on what this one hands them
        if (i < lastRefresh) updates = ts[i].update(updates, states[i], params).updates
      }
      return changed ? (states as unknown as ChainState<Ts>) : null
    },
  }
}
