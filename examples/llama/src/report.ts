/**
 * The results of a comparison: the table printed on stdout, `results.json`,
 * and the loss-curve plot as `loss.svg` and `loss.png`.
 */
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { writeAtomic } from './checkpoint'
import type { OptimizerConfig } from './optimizers'
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
  /** wall-clock ms per step, the first (tracing) step left out */
  readonly msPerStep: number
  /** CPU ms per step of this process (steadier than wall-clock time on a shared machine) */
  readonly cpuMsPerStep: number
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
export const runName = (o: OptimizerConfig): string => (o.optimizer === 'frugal' ? `frugal-${o.density}` : o.optimizer)

/**
 * A finished run's result.
 * @example resultOf('adam', config, state, 112.5, 108.2)
 */
export const resultOf = (name: string, config: TrainConfig, s: RunState, msPerStep: number, cpuMsPerStep: number): RunResult => {
  const valLoss = s.valCurve.length ? s.valCurve[s.valCurve.length - 1].loss : NaN
  return {
    name,
    valLoss,
    perplexity: Math.exp(valLoss),
    stateBytes: s.peakStateBytes,
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
 * The comparison table (Markdown, so it pastes into a README): validation
 * loss, perplexity, optimizer-state bytes (and their share of the first
 * run's, Adam in a comparison), wall-clock and CPU ms per step.
 * @example console.log(formatTable(results))
 */
export const formatTable = (results: readonly RunResult[]): string => {
  const base = results[0]?.stateBytes || 1
  const rows = [
    ['run', 'val loss', 'perplexity', 'optimizer state', `vs ${results[0]?.name ?? ''}`, 'ms/step', 'cpu ms/step'],
    ...results.map((r) => [
      r.name,
      r.valLoss.toFixed(4),
      r.perplexity.toFixed(3),
      `${bytes(r.stateBytes)} (${r.stateBytes.toLocaleString('en-US')} B)`,
      `${((100 * r.stateBytes) / base).toFixed(0)}%`,
      r.msPerStep.toFixed(1),
      r.cpuMsPerStep.toFixed(1),
    ]),
  ]
  const widths = rows[0].map((_, j) => Math.max(...rows.map((r) => r[j].length)))
  const fmt = (r: string[]) => `| ${r.map((c, j) => (j === 0 ? c.padEnd(widths[j]) : c.padStart(widths[j]))).join(' | ')} |`
  const rule = `|${widths.map((w, j) => (j === 0 ? `:${'-'.repeat(w + 1)}` : `${'-'.repeat(w + 1)}:`)).join('|')}|`
  return [fmt(rows[0]), rule, ...rows.slice(1).map(fmt)].join('\n')
}

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
export const writeResults = (dir: string, results: readonly RunResult[], corpus: string): string[] => {
  mkdirSync(dir, { recursive: true })
  const enc = new TextEncoder()
  const json = { corpus, created: new Date().toISOString(), node: process.version, runs: results }
  const scene = lossScene(results, results[0] ? `Tiny LLaMA (${results[0].config.model.layers}x${results[0].config.model.width}, context ${results[0].config.model.context}): loss by optimizer` : 'loss')
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
