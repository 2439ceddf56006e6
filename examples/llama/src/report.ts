/**
 * The results of a comparison: the table printed on stdout, `results.json`,
 * and the loss-curve plot as `loss.svg` and `loss.png`.
 */
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { writeAtomic } from './checkpoint'
import type { Cell, StateCount } from './compare'
import { best, cells, meanSd } from './compare'
import type { OptimizerConfig } from './optimizers'
import type { Series } from './plot'
import { lossScene, toSvg } from './plot'
import { toPng } from './png'
import type { RunState, TrainConfig } from './train'

/** One finished run, as `results.json` records it. */
export interface RunResult {
  /** `adam`, `galore`, `badam`, `frugal-0.25`, `frugal-0`, … */
  readonly name: string
  /** mean validation cross-entropy, nats per byte */
  readonly valLoss: number
  /** exp(valLoss) */
  readonly perplexity: number
  /** the largest optimizer state of the run, bytes of tensor data */
  readonly stateBytes: number
  /** of that state, the bytes that belong to the projectable leaves (attention and MLP linears) */
  readonly projectableStateBytes?: number
  /** Adam's state on the same projectable leaves, bytes: the paper's denominator */
  readonly adamProjectableStateBytes?: number
  /** wall-clock ms per step, the first (tracing) step left out */
  readonly msPerStep: number
  /** CPU ms per step of this process (steadier than wall-clock time on a shared machine) */
  readonly cpuMsPerStep: number
  /** runs trained at the same time in this process (`--jobs`): their ms/step share the cores, and the process's CPU time counts them all */
  readonly jobs?: number
  /** training loss of every step */
  readonly trainLoss: readonly number[]
  /** validation loss at the evaluated steps */
  readonly valCurve: readonly { readonly step: number; readonly loss: number }[]
  readonly config: TrainConfig
}

/**
 * The conventional name of a run: the preset, with ρ for FRUGAL (`frugal-0.25`).
 * @example runName({ optimizer: 'frugal', density: 0.25, ... }) // 'frugal-0.25'
 */
export const runName = (o: OptimizerConfig): string =>
  o.optimizer === 'frugal' ? `frugal-${o.density}` : o.optimizer === 'adafrugal' ? 'frugal-ada' : o.optimizer

/**
 * A finished run's result.
 * @example resultOf('adam', config, state, 112.5, 108.2)
 */
export const resultOf = (name: string, config: TrainConfig, s: RunState, msPerStep: number, cpuMsPerStep: number, count?: StateCount): RunResult => {
  const valLoss = s.valCurve.length ? s.valCurve[s.valCurve.length - 1].loss : NaN
  return {
    name,
    valLoss,
    perplexity: Math.exp(valLoss),
    stateBytes: count?.whole ?? s.peakStateBytes,
    ...(count ? { projectableStateBytes: count.projectable, adamProjectableStateBytes: count.adamProjectable } : {}),
    msPerStep,
    cpuMsPerStep,
    trainLoss: s.trainLoss,
    valCurve: s.valCurve,
    config,
  }
}

/**
 * Bytes as the tables print them: MiB with two decimals from 1 MiB up, else KiB with one.
 * @example formatBytes(783024) // '764.7 KiB'
 */
export const formatBytes = (n: number): string => (n >= 1 << 20 ? `${(n / (1 << 20)).toFixed(2)} MiB` : `${(n / 1024).toFixed(1)} KiB`)
const bytes = formatBytes

/**
 * The comparison table (Markdown, so it pastes into a README): learning rate,
 * validation loss, perplexity, the projectable leaves' state as a share of
 * Adam's on them (the paper's count), optimizer-state bytes (and their share
 * of the first run's, Adam in a comparison), wall-clock and CPU ms per step.
 * @example console.log(formatTable(results))
 */
export const formatTable = (results: readonly RunResult[]): string => {
  const base = results[0]?.stateBytes || 1
  const rows = [
    ['run', 'lr', 'val loss', 'perplexity', 'projectable state vs Adam', 'optimizer state', `vs ${results[0]?.name ?? ''}`, 'ms/step', 'cpu ms/step'],
    ...results.map((r) => [
      r.name,
      String(r.config.schedule.lr),
      r.valLoss.toFixed(4),
      r.perplexity.toFixed(3),
      projectableShare(r),
      `${bytes(r.stateBytes)} (${r.stateBytes.toLocaleString('en-US')} B)`,
      `${((100 * r.stateBytes) / base).toFixed(0)}%`,
      r.msPerStep.toFixed(1),
      r.cpuMsPerStep.toFixed(1),
    ]),
  ]
  return markdown(rows) + jobsNote(results)
}

