import type { Tensor } from '@frugal-ts/core'
import { Key, Shape, Tree, full, scalar, zeros } from '@frugal-ts/core'
import type { GradientTransformation, Params } from '../GradientTransformation'
import type { Projector, ProjectorContext } from '../projectors/Projector'
import type { Density, UpdateGap } from './schedules'
import { densityAt, gapAt } from './schedules'
import type { FrugalState, LeafState, ProjectedLeafState } from './state'
import { isProjected, leafStates, withLeaves } from './state'

/** @internal What init and refresh need of the combinator's options. */
export interface SplitConfig<S, PS> {
  readonly at: string
  readonly stateful: GradientTransformation<S>
  readonly projector: Projector<PS>
  readonly density: Density
  readonly updateGap: UpdateGap
  readonly resetOnRefresh: boolean
  readonly isProjectable: (path: Tree.Path, leaf: Tensor) => boolean
  readonly seed: number
}

/** @internal the context of projectable leaf `index` of `total` in a period */
const contextFor = (key: Tensor, period: number, density: number, path: Tree.Path, index: number, total: number): ProjectorContext => {
  const periodKey = Key.foldIn(key, period)
  return { density, path, index, total, period, periodKey, leafKey: Key.foldIn(periodKey, index) }
}

/** @internal the stateful state of a fresh subspace of `lowShape` (zeros, step counter 0) */
const freshInner = <S>(stateful: GradientTransformation<S>, lowShape: Shape.Shape): S => stateful.init(zeros(lowShape))

/**
 * @internal FRUGAL's initial state: subspaces of period 0 (random where the
 * projector needs a gradient), fresh stateful states, counters at 0.
 */
export const initState = <S, PS>(c: SplitConfig<S, PS>, params: Params): FrugalState<S, PS> => {
  const key = Key.key(c.seed)
  const items = Tree.leavesWithPath(params) as [Tree.Path, Tensor][]
  const projectable = items.map(([p, x]) => c.isProjectable(p, x))
  const total = projectable.filter(Boolean).length
  const density = densityAt(c.density, 0, c.at)
  let index = 0
  const states = items.map(([path, x], j): LeafState<S, PS> => {
    if (!projectable[j]) return { inner: c.stateful.init(x) }
    c.projector.validate(x.shape, path)
    const ps = c.projector.init(x, contextFor(key, 0, density, path, index++, total))
    return { projector: ps, inner: ps === null ? null : freshInner(c.stateful, c.projector.lowShape(x.shape, ps)) }
  })
  const window = typeof c.updateGap === 'number' ? 0 : c.updateGap.window
  return {
    count: scalar(0, 'int32'),
    nextRefresh: scalar(0, 'int32'),
    refreshes: scalar(0, 'int32'),
    key,
    losses: window > 0 ? full([window], NaN) : null,
    leaves: withLeaves(params, states),
  }
}

/** @internal whether `state` is concrete (not traced by jit), so its counters can be read on the host */
export const isConcrete = (state: FrugalState<unknown, unknown>): boolean => state.count.trace === null

/**
 * @internal FRUGAL's host-side refresh: null when none is due (count <
 * nextRefresh); otherwise new subspaces for every projectable leaf (from its
 * gradient and the state's key), stateful states reset where the subspace is
 * empty, changed size, is new, or `resetOnRefresh` asks, and the next due step.
 */
export const refreshState = <S, PS>(
  c: SplitConfig<S, PS>,
  grads: Params,
  state: FrugalState<S, PS>,
): FrugalState<S, PS> | null => {
  const count = state.count.item()
  if (count < state.nextRefresh.item()) return null
  const period = state.refreshes.item()
  const density = densityAt(c.density, count, c.at)
  const items = Tree.leavesWithPath(grads) as [Tree.Path, Tensor][]
  const states = leafStates(state, grads, `${c.at}.refresh`)
  const total = states.filter(isProjected).length
  let index = 0
  const next = states.map((ls, j): LeafState<S, PS> => {
    if (!isProjected(ls)) return ls
    const [path, g] = items[j]
    const ps = c.projector.refresh(g, ls.projector, contextFor(state.key, period, density, path, index++, total))
    if (ps === null) return { projector: null, inner: null } satisfies ProjectedLeafState<S, PS>
    const low = c.projector.lowShape(g.shape, ps)
    const keep =
      !c.resetOnRefresh && ls.inner !== null && ls.projector !== null && Shape.equals(c.projector.lowShape(g.shape, ls.projector), low)
    return { projector: ps, inner: keep ? ls.inner : freshInner(c.stateful, low) }
  })
  const losses = state.losses === null ? [] : Array.from(state.losses.dataSync())
  const gap = gapAt(c.updateGap, count, losses, c.at)
  return {
    ...state,
    nextRefresh: scalar(count + gap, 'int32'),
    refreshes: scalar(period + 1, 'int32'),
    leaves: withLeaves(grads, next),
  }
}
