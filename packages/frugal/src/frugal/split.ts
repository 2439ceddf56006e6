import type { Tensor } from '@frugal-ts/core'
import { Tree, add, dispose, greaterEqual, mul, neg, warnIf } from '@frugal-ts/core'
import { FrugalError, check, checkLearningRate } from '../FrugalError'
import type { EmptyState, GradientTransformation, Params } from '../GradientTransformation'
import { emptyState } from '../GradientTransformation'
import type { Projector } from '../projectors/Projector'
import { residualOf } from '../projectors/Projector'
import type { ScalarOrSchedule } from '../schedules'
import { asSchedule } from '../schedules'
import { identity, scaleBySign } from '../transforms/basic'
import { requireParams, safeIncrement } from '../transforms/common'
import { guarded } from '../internal/treeChecks'
import { piece, piecesCompiled } from '../internal/pieces'
import { checkOptions } from '../internal/options'
import { checkFrugalState } from '../internal/stateChecks'
import type { ProjectableRule } from './projectable'
import { projectablePredicate } from './projectable'
import type { SplitConfig } from './refresh'
import { initState, isConcrete, refreshState } from './refresh'
import type { Density, UpdateGap } from './schedules'
import { checkSchedules } from './schedules'
import type { FrugalState, LeafState } from './state'
import { isProjected, leafStates, withLeaves } from './state'
import type { ProjectedLeafState } from './state'

/** a projectable leaf with a subspace and its stateful state; the others (an inactive block, ρ = 0) hold none */
const isActive = <S, PS>(ls: ProjectedLeafState<S, PS>): ls is { readonly projector: PS; readonly inner: S } =>
  ls.projector !== null && ls.inner !== null

/**
 * The state-free part applied to the residual: `signSgd` its sign (FRUGAL's
 * default), `sgd` the residual itself, `none` nothing (GaLore, BAdam), or any
 * transformation that keeps no state.
 * @example frugal({ learningRate: 1e-3, stateFree: 'sgd', stateFreeScale: 0.1 })
 * @see https://arxiv.org/abs/2411.07837 (FRUGAL)
 */
export type StateFree = 'signSgd' | 'sgd' | 'none' | GradientTransformation<EmptyState>

/**
 * Options of `frugalSplit`.
 * @example frugalSplit({ learningRate: 1e-3, stateful: scaleByLion(), projector: coordinates(), stateFree: 'signSgd' })
 * @see https://arxiv.org/abs/2411.07837 (FRUGAL)
 */
export interface FrugalSplitOptions<S, PS> {
  /** η: a positive number, a scalar tensor or a schedule of the step count */
  readonly learningRate: ScalarOrSchedule
  /**
   * The stateful part, as a direction without learning rate or sign flip
   * (`scaleByAdam()`, `scaleByLion()`, `trace(...)`): it runs per leaf, on the
   * low-dimensional gradient of projectable leaves and on the full gradient of the others.
   */
  readonly stateful: GradientTransformation<S>
  /** how projectable leaves are split: `blocks()`, `coordinates()`, `svdProjector()` */
  readonly projector: Projector<PS>
  /** default `signSgd` */
  readonly stateFree?: StateFree
  /** ρ ∈ [0, 1] or a schedule of it (default 0.25) */
  readonly density?: Density
  /** T: steps between refreshes, a positive integer or a `GapSchedule` (default 200) */
  readonly updateGap?: UpdateGap
  /** reset a leaf's stateful state (step counter included) at each refresh (default true) */
  readonly resetOnRefresh?: boolean
  /** multiplies η for the projectable leaves' updates, state-free part included (default 1) */
  readonly projectedScale?: number
  /** multiplies the state-free part further (default 1; the paper uses 0.1 for fine-tuning) */
  readonly stateFreeScale?: number
  /** λ of the decoupled weight decay θ ← θ(1 − ηλ), on every leaf (default 0) */
  readonly weightDecay?: number
  /** which leaves are split (default `defaultProjectable`) */
  readonly projectable?: ProjectableRule
  /** seed of the PRNG key of random subspace choices (default 0) */
  readonly seed?: number
}

/**
 * A FRUGAL transformation: the protocol, with its state type and a `refresh` that is always present.
 * @example const fresh = opt.refresh(grads, state, params) ?? state
 * @see https://arxiv.org/abs/2411.07837 (FRUGAL)
 */
