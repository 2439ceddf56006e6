import { FrugalError, check } from '../FrugalError'
import type { GradientTransformation } from '../GradientTransformation'
import type { BlockCount, BlockOrder } from '../projectors/blocks'
import { blocks } from '../projectors/blocks'
import type { CoordinateMode } from '../projectors/coordinates'
import { coordinates } from '../projectors/coordinates'
import type { Projector } from '../projectors/Projector'
import type { SvdSide, SvdType } from '../projectors/svd'
import { svdProjector } from '../projectors/svd'
import type { ScalarOrSchedule } from '../schedules'
import type { ScaleByAdamOptions, ScaleByAdamState } from '../transforms/adam'
import { scaleByAdam } from '../transforms/adam'
import type { ProjectableRule } from './projectable'
import type { AdaFrugalGapOptions, Density, UpdateGap } from './schedules'
import { adaFrugalGap, linearDensity } from './schedules'
import type { FrugalTransformation, StateFree } from './split'
import { frugalSplit } from './split'
import { checkKeys } from '../internal/options'

const FRUGAL_OPTION_KEYS = [
  'learningRate', 'density', 'updateGap', 'weightDecay', 'stateFree', 'projectedScale', 'stateFreeScale', 'resetOnRefresh',
  'projector', 'blockOrder', 'blockCount', 'svdSide', 'svdType', 'projectable', 'seed', 'stateful', 'b1', 'b2', 'eps', 'epsRoot', 'biasCorrection',
] as const satisfies readonly (keyof FrugalOptions)[]

/** The presets' float hyperparameters `injectHyperparams` may make state; density, gap, seed and projector stay static. */
const PRESET_INJECTABLE = ['learningRate', 'b1', 'b2', 'eps', 'epsRoot', 'weightDecay', 'projectedScale', 'stateFreeScale'] as const

/**
 * A projector by name (`blocks`, `svd`, or a coordinate mode), or a projector value.
 * @example frugal({ learningRate: 1e-3, projector: 'randk' })
 * @see https://arxiv.org/abs/2411.07837 (FRUGAL)
 */
export type ProjectorChoice = 'blocks' | 'svd' | CoordinateMode | Projector<any>

/**
 * Options of the `frugal`, `galore` and `badam` presets.
 * @example frugal({ learningRate: 1e-3, density: 0.25, updateGap: 200, weightDecay: 0.1 })
 * @see https://arxiv.org/abs/2411.07837 (FRUGAL)
 */
export interface FrugalOptions extends ScaleByAdamOptions {
  /** η: a positive number, a scalar tensor or a schedule */
  readonly learningRate: ScalarOrSchedule
  /** ρ (default 0.25) */
  readonly density?: Density
  /** T (default 200) */
  readonly updateGap?: UpdateGap
  /** decoupled weight decay λ (default 0) */
  readonly weightDecay?: number
  /** the state-free part (`frugal`: default `signSgd`) */
  readonly stateFree?: StateFree
  /** default 1 (`galore`: 0.25) */
  readonly projectedScale?: number
  /** default 1 */
  readonly stateFreeScale?: number
  /** default true (`galore`: false) */
  readonly resetOnRefresh?: boolean
  /** `frugal`: default `blocks` */
  readonly projector?: ProjectorChoice
  /** order of the blocks projector (`frugal`: default `random`; `badam`: `descending`) */
  readonly blockOrder?: BlockOrder
  /** how the blocks projector counts active blocks from ρ·L (default `round`, Python's; `adaFrugal`: `floor`) */
  readonly blockCount?: BlockCount
  /** side of the svd projector (default `std`) */
  readonly svdSide?: SvdSide
  /** type of the svd projector (default `svd`) */
  readonly svdType?: SvdType
  /** which leaves are split (default `defaultProjectable`) */
  readonly projectable?: ProjectableRule
  /** seed of random subspace choices (default 0) */
  readonly seed?: number
  /** the stateful part (default `scaleByAdam` with b1, b2, eps, epsRoot) */
  readonly stateful?: GradientTransformation<any>
}

