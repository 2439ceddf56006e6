/**
 * The comparison as evidence: every planned configuration repeated over
 * `--seeds` seeds and the learning rates of `--lr-grid`, each run's state
 * counted the way the paper counts it (the projectable leaves' state against
 * Adam's on the same leaves), and a summary per method at its best rate
 * (mean ± sd over seeds).
 */
import type { Tensor } from '@frugal-ts/core'
import { Tree, dispose, scope } from '@frugal-ts/core'
import { defaultProjectable, recordLoss, scaleByAdam, stateBytes, stateBytesByParam } from '@frugal-ts/frugal'
import type { Flags } from './args'
import { UsageError } from './errors'
import type { LlamaParams } from './model'
import type { RunState, TrainConfig, Trainer } from './train'

/**
 * The learning rates of `--lr-grid`: a comma-separated list of positive numbers, at most 8, no repeats.
 * @throws UsageError naming the bad entry
 * @example parseLrGrid('1e-3,3e-3,1e-2') // [0.001, 0.003, 0.01]
 */
export const parseLrGrid = (raw: string): number[] => {
  const parts = raw.split(',').map((p) => p.trim())
  const values = parts.map((p, i) => {
    const v = p === '' ? NaN : Number(p)
    if (!(Number.isFinite(v) && v > 0)) throw new UsageError(`--lr-grid entries must be numbers > 0, got ${JSON.stringify(p)} (entry ${i + 1} of ${JSON.stringify(raw)})`)
    return v
  })
  if (values.length > 8) throw new UsageError(`--lr-grid takes at most 8 learning rates, got ${values.length}`)
  if (new Set(values).size !== values.length) throw new UsageError(`--lr-grid has a repeated learning rate (${JSON.stringify(raw)})`)
  return values
}

/**
 * Every run of a plan: for each of `seeds` seeds from each configuration's
 * seed, each configuration at each learning rate (its own when there is no
 * grid). Seeds come outermost, so a sweep stopped early holds whole seeds.
 * @example expandRuns(configs, { seeds: 3, lrGrid: [1e-3, 3e-3] }).length // 6 per configuration
 */
export const expandRuns = (configs: readonly TrainConfig[], o: { readonly seeds: number; readonly lrGrid?: readonly number[] }): TrainConfig[] =>
  Array.from({ length: o.seeds }, (_, k) =>
    configs.flatMap((c) => (o.lrGrid ?? [c.schedule.lr]).map((lr) => ({ ...c, seed: c.seed + k, schedule: { ...c.schedule, lr } }))),
  ).flat()

/**
 * The `--seeds` and `--lr-grid` of the flags.
 * @example repetitions({ seeds: 3 }) // { seeds: 3, lrGrid: undefined }
 */
export const repetitions = (f: Flags): { seeds: number; lrGrid?: number[] } => ({
  seeds: (f.seeds as number | undefined) ?? 1,
  lrGrid: f['lr-grid'] === undefined ? undefined : parseLrGrid(f['lr-grid'] as string),
})

/** A run's optimizer state split the way the paper counts it. */
export interface StateCount {
  /** bytes of the state that belongs to the projectable leaves (moments, bases, indices) */
  readonly projectable: number
  /** bytes of Adam's state (scaleByAdam: first and second moments and step count) on the same leaves */
  readonly adamProjectable: number
  /** bytes of the whole state */
  readonly whole: number
}

const projectablePaths = (params: LlamaParams | Readonly<Record<string, Tensor>>): string[] =>
  Tree.leavesWithPath(params as unknown as Tree.Tree<Tensor>)
    .filter(([p, t]) => defaultProjectable(p, t))
    .map(([p]) => p.map(String).join('.'))

/**
 * The state of a run counted per part: the projectable leaves' share (the
 * state a FRUGAL-family optimizer keeps for them; for AdamW, its own state on
 * them), Adam's state on the same leaves, and the whole state.
 * @param opt the optimizer state
 * @param params the parameters it belongs to
 * @param adamw whether the optimizer is AdamW (its state is not split per leaf like FRUGAL's)
 * @example stateCount(state.opt, state.params, false).projectable
 */