/** A line under a table whose runs trained several at a time (`--jobs`), saying what its times mean then. */
const jobsNote = (results: readonly RunResult[]): string => {
  const jobs = Math.max(1, ...results.map((r) => r.jobs ?? 1))
  return jobs > 1 ? `\n\n${jobs} runs at a time, each on its share of the cores: ms/step is each run's with the others running beside it; cpu ms/step is the process's, all of them (--jobs 1 times them alone)` : ''
}

/** @internal the projectable leaves' state as a percentage of Adam's on them ('—' when not measured) */
const projectableShare = (r: Pick<RunResult, 'projectableStateBytes' | 'adamProjectableStateBytes'>): string =>
  r.projectableStateBytes === undefined || !r.adamProjectableStateBytes ? '—' : `${pct((100 * r.projectableStateBytes) / r.adamProjectableStateBytes)}%`

const pct = (x: number): string => (x === 0 || x >= 10 ? x.toFixed(1) : x.toFixed(2))

const markdown = (rows: string[][]): string => {
  const widths = rows[0].map((_, j) => Math.max(...rows.map((r) => r[j].length)))
  const fmt = (r: string[]) => `| ${r.map((c, j) => (j === 0 ? c.padEnd(widths[j]) : c.padStart(widths[j]))).join(' | ')} |`
  const rule = `|${widths.map((w, j) => (j === 0 ? `:${'-'.repeat(w + 1)}` : `${'-'.repeat(w + 1)}:`)).join('|')}|`
  return [fmt(rows[0]), rule, ...rows.slice(1).map(fmt)].join('\n')
}