const projectorOf = (o: FrugalOptions, fallback: ProjectorChoice, at: string): Projector<any> => {
  const p = o.projector === undefined ? fallback : o.projector
  if (typeof p === 'object' && p !== null) return p
  switch (p) {
    case 'blocks':
      return blocks({ order: o.blockOrder ?? 'random', count: o.blockCount ?? 'round' })
    case 'svd':
      return svdProjector({ side: o.svdSide, type: o.svdType })
    case 'randk':
    case 'rows':
    case 'columns':
      return coordinates({ mode: p })
    default:
      throw new FrugalError(`projector must be 'blocks', 'svd', 'randk', 'rows', 'columns' or a Projector, got ${JSON.stringify(p)} (at ${at}.projector)`)
  }
}

const build = (o: FrugalOptions, defaults: Partial<FrugalOptions> & { projector: ProjectorChoice }, at: string) => {
  if (!o || typeof o !== 'object') throw new FrugalError(`options must be an object with a learningRate, got ${o === null ? 'null' : typeof o} (at ${at})`)
  checkKeys(o, FRUGAL_OPTION_KEYS, at)
  const m = { ...defaults, ...Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) } as FrugalOptions
  const { b1, b2, eps, epsRoot, biasCorrection } = m
  const adamOptions: ScaleByAdamOptions = Object.fromEntries(
    Object.entries({ b1, b2, eps, epsRoot, biasCorrection }).filter(([, v]) => v !== undefined),
  )
  return frugalSplit(
    {
      learningRate: m.learningRate,
      stateful: m.stateful ?? scaleByAdam(adamOptions, at),
      projector: projectorOf(m, defaults.projector, at),
      stateFree: m.stateFree,
      density: m.density,
      updateGap: m.updateGap,
      resetOnRefresh: m.resetOnRefresh,
      projectedScale: m.projectedScale,
      stateFreeScale: m.stateFreeScale,
      weightDecay: m.weightDecay,
      projectable: m.projectable,
      seed: m.seed,
    },
    at,
  )
}

/**
 * The state of a preset with its default Adam: per-leaf `ScaleByAdamState`s and the projector's states.
 * @example const opt: FrugalAdamTransformation = frugal({ learningRate: 1e-3 })
 * @see https://arxiv.org/abs/2411.07837 (FRUGAL)
 */
export type FrugalAdamTransformation = FrugalTransformation<ScaleByAdamState, unknown>

/**
 * FRUGAL with the paper's defaults: AdamW on the subspace (ρ = 0.25 of the
 * projectable leaves, chosen as random blocks, refreshed every T = 200 steps
 * with the Adam state reset) and signSGD on the rest; embeddings, norms and
 * the head get AdamW. ρ = 1 is AdamW; ρ = 0 is signSGD on projectable leaves.
 * @param options learning rate and any `FrugalOptions`
 * @returns a `FrugalTransformation` (use `applyUpdates` with its updates)
 * @throws FrugalError naming the bad option, e.g. `density must be in [0, 1], got 1.5 (at frugal.density)`
 * @see https://arxiv.org/abs/2411.07837 (FRUGAL, §4 and Algorithm 1)
 * @example
 * const opt = frugal({ learningRate: 1e-3, weightDecay: 0.1 })
 * let state = opt.init(params)
 * const { updates, state: next } = opt.update(grads, state, params)
 */
export const frugal = (options: FrugalOptions): FrugalAdamTransformation => build(options, { projector: 'blocks' }, 'frugal')
/** The hyperparameters `injectHyperparams(frugal)` makes state (the others stay static). @example injectHyperparams(frugal)({ learningRate: 1e-3, updateGap: 20 }) */
frugal.injectable = PRESET_INJECTABLE

/**
 * GaLore as a configuration of the FRUGAL combinator: Adam in the span of the
 * top singular vectors (svd projector, rank round(ρ·dim)), no state-free part,
 * moments kept across refreshes (`resetOnRefresh: false`), `projectedScale` 0.25.
 * @see https://arxiv.org/abs/2411.07837 (FRUGAL, baselines); GaLore, arXiv 2403.03507
 * @example const opt = galore({ learningRate: 1e-2, density: 0.25, updateGap: 200 })
 */
export const galore = (options: FrugalOptions): FrugalAdamTransformation =>
  build(options, { projector: 'svd', stateFree: 'none', resetOnRefresh: false, projectedScale: 0.25 }, 'galore')
