import { Tree } from '@frugal-ts/core'
import { FrugalError } from '../FrugalError'
import type { GradientTransformation, Params } from '../GradientTransformation'
import type { StateOf } from './chain'
import type { LeafSpec } from './slots'
import { fromSlots, partSlots, resolveSpec, selectSlots, slotsOf } from './slots'

/**
 * The state of `partition`: each label's transformation's state, under its label.
 * @example
 * const state = partition({ adam: adam(1e-3), sgd: sgd(0.1) }, { w: 'adam', b: 'sgd' }).init({ w: zeros([2, 2]), b: zeros([2]) })
 * // state.adam and state.sgd: the inner states, each over its own leaves
 */
export type PartitionState<T extends Readonly<Record<string, GradientTransformation<any>>>> = {
  readonly [L in keyof T]: StateOf<T[L]>
}

/**
 * Routes each leaf to the transformation of its label: every transformation
 * sees only its own leaves (the others blanked out as null), so it keeps state
 * for those only.
 * @param transforms a transformation per label
 * @param labels a pytree of labels like the params (or a prefix of it), or a function of each leaf's path and value
 * @throws FrugalError (in init/update) naming the label and the leaf's path when a label has no transformation
 * @example
 * partition({ adam: adam(1e-3), frozen: scale(0) }, (path) => (path[0] === 'embed' ? 'frozen' : 'adam'))
 * @see optax.partition (formerly multi_transform)
 */
export const partition = <T extends Readonly<Record<string, GradientTransformation<any>>>>(
  transforms: T,
  labels: LeafSpec<string>,
): GradientTransformation<PartitionState<T>> => {
  const names = Object.keys(transforms)
  const labelsOf = (tree: Params): (string | undefined)[] => {
    const ls = resolveSpec(labels, tree, 'partition.labels', 'a string label', (x): x is string => typeof x === 'string')
    const paths = Tree.paths(tree, (x) => x === null || x === undefined)
    ls.forEach((l, i) => {
      if (l !== undefined && !Object.prototype.hasOwnProperty.call(transforms, l))
        throw new FrugalError(
          `no transformation for label '${l}' of the leaf at ${Tree.pathString(paths[i]) || '<root>'}; expected one of [${names.join(', ')}] (at partition.labels.${Tree.pathString(paths[i])})`,
        )
    })
    return ls
  }
  const parts = (tree: Params | undefined, ls: (string | undefined)[], name: string): Params | undefined =>
    tree === undefined ? undefined : selectSlots(tree, ls.map((l) => l === name))

  const out: GradientTransformation<PartitionState<T>> = {
    init: (params) => {
      const ls = labelsOf(params)
      return Object.fromEntries(names.map((n) => [n, transforms[n].init(parts(params, ls, n)!)])) as PartitionState<T>
    },
    update: (updates, state, params) => {
      const ls = labelsOf(updates)
      const [slots, def] = slotsOf(updates)
      const results = new Map<string, readonly unknown[]>()
      const states: Record<string, unknown> = {}
      for (const n of names) {
        const r = transforms[n].update(parts(updates, ls, n)!, state[n], parts(params, ls, n))
        results.set(n, partSlots(r.updates, slots.length, `partition.${n}`))
        states[n] = r.state
      }
      const merged = slots.map((s, i) => (ls[i] === undefined ? s : results.get(ls[i]!)![i])) as typeof slots
      return { updates: fromSlots(def, merged), state: states as PartitionState<T> }
    },
  }
  if (!names.some((n) => transforms[n].refresh)) return out
  const refreshing = names.filter((n) => transforms[n].refresh)
  const due = refreshing.every((n) => transforms[n].refreshDue)
  return {
    ...out,
    ...(due ? { refreshDue: (state: PartitionState<T>) => refreshing.some((n) => transforms[n].refreshDue!(state[n])) } : {}),
    refresh: (updates, state, params) => {
      const ls = labelsOf(updates)
      let changed = false
      const states: Record<string, unknown> = { ...state }
      for (const n of names) {
        const fresh = transforms[n].refresh?.(parts(updates, ls, n)!, state[n], parts(params, ls, n)) ?? null
        if (fresh !== null) [states[n], changed] = [fresh, true]
      }
      return changed ? (states as PartitionState<T>) : null
    },
  }
}