export interface FrugalTransformation<S, PS> extends GradientTransformation<FrugalState<S, PS>> {
  refresh(updates: Params, state: FrugalState<S, PS>, params?: Params): FrugalState<S, PS> | null
  refreshDue(state: FrugalState<S, PS>): boolean
}

/** The scalar rates of one step: −η, −η·projectedScale, the state-free part's, and −η·λ (null without weight decay). */
interface Rates {
  readonly down: Tensor
  readonly downProjected: Tensor
  readonly downFree: Tensor
  readonly decay: Tensor | null
}

const SPLIT_OPTION_KEYS = [
  'learningRate', 'stateful', 'projector', 'stateFree', 'density', 'updateGap', 'resetOnRefresh', 'projectedScale', 'stateFreeScale',
  'weightDecay', 'projectable', 'seed',
]

const stateFreeOf = (sf: StateFree, at: string): GradientTransformation<EmptyState> | null => {
  if (sf === 'none') return null
  if (sf === 'signSgd') return scaleBySign()
  if (sf === 'sgd') return identity()
  if (sf && typeof sf === 'object' && typeof sf.update === 'function') return sf
  throw new FrugalError(`stateFree must be 'signSgd', 'sgd', 'none' or a GradientTransformation, got ${JSON.stringify(sf)} (at ${at}.stateFree)`)
}

/**
 * FRUGAL's gradient splitting as a combinator. For every leaf θ with gradient
 * g (η the learning rate at this step, λ the weight decay):
 * 1. θ ← θ(1 − ηλ) on every leaf;
 * 2. leaves that are not projectable get `−η·stateful(g)`;
 * 3. a projectable leaf with projector P gets
 *    `−η·projectedScale·(P.up(stateful(P.down(g))) + stateFreeScale·stateFree(g − P.up(P.down(g))))`,
 *    and a leaf whose subspace is empty (inactive block, ρ = 0) gets the state-free part on all of g.
 *
 * Subspaces are (re)chosen before steps 1, T+1, 2T+1, … (T = `updateGap`) by
 * `refresh`, on the host: it reads the state's step count, runs SVDs or draws
 * random subspaces, and resets the stateful state of each projectable leaf
 * (when `resetOnRefresh`: zeros, step counter 0, so bias correction restarts).
 * Called eagerly, `update` runs `refresh` itself when it is due, so
 * `update` alone is the whole optimizer. Under `jit`, call `refresh` eagerly
 * first and pass its state (when not null) to the jitted `update`, which then
 * is pure tensor math:
 * `const fresh = opt.refresh(g, state, params) ?? state; jitted(g, fresh, params)`.
 * @param options see `FrugalSplitOptions`
 * @returns a transformation whose updates are added to the parameters (`applyUpdates`)
 * @throws FrugalError naming the option for a density outside [0, 1], an update gap that is not a positive integer, and other bad options
 * @see https://arxiv.org/abs/2411.07837 (FRUGAL, Algorithm 1)
 * @example
 * const opt = frugalSplit({ learningRate: 1e-3, stateful: scaleByAdam(), projector: blocks(), density: 0.25 })
 * let state = opt.init(params)
 * const { updates, state: next } = opt.update(grads, state, params)
 * params = applyUpdates(params, updates)
 */