const median = (xs: readonly number[]): number => {
  const v = [...xs].filter(Number.isFinite).sort((a, b) => a - b)
  return v.length === 0 ? NaN : v.length % 2 ? v[(v.length - 1) / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2
}

const plusMinus = (c: Pick<Cell, 'mean' | 'sd' | 'valLosses'>): string =>
  `${c.mean.toFixed(4)} ± ${Number.isNaN(c.sd) ? '—' : c.sd.toFixed(4)} (${c.valLosses.length})`

/**
 * The sweep's summary table (Markdown): each method at the learning rate of
 * the grid with the lowest mean final validation loss, its mean ± sample sd
 * over seeds (n), the projectable leaves' state as a share of Adam's on the
 * same leaves (the paper's count), the whole state and its share of the first
 * method's, and the median ms per step. This is the table of
 * `bench/results/llama-sweep/`; it renders from the `runs` of a `results.json`.
 * @example console.log(sweepTable(JSON.parse(readFileSync('bench/results/llama-sweep/results.json', 'utf8')).runs))
 */
export const sweepTable = (runs: readonly RunResult[]): string => {
  const winners = best(cells(runs))
  const runsOf = (c: Cell) => runs.filter((r) => r.name === c.name && r.config.schedule.lr === c.lr)
  const base = runsOf(winners[0] ?? ({} as Cell))[0]?.stateBytes || 1
  const grid = [...new Set(runs.map((r) => r.config.schedule.lr))]
  const rows = [
    ['run', grid.length > 1 ? `best lr of ${grid.join(', ')}` : 'lr', 'val loss, mean ± sd (seeds)', 'perplexity', 'projectable state vs Adam', 'optimizer state', `vs ${winners[0]?.name ?? ''}`, 'ms/step (median)'],
    ...winners.map((c) => {
      const rs = runsOf(c)
      const r = rs[0]
      return [
        c.name,
        String(c.lr),
        plusMinus(c),
        Math.exp(c.mean).toFixed(3),
        projectableShare(r),
        bytes(r.stateBytes),
        `${((100 * r.stateBytes) / base).toFixed(0)}%`,
        median(rs.map((x) => x.msPerStep)).toFixed(1),
      ]
    }),
  ]
  return markdown(rows) + jobsNote(runs)
}

/**
 * The learning-rate grid (Markdown): mean ± sd of the final validation loss of every method at every rate, the winner in bold.
 * @example console.log(gridTable(results))
 */
export const gridTable = (runs: readonly RunResult[]): string => {
  const all = cells(runs)
  const winners = new Set(best(all))
  const grid = [...new Set(all.map((c) => c.lr))]
  const names = [...new Set(all.map((c) => c.name))]
  const rows = [
    ['run', ...grid.map((lr) => `lr ${lr}`)],
    ...names.map((n) => [
      n,
      ...grid.map((lr) => {
        const c = all.find((x) => x.name === n && x.lr === lr)
        return c ? (winners.has(c) ? `**${plusMinus(c)}**` : plusMinus(c)) : '—'
      }),
    ]),
  ]
  return markdown(rows)
}

/**
 * Which orderings of the methods (at their best rates) the seeds support: the
 * methods sorted by mean, and for each neighbouring pair whether their
 * mean ± sd intervals are apart (the gap exceeds the sum of the two sds) or overlap.
 * @example orderings(results) // ['adam < frugal-0.25: beyond 1 sd (gap 0.0301, sds 0.0060 + 0.0190)', …]
 */
export const orderings = (runs: readonly RunResult[]): string[] => {
  const sorted = best(cells(runs)).sort((a, b) => a.mean - b.mean)
  return sorted.slice(1).map((c, i) => {
    const a = sorted[i]
    const gap = c.mean - a.mean
    if (Number.isNaN(a.sd) || Number.isNaN(c.sd)) return `${a.name} < ${c.name}: one seed, no spread to judge by (gap ${gap.toFixed(4)})`
    const apart = gap > a.sd + c.sd
    return `${a.name} < ${c.name}: ${apart ? 'beyond 1 sd' : 'within 1 sd'} (gap ${gap.toFixed(4)}, sds ${a.sd.toFixed(4)} + ${c.sd.toFixed(4)})`
  })
}

/**
 * The plot's series for a sweep: each method at its best learning rate, the
 * training loss averaged over seeds, and the validation loss as mean with its
 * sd over seeds (drawn as error bars).
 * @example lossScene(sweepSeries(results), 'loss')
 */
export const sweepSeries = (runs: readonly RunResult[]): Series[] =>
  best(cells(runs)).map((c) => {
    const rs = runs.filter((r) => r.name === c.name && r.config.schedule.lr === c.lr)
    const steps = Math.min(...rs.map((r) => r.trainLoss.length))
    const trainLoss = Array.from({ length: steps }, (_, i) => rs.reduce((a, r) => a + r.trainLoss[i], 0) / rs.length)
    const valCurve = rs[0].valCurve.map((v, j) => {
      const { mean, sd } = meanSd(rs.map((r) => r.valCurve[j]?.loss ?? NaN))
      return { step: v.step, loss: mean, sd }
    })
    return { name: c.name, trainLoss, valCurve }
  })

/**
 * A one-line description of the shared setup, for titles and the table's caption.
 * @example describe(config) // '2 layers × 64 wide, 4 heads, context 32, batch 8, 300 steps, lr 0.003'
 */
export const describe = (c: TrainConfig): string =>
  `${c.model.layers} layers × ${c.model.width} wide, ${c.model.heads} heads, context ${c.model.context}, batch ${c.batch}, ${c.schedule.steps} steps, lr ${c.schedule.lr}`

/**
 * Writes `results.json`, `loss.svg` and `loss.png` into `dir` (created if
 * needed; each file written atomically).
 * @returns the paths written
 * @example writeResults('out', results, 'sotu')
 */
export const writeResults = (dir: string, results: readonly RunResult[], corpus: string, extra: Record<string, unknown> = {}): string[] => {
  mkdirSync(dir, { recursive: true })
  const enc = new TextEncoder()
  const json = { corpus, created: new Date().toISOString(), node: process.version, ...extra, runs: results }
  const repeated = cells(results).some((c) => c.valLosses.length > 1) || new Set(results.map((r) => r.config.schedule.lr)).size > 1
  const c0 = results[0]?.config
  const seeds = Math.max(...cells(results).map((c) => c.valLosses.length))
  const title = repeated
    ? `Tiny LLaMA ${c0?.model.layers}x${c0?.model.width}, ctx ${c0?.model.context}: mean of ${seeds} seed${seeds > 1 ? 's' : ''} at best lr, bars ±1 sd`
    : c0 ? `Tiny LLaMA (${c0.model.layers}x${c0.model.width}, context ${c0.model.context}): loss by optimizer` : 'loss'
  const scene = lossScene(repeated ? sweepSeries(results) : results, title)
  const files: [string, Uint8Array][] = [
    ['results.json', enc.encode(`${JSON.stringify(json, null, 1)}\n`)],
    ['loss.svg', enc.encode(toSvg(scene))],
    ['loss.png', toPng(scene)],
  ]
  return files.map(([name, data]) => {
    const path = join(dir, name)
    writeAtomic(path, data)
    return path
  })
}
