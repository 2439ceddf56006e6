/**
 * The optimizers compared, as configurations of `@frugal-ts/frugal`: AdamW,
 * and GaLore, BAdam, FRUGAL and AdaFRUGAL as presets of the FRUGAL split
 * combinator, all with the same learning-rate schedule (linear warmup, cosine decay).
 */
import type { GradientTransformation } from '@frugal-ts/frugal'
import {
  FrugalError, adaFrugal, adamw, badam, frugal, galore, scaleByAdam, scaleByLion, trace, warmupCosineDecaySchedule,
} from '@frugal-ts/frugal'
import { UsageError } from './errors'

/** The optimizer presets the CLI knows. */
export const OPTIMIZERS = ['adam', 'galore', 'badam', 'frugal', 'adafrugal'] as const
/** Projections of `--projection`. */
export const PROJECTIONS = ['blocks', 'randk', 'columns', 'svd'] as const
/** State-free parts of `--state-free`. */
export const STATE_FREE = ['signsgd', 'sgd', 'none'] as const
/** Stateful parts of `--stateful`. */
export const STATEFUL = ['adam', 'lion', 'sgdm'] as const

/** One optimizer run's configuration (what `results.json` records). */
export interface OptimizerConfig {
  readonly optimizer: (typeof OPTIMIZERS)[number]
  /** ρ, for galore, badam and frugal; ρ_start for adafrugal (which decays it to 0.05 over the run) */
  readonly density: number
  /** T: steps between subspace refreshes */
  readonly updateGap: number
  readonly projection: (typeof PROJECTIONS)[number]
  readonly stateFree: (typeof STATE_FREE)[number]
  readonly stateful: (typeof STATEFUL)[number]
  /** multiplies the state-free part (FRUGAL; the paper uses 0.1 for fine-tuning) */
  readonly stateFreeScale: number
  readonly weightDecay: number
}

/** The learning-rate schedule shared by every method. */
export interface ScheduleConfig {
  readonly lr: number
  readonly steps: number
  /** fraction of the steps spent warming up (default 0.1) */
  readonly warmup: number
  /** the final learning rate as a fraction of the peak (default 0.1) */
  readonly endFraction: number
}

/**
 * The preset defaults of each method, the paper's where they apply: FRUGAL
 * with AdamW on ρ = 0.25 of the blocks and signSGD on the rest; GaLore with svd
 * and no state-free part; BAdam with descending blocks and no state-free part.
 * @example presetDefaults('galore').projection // 'svd'
 */
export const presetDefaults = (optimizer: OptimizerConfig['optimizer']): Pick<OptimizerConfig, 'projection' | 'stateFree' | 'stateful'> => {
  switch (optimizer) {
    case 'galore':
      return { projection: 'svd', stateFree: 'none', stateful: 'adam' }
    case 'badam':
      return { projection: 'blocks', stateFree: 'none', stateful: 'adam' }
    default:
      return { projection: 'blocks', stateFree: 'signsgd', stateful: 'adam' }
  }
}

/**
 * The learning rate at each step: linear warmup from 0, then cosine decay to `endFraction · lr`.
 * @example learningRate({ lr: 3e-3, steps: 300, warmup: 0.1, endFraction: 0.1 })
 */
export const learningRate = (s: ScheduleConfig) => {
  const warmupSteps = Math.min(Math.round(s.warmup * s.steps), s.steps - 1)
  return warmupCosineDecaySchedule({ init: 0, peak: s.lr, warmupSteps, decaySteps: Math.max(s.steps, warmupSteps + 1), end: s.lr * s.endFraction })
}

const STATE_FREE_NAMES = { signsgd: 'signSgd', sgd: 'sgd', none: 'none' } as const

/**
 * The `GradientTransformation` of a configuration.
 * @throws UsageError for an option out of range, with the library's message
 * @example makeOptimizer({ optimizer: 'frugal', density: 0.25, updateGap: 25, ... }, schedule)
 */
export const makeOptimizer = (c: OptimizerConfig, s: ScheduleConfig): GradientTransformation<any> => {
  const lr = learningRate(s)
  try {
    if (c.optimizer === 'adam') return adamw({ learningRate: lr, weightDecay: c.weightDecay })
    const stateful =
      c.stateful === 'lion' ? scaleByLion() : c.stateful === 'sgdm' ? trace({ decay: 0.9 }) : scaleByAdam()
    const common = {
      learningRate: lr,
      density: c.density,
      updateGap: c.updateGap,
      weightDecay: c.weightDecay,
      projector: c.projection,
      stateFree: STATE_FREE_NAMES[c.stateFree],
      stateful,
      seed: 0,
    }
    if (c.optimizer === 'galore') return galore(common)
    if (c.optimizer === 'badam') return badam({ ...common, blockOrder: 'descending' })
    if (c.optimizer === 'adafrugal') {
      // AdaFRUGAL: ρ from c.density to 0.05 over the run, T from 100 (×1.5 at each validation plateau)
      const { density, updateGap, ...rest } = common
      return adaFrugal({ ...rest, stateFreeScale: c.stateFreeScale, steps: s.steps, densityStart: density, densityEnd: ADA_DENSITY_END, gap: { init: ADA_GAP_INIT } })
    }
    return frugal({ ...common, stateFreeScale: c.stateFreeScale })
  } catch (e) {
    if (e instanceof FrugalError) throw new UsageError(e.message)
    throw e
  }
}

/** AdaFRUGAL's final density ρ_end in the comparison (`frugal-ada`: ρ 0.25 → 0.05). */
export const ADA_DENSITY_END = 0.05
/** AdaFRUGAL's initial update gap T in the comparison (it grows from there). */
export const ADA_GAP_INIT = 100

/**
 * The update gap to use for a run of `steps` steps: the paper's T = 200 is
 * for runs of thousands of steps; shorter runs scale it down in proportion,
 * T = round(200 · steps / 2400), so every run sees about 12 subspace refreshes.
 * @example autoUpdateGap(300) // 25
 */
export const autoUpdateGap = (steps: number): number => Math.max(1, Math.min(200, Math.round((200 * steps) / 2400)))