export const frugalSplit = <S, PS>(
  options: FrugalSplitOptions<S, PS>,
  at = 'frugal',
): FrugalTransformation<S, PS> => {
  checkOptions(options, SPLIT_OPTION_KEYS, at, true)
  const {
    learningRate, stateful, projector, stateFree = 'signSgd', density = 0.25, updateGap = 200, resetOnRefresh = true,
    projectedScale = 1, stateFreeScale = 1, weightDecay = 0, projectable, seed = 0,
  } = options
  checkLearningRate(learningRate, `${at}.learningRate`)
  checkSchedules(density, updateGap, at)
  check(projectedScale, 'finite', `${at}.projectedScale`)
  check(stateFreeScale, 'finite', `${at}.stateFreeScale`)
  check(weightDecay, 'nonNegative', `${at}.weightDecay`)
  check(seed, 'finite', `${at}.seed`)
  if (!Number.isSafeInteger(seed)) throw new FrugalError(`seed must be a safe integer, got ${seed} (at ${at}.seed)`)
  if (typeof resetOnRefresh !== 'boolean') throw new FrugalError(`resetOnRefresh must be a boolean, got ${typeof resetOnRefresh} (at ${at}.resetOnRefresh)`)
  if (!stateful || typeof stateful.init !== 'function' || typeof stateful.update !== 'function')
    throw new FrugalError(`stateful must be a GradientTransformation, got ${typeof stateful} (at ${at}.stateful)`)
  if (!projector || typeof projector.down !== 'function')
    throw new FrugalError(`projector must be a Projector (blocks(), coordinates(), svdProjector()), got ${typeof projector} (at ${at}.projector)`)
  const free = stateFreeOf(stateFree, at)
  const lr = asSchedule(learningRate)
  const config: SplitConfig<S, PS> = {
    at, stateful, projector, density, updateGap, resetOnRefresh, seed, isProjectable: projectablePredicate(projectable, `${at}.projectable`),
  }

  // a tensor weight decay (an injected hyperparameter) always applies
  const hasDecay = typeof weightDecay !== 'number' || weightDecay > 0

  /**
   * One leaf's update in its current role (regular, empty subspace, projected)
   * and its next state: pure tensor math of the gradient, the leaf state, the
   * step's rates and (with weight decay) the parameter. A `piece`, so that
   * `trainStep` compiles it once per leaf shape and role.
   */
  const leafStep = piece((g: Tensor, ls: LeafState<S, PS>, rates: Rates, param: Tensor | null) => {
    let u: Tensor
    let out: LeafState<S, PS>
    if (!isProjected(ls)) {
      const r = stateful.update(g, ls.inner)
      u = mul(r.updates as Tensor, rates.down)
      out = { inner: r.state }
    } else if (!isActive(ls)) {
      return { update: emptyUpdate(g, rates, param), state: ls }
    } else {
      const low = projector.down(g, ls.projector)
      const r = stateful.update(low, ls.inner)
      let dir = projector.up(r.updates as Tensor, ls.projector, g.shape)
      const residual = free ? residualOf(projector, g, low, ls.projector) : null
      if (residual !== null) dir = add(dir, stateFreeScale === 1 ? freeOf(residual) : mul(freeOf(residual), stateFreeScale))
      u = mul(dir, rates.downProjected)
      out = { projector: ls.projector, inner: r.state }
    }
    return { update: param !== null && rates.decay !== null ? add(u, mul(param, rates.decay)) : u, state: out }
  })

  /** the update of a leaf whose subspace is empty (an inactive block, ρ = 0): the state-free part on all of g */
  const emptyUpdate = (g: Tensor, rates: Rates, param: Tensor | null): Tensor => {
    const u = free ? mul(freeOf(g), rates.downFree) : mul(g, 0)
    return param !== null && rates.decay !== null ? add(u, mul(param, rates.decay)) : u
  }

  /** The leaves that are not projectable, together (their set never changes, so one piece serves every step). */
  const regularStep = piece((gs: Tensor[], lss: LeafState<S, PS>[], rates: Rates, params: (Tensor | null)[]) =>
    gs.map((g, i) => leafStep(g, lss[i], rates, params[i])),
  )

  /**
   * Compiled by `trainStep`, everything of a step whose signature does not
   * depend on the chosen subspaces, as one piece: the rates, the regular
   * leaves, and the empty-subspace update of every projectable leaf (the
   * active ones' are dropped: a few elementwise loops instead of one call per
   * inactive leaf, whose set changes at every refresh).
   */
  const fixedStep = piece(
    (count: Tensor, rgs: Tensor[], rlss: LeafState<S, PS>[], rparams: (Tensor | null)[], pgs: Tensor[], pparams: (Tensor | null)[]) => {
      const { rates, next } = ratesOf(count)
      return { rates, next, regular: rgs.map((g, i) => leafStep(g, rlss[i], rates, rparams[i])), empty: pgs.map((g, k) => emptyUpdate(g, rates, pparams[k])) }
    },
  )

  /** The step's scalar rates and next step count, from the count: one piece, so a compiled step evaluates the schedule in one call. */
  const ratesAt = piece((count: Tensor): { rates: Rates; next: Tensor } => ratesOf(count))
  const ratesOf = (count: Tensor): { rates: Rates; next: Tensor } => {
    const eta = lr(count)
    const projectedRate = projectedScale === 1 ? eta : mul(eta, projectedScale)
    // the sign flips on the scalar rates, once per step (−(x·η) = x·(−η) exactly): one op fewer per element
    const down = neg(eta)
    const downProjected = neg(projectedRate)
    const rates: Rates = {
      down,
      downProjected,
      downFree: stateFreeScale === 1 ? downProjected : neg(mul(projectedRate, stateFreeScale)),
      decay: hasDecay ? mul(down, weightDecay) : null,
    }
    return { rates, next: safeIncrement(count) }
  }

  /** The pure step: no host reads, so it can be traced by jit. */
  const step = (grads: Params, state: FrugalState<S, PS>, params?: Params) => {
    const decay = hasDecay ? Tree.leaves(requireParams(params, at)) as Tensor[] : null
    if (!isConcrete(state)) warnIf(greaterEqual(state.count, state.nextRefresh), refreshNotRun)
    const states = leafStates(state, grads, `${at}.update`)
    const gs = Tree.leaves(grads) as Tensor[]
    const updates: Tensor[] = new Array(gs.length)
    const next: LeafState<S, PS>[] = new Array(gs.length)
    const decayOf = (j: number) => (decay ? decay[j] : null)
    // leaves that are never split keep their role for good: one piece for all of them
    const regular = states.flatMap((ls, j) => (isProjected(ls) ? [] : [j]))
    const projected = states.flatMap((ls, j) => (isProjected(ls) ? [j] : []))
    let rates: Rates
    let count: Tensor
    let rs: { update: Tensor; state: LeafState<S, PS> }[]
    let empty: Tensor[] | null = null
    if (piecesCompiled()) {
      const f = fixedStep(state.count, regular.map((j) => gs[j]), regular.map((j) => states[j]), regular.map(decayOf), projected.map((j) => gs[j]), projected.map(decayOf))
      ;({ rates, next: count, regular: rs, empty } = f)
    } else {
      ;({ rates, next: count } = ratesAt(state.count))
      rs = regularStep(regular.map((j) => gs[j]), regular.map((j) => states[j]), rates, regular.map(decayOf))
    }
    regular.forEach((j, k) => ((updates[j] = rs[k].update), (next[j] = rs[k].state)))
    projected.forEach((j, k) => {
      const ls = states[j] as ProjectedLeafState<S, PS>
      if (empty !== null && !isActive(ls)) return void ((updates[j] = empty[k]), (next[j] = ls))
      if (empty !== null) dispose(empty[k])
      const r = leafStep(gs[j], ls, rates, decayOf(j))
      updates[j] = r.update
      next[j] = r.state
    })
    const nextState: FrugalState<S, PS> = { ...state, count, leaves: withLeaves(grads, next) }
    return { updates: Tree.unflatten(Tree.structure(grads), updates) as Params, state: nextState }
  }

  const refreshNotRun =
    `${at}: a subspace refresh was due and did not run: the jitted update was given a state whose step count reached ` +
    `its next refresh, so the subspace is stale and stays so. Run the refresh eagerly before the jitted update ` +
    `(state = opt.refresh(grads, state, params) ?? state), or train with trainStep, which does`

  const freeOf = (r: Tensor): Tensor => free!.update(r, emptyState).updates as Tensor

  const refresh = (grads: Params, state: FrugalState<S, PS>): FrugalState<S, PS> | null => {
    if (!isConcrete(state))
      throw new FrugalError(
        `refresh reads the step count on the host and cannot run on traced state (at ${at}.refresh); call it outside jit, then pass its state to the jitted update`,
      )
    return refreshState(config, grads, state)
  }

  return guarded(at, {
    init: (params) => initState(config, params),
    refresh: (grads, state) => (checkFrugalState(state, at, 'refresh'), refresh(grads, state)),
    refreshDue: (state) => (checkFrugalState(state, at, 'refreshDue'), isConcrete(state) && state.count.item() >= state.nextRefresh.item()),
    update: (grads, state, params) => (checkFrugalState(state, at, 'update'), step(grads, isConcrete(state) ? (refresh(grads, state) ?? state) : state, params)),
  })
}