export const stateCount = (opt: unknown, params: LlamaParams | Readonly<Record<string, Tensor>>, adamw: boolean): StateCount => {
  const paths = projectablePaths(params)
  const leaves = new Map(Tree.leavesWithPath(params as unknown as Tree.Tree<Tensor>).map(([p, t]) => [p.map(String).join('.'), t]))
  const adamProjectable = paths.reduce((s, p) => s + scope(() => stateBytes(scaleByAdam().init({ w: leaves.get(p)! }))), 0)
  const whole = stateBytes(opt)
  if (adamw) return { projectable: adamProjectable, adamProjectable, whole }
  const byParam = stateBytesByParam((opt as { leaves: unknown }).leaves, params as unknown as Tree.Tree<Tensor>)
  return { projectable: paths.reduce((s, p) => s + (byParam[p] ?? 0), 0), adamProjectable, whole }
}

/**
 * The projectable share at the run's largest state: the non-projectable part
 * of the state does not change during a run, so the peak of the whole state
 * less that part is the peak of the projectable part.
 * @example peakCount(stateCount(s0.opt, s0.params, false), state.peakStateBytes)
 */
export const peakCount = (atStart: StateCount, peakWhole: number): StateCount => ({
  projectable: atStart.projectable + Math.max(0, peakWhole - atStart.whole),
  adamProjectable: atStart.adamProjectable,
  whole: Math.max(peakWhole, atStart.whole),
})

const hasLossHistory = (opt: unknown): opt is { losses: Tensor } =>
  typeof opt === 'object' && opt !== null && 'losses' in opt && (opt as { losses: unknown }).losses !== null

/**
 * A trainer that feeds each validation loss into a FRUGAL state that keeps a
 * loss history (AdaFRUGAL's gap): before the step after an evaluation, the
 * evaluation's loss is recorded with `recordLoss`. A pure function of the run
 * state, so resuming from a checkpoint feeds the same losses; other optimizers
 * are left alone.
 * @example runTraining(feedValidation(createTrainer(config, corpus)))
 */
export const feedValidation = (t: Trainer): Trainer => ({
  ...t,
  step: (s: RunState) => {
    const last = s.valCurve.at(-1)
    if (!last || last.step !== s.position || !hasLossHistory(s.opt)) return t.step(s)
    const old = s.opt.losses
    // in a scope, so recordLoss's intermediates (the new entry, the shifted window) are released
    const opt = scope(() => recordLoss(s.opt as never, last.loss))
    dispose(old)
    return t.step({ ...s, opt })
  },
})

/** One method at one learning rate over its seeds. */
export interface Cell {
  readonly name: string
  readonly lr: number
  readonly seeds: readonly number[]
  /** final validation losses, one per seed */
  readonly valLosses: readonly number[]
  readonly mean: number
  /** sample standard deviation (n − 1); NaN for one seed */
  readonly sd: number
}

/**
 * Mean and sample standard deviation (n − 1; NaN for one value).
 * @example meanSd([1, 2, 3]) // { mean: 2, sd: 1 }
 */
export const meanSd = (xs: readonly number[]): { mean: number; sd: number } => {
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length
  const sd = xs.length > 1 ? Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (xs.length - 1)) : NaN
  return { mean, sd }
}

/**
 * The runs grouped by method and learning rate, in the order they ran.
 * @example cells(results)[0] // { name: 'adam', lr: 0.001, seeds: [0, 1, 2], mean, sd, … }
 */
export const cells = (runs: readonly { readonly name: string; readonly valLoss: number; readonly config: TrainConfig }[]): Cell[] => {
  const groups = new Map<string, { name: string; lr: number; seeds: number[]; valLosses: number[] }>()
  for (const r of runs) {
    const key = `${r.name}@${r.config.schedule.lr}`
    const g = groups.get(key) ?? { name: r.name, lr: r.config.schedule.lr, seeds: [], valLosses: [] }
    g.seeds.push(r.config.seed)
    g.valLosses.push(r.valLoss)
    groups.set(key, g)
  }
  return [...groups.values()].map((g) => ({ ...g, ...meanSd(g.valLosses) }))
}

/**
 * Each method's best cell: the learning rate with the lowest mean final validation loss.
 * @example best(cells(results)).map((c) => `${c.name} ${c.lr}`)
 */
export const best = (all: readonly Cell[]): Cell[] => {
  const out = new Map<string, Cell>()
  for (const c of all) {
    const b = out.get(c.name)
    if (!b || c.mean < b.mean || (Number.isNaN(b.mean) && !Number.isNaN(c.mean))) out.set(c.name, c)
  }
  return [...out.values()]
}