/** The hyperparameters `injectHyperparams(galore)` makes state. @example injectHyperparams(galore)({ learningRate: 1e-2 }) */
galore.injectable = PRESET_INJECTABLE

/**
 * BAdam as a configuration of the FRUGAL combinator: Adam on round(ρ·L) of
 * the L projectable leaves at a time, switched in descending order every T
 * steps; inactive leaves are frozen (no state-free part) but for weight decay.
 * @see https://arxiv.org/abs/2411.07837 (FRUGAL, baselines); BAdam, arXiv 2404.02827
 * @example const opt = badam({ learningRate: 1e-3, density: 0.25, updateGap: 100 })
 */
export const badam = (options: FrugalOptions): FrugalAdamTransformation =>
  build(options, { projector: 'blocks', blockOrder: 'descending', stateFree: 'none' }, 'badam')
/** The hyperparameters `injectHyperparams(badam)` makes state. @example injectHyperparams(badam)({ learningRate: 1e-3 }) */
badam.injectable = PRESET_INJECTABLE

/**
 * Options of `adaFrugal`: those of `frugal` but the density and the gap, which AdaFRUGAL schedules.
 * @example adaFrugal({ learningRate: 1e-3, steps: 10_000, densityStart: 0.25, densityEnd: 0.05 })
 * @see AdaFRUGAL, arXiv 2601.11568
 */
export interface AdaFrugalOptions extends Omit<FrugalOptions, 'density' | 'updateGap'> {
  /** N: the steps over which ρ decays (the run's length) */
  readonly steps: number
  /** ρ_start (default 0.25) */
  readonly densityStart?: number
  /** ρ_end (default 0.05) */
  readonly densityEnd?: number
  /** the dynamic gap (default T from 100, ×1.5 per plateau of relative change < 0.005, at most 1000) */
  readonly gap?: AdaFrugalGapOptions
}

/**
 * AdaFRUGAL (arXiv 2601.11568) as a configuration of the FRUGAL combinator:
 * blocks with ρ_t = max(ρ_end, ρ_start − (ρ_start − ρ_end)·t/N)
 * (`linearDensity`), ⌊ρ_t·L⌋ active blocks (`blockCount: 'floor'`), and
 * the update gap T of `adaFrugalGap` (from 100, ×1.5 at each validation
 * plateau, capped at 1000): feed it each validation loss with `recordLoss`.
 * Everything else is `frugal`'s (AdamW on the active blocks, signSGD on the rest).
 * @param options `steps` (N), the density range, and any `frugal` option
 * @returns a `FrugalTransformation` whose state keeps the last validation losses
 * @throws FrugalError naming the bad option, e.g. `steps must be a positive integer, got 0 (at adaFrugal.steps)`
 * @see AdaFRUGAL, arXiv 2601.11568; https://arxiv.org/abs/2411.07837 (FRUGAL)
 * @example
 * const opt = adaFrugal({ learningRate: 1e-3, steps: 400 })
 * let state = opt.init(params)
 * state = recordLoss(state, validationLoss) // after each evaluation
 */
export const adaFrugal = (options: AdaFrugalOptions): FrugalAdamTransformation => {
  const at = 'adaFrugal'
  if (!options || typeof options !== 'object') throw new FrugalError(`options must be an object with a learningRate and steps, got ${typeof options} (at ${at})`)
  checkKeys(options, [...FRUGAL_OPTION_KEYS.filter((k) => k !== 'density' && k !== 'updateGap'), 'steps', 'densityStart', 'densityEnd', 'gap'], at)
  const { steps, densityStart = 0.25, densityEnd = 0.05, gap, ...rest } = options
  check(steps, 'positiveInteger', `${at}.steps`)
  check(densityStart, 'unit', `${at}.densityStart`)
  check(densityEnd, 'unit', `${at}.densityEnd`)
  return build(
    { ...rest, density: linearDensity({ init: densityStart, end: densityEnd, transitionSteps: steps }), updateGap: adaFrugalGap(gap) },
    { projector: 'blocks', blockCount: 'floor' },
    at,
  )
}
/** The hyperparameters `injectHyperparams(adaFrugal)` makes state. @example injectHyperparams(adaFrugal)({ learningRate: 1e-3, steps: 400 }) */
adaFrugal.injectable = PRESET_INJECTABLE
