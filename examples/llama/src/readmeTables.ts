/**
 * The results tables of the READMEs, regenerated from committed results: a
 * table sits between `<!-- results:DIR FORMAT -->` and `<!-- /results -->`
 * (DIR relative to the repository root, holding the `results.json` that
 * `frugal-train --compare` writes; FORMAT one of `formats`), and
 * `regenerate` replaces what is between the markers with the table rendered
 * from DIR/results.json. `scripts/readme-tables.ts` runs it (`--check` only
 * reports); a test fails when a README differs from what it renders.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs'
import { join, relative } from 'node:path'
import type { RunResult } from './report'
import { formatBytes, formatTable, gridTable, sweepTable } from './report'
import { finetuneTable } from './finetune'

/** A committed `results.json`. */
export interface CommittedResults {
  readonly corpus: string
  readonly created: string
  readonly node: string
  readonly runs: readonly RunResult[]
}

/** The label of a run in the summary table: the preset, with ρ for the subspace methods (`galore (ρ .25)`). */
const label = (r: RunResult): string =>
  r.name === 'galore' || r.name === 'badam' ? `${r.name} (ρ ${String(r.config.optimizer.density).replace(/^0\./, '.')})` : r.name

/** The root README's short table: loss, perplexity, state (and its share of the first run's), ms/step. */
const summary = (runs: readonly RunResult[]): string => {
  const base = runs[0]?.stateBytes || 1
  const rows = runs.map(
    (r) => `| ${label(r)} | ${r.valLoss.toFixed(4)} | ${r.perplexity.toFixed(3)} | ${formatBytes(r.stateBytes)} | ${((100 * r.stateBytes) / base).toFixed(0)}% | ${r.msPerStep.toFixed(1)} |`,
  )
  return ['| run | val loss | perplexity | optimizer state | vs Adam | ms/step |', '|:--|--:|--:|--:|--:|--:|', ...rows].join('\n')
}

/**
 * The table formats: `report` is what `frugal-train --compare` prints (`formatTable`), `summary` the root README's,
 * `sweep` and `grid` those of a `--seeds`/`--lr-grid` sweep (`sweepTable`, `gridTable`), `finetune` the
 * fine-tuning table (`finetuneTable`, rendered from the folder's `finetune.json`).
 * @example formats.summary(results.runs)
 */
export const formats: Readonly<Record<string, (runs: readonly RunResult[]) => string>> = {
  report: formatTable,
  summary,
  sweep: sweepTable,
  grid: gridTable,
  finetune: (runs) => finetuneTable(runs as unknown as Parameters<typeof finetuneTable>[0]),
}

/** The committed file a format renders from. */
const resultsFile = (format: string): string => (format === 'finetune' ? 'finetune.json' : 'results.json')

const marker = /<!-- results:(\S+) (\S+) -->\n([\s\S]*?)<!-- \/results -->/g

/** One marked table of a file: where its results are, its format, and what the file holds there now. */
export interface MarkedTable {
  readonly dir: string
  readonly format: string
  readonly current: string
}

/**
 * The marked tables of a Markdown text.
 * @example markedTables(readFileSync('README.md', 'utf8')).map((t) => t.dir) // ['bench/results/llama-default', …]
 */
export const markedTables = (text: string): MarkedTable[] => [...text.matchAll(marker)].map((m) => ({ dir: m[1], format: m[2], current: m[3] }))

/**
 * The table of `format` rendered from `root/dir/results.json`.
 * @throws Error naming the file and the format when either is missing or malformed
 * @example renderTable('.', 'bench/results/llama-default', 'summary')
 */
export const renderTable = (root: string, dir: string, format: string): string => {
  const render = formats[format]
  if (!render) throw new Error(`unknown results table format '${format}' for ${dir} (known: ${Object.keys(formats).join(', ')})`)
  const file = join(root, dir, resultsFile(format))
  if (!existsSync(file)) throw new Error(`${file} not found: a results table must be rendered from committed results`)
  const results = JSON.parse(readFileSync(file, 'utf8')) as CommittedResults
  if (!Array.isArray(results.runs) || results.runs.length === 0) throw new Error(`${file} has no runs`)
  return `${render(results.runs)}\n`
}

/**
 * `text` with every marked table replaced by its rendering (markers kept).
 * @example renderMarked(readFileSync('README.md', 'utf8'), '.')
 */
export const renderMarked = (text: string, root: string): string =>
  text.replace(marker, (_, dir: string, format: string) => `<!-- results:${dir} ${format} -->\n${renderTable(root, dir, format)}<!-- /results -->`)

/**
 * The Markdown files that may hold results tables: every README.md and every
 * .md under bench/results (node_modules, dist and dot folders left out).
 * @example markdownFiles('.') // ['README.md', 'bench/README.md', …]
 */
export const markdownFiles = (root: string): string[] => {
  const out: string[] = []
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      if (e.name.startsWith('.') || e.name === 'node_modules' || e.name === 'dist' || e.name === 'out') continue
      const path = join(dir, e.name)
      if (e.isDirectory()) walk(path)
      else if (e.name === 'README.md' || (e.name.endsWith('.md') && relative(root, path).startsWith(join('bench', 'results')))) out.push(relative(root, path))
    }
  }
  walk(root)
  return out.sort()
}

/** A file whose marked tables differ from their rendering. */
export interface Stale {
  readonly file: string
  readonly rendered: string
}

/**
 * The files (of `markdownFiles`) whose marked tables differ from what their committed results render.
 * @example staleFiles('.') // [] when every README table is current
 */
export const staleFiles = (root: string): Stale[] =>
  markdownFiles(root).flatMap((file) => {
    const text = readFileSync(join(root, file), 'utf8')
    const rendered = renderMarked(text, root)
    return rendered === text ? [] : [{ file, rendered }]
  })
