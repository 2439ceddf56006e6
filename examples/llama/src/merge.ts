/**
 * Merges the `results.json` of runs made in pieces (a sweep split over
 * processes) into one results folder: `results.json` with every run (seeds
 * outermost, then the methods in comparison order, then learning rate), the
 * plot, and `table.md` with the grid, the summary and the orderings.
 *
 * usage: node --import tsx --conditions=source src/merge.ts OUT_DIR results.json…
 */
import { readFileSync } from 'node:fs'
import { join, relative, resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { writeAtomic } from './checkpoint'
import { UsageError } from './errors'
import type { RunResult } from './report'
import { gridTable, orderings, sweepTable, writeResults } from './report'

const ORDER = ['adam', 'galore', 'badam', 'frugal-0.25', 'frugal-0', 'frugal-ada']

/**
 * The runs of several results files, one per (method, lr, seed), sorted seed → method → lr.
 * @throws UsageError when a file is not a results file, or two hold the same run
 * @example mergeRuns([a.runs, b.runs])
 */
export const mergeRuns = (parts: readonly (readonly RunResult[])[]): RunResult[] => {
  const seen = new Set<string>()
  const all = parts.flat().map((r) => {
    const key = `${r.name}@${r.config.schedule.lr}#${r.config.seed}`
    if (seen.has(key)) throw new UsageError(`two results hold the run ${key}`)
    seen.add(key)
    return r
  })
  const rank = (n: string) => (ORDER.includes(n) ? ORDER.indexOf(n) : ORDER.length)
  return all.sort((a, b) => a.config.seed - b.config.seed || rank(a.name) - rank(b.name) || a.config.schedule.lr - b.config.schedule.lr)
}

/**
 * The Markdown of a sweep's `table.md`: the grid (when there are several rates), the summary at each method's best rate, the orderings.
 * With `dir` (the results folder, relative to the repository root) the tables sit between results markers, so that
 * `pnpm readme-tables` checks them against the results.json they are rendered from.
 * @example sweepMarkdown(runs, 'caption', 'bench/results/llama-sweep')
 */
export const sweepMarkdown = (runs: readonly RunResult[], caption: string, dir?: string): string => {
  const rates = new Set(runs.map((r) => r.config.schedule.lr)).size
  const marked = (format: string, table: string): string[] => (dir === undefined ? [table] : [`<!-- results:${dir} ${format} -->`, table, '<!-- /results -->'])
  return [
    caption,
    ...(rates > 1 ? ['', 'Final validation loss, mean ± sd (seeds), by learning rate (best in bold):', '', ...marked('grid', gridTable(runs))] : []),
    '',
    'Each method at its best learning rate:',
    '',
    ...marked('sweep', sweepTable(runs)),
    '',
    'Orderings (neighbours by mean; "beyond 1 sd" when the mean ± sd intervals are apart):',
    '',
    ...orderings(runs).map((o) => `- ${o}`),
    '',
  ].join('\n')
}

/**
 * Reads the results files, writes the merged results, plot and table into `out`.
 * @returns the paths written
 * @example merge('bench/results/llama-sweep', ['a/results.json', 'b/results.json'], 'caption')
 */
export const merge = (out: string, files: readonly string[], caption: string): string[] => {
  const parts = files.map((f) => {
    const j = JSON.parse(readFileSync(f, 'utf8')) as { corpus?: string; runs?: RunResult[] }
    if (!Array.isArray(j.runs)) throw new UsageError(`${f}: not a results.json (no runs)`)
    return { corpus: j.corpus ?? '', runs: j.runs }
  })
  const runs = mergeRuns(parts.map((p) => p.runs))
  const seeds = new Set(runs.map((r) => r.config.seed)).size
  const lrGrid = [...new Set(runs.map((r) => r.config.schedule.lr))].sort((a, b) => a - b)
  const written = writeResults(out, runs, parts[0]?.corpus ?? '', { seeds, lrGrid, mergedFrom: files.length })
  const table = join(out, 'table.md')
  writeAtomic(table, new TextEncoder().encode(sweepMarkdown(runs, caption, relative(fileURLToPath(new URL('../../..', import.meta.url)), resolve(out)))))
  return [...written, table]
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const [out, ...files] = process.argv.slice(2)
  if (!out || files.length === 0) {
    process.stderr.write('usage: merge.ts OUT_DIR results.json… (caption from $CAPTION)\n')
    process.exitCode = 2
  } else process.stdout.write(`wrote ${merge(out, files, process.env.CAPTION ?? '').join(', ')}\n`)
}
