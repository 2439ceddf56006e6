/**
 * Timing and table printing shared by the bench scripts. Every contender of a
 * table is measured in the same process, so the ratio column compares runs on
 * the same machine under the same load.
 */

/** The result of timing one contender: milliseconds per call. */
export interface Timing {
  /** median of the timed runs, ms */
  readonly median: number
  /** fastest timed run, ms */
  readonly min: number
  /** how many runs were timed (after the warm-up) */
  readonly runs: number
}

/** Options of `time`. */
export interface TimeOptions {
  /** untimed calls first (JIT compilation, kernel caches, wasm tiering); default 3 */
  readonly warmup?: number
  /** timed calls; default 10 */
  readonly runs?: number
  /** stop timing early once this many ms were spent in timed runs (at least 3 runs); default Infinity */
  readonly budgetMs?: number
}

/**
 * Calls `fn` `warmup` times untimed, then times `runs` calls one by one with
 * `performance.now()` and returns their median and minimum in ms. `fn` must
 * finish its work before returning (read results back on lazy backends).
 * @example const t = time(() => matmul(a, b).dataSync(), { warmup: 2, runs: 10 })
 */
export const time = (fn: () => void, options: TimeOptions = {}): Timing => {
  const { warmup = 3, runs = 10, budgetMs = Infinity } = options
  for (let i = 0; i < warmup; i++) fn()
  const samples: number[] = []
  let spent = 0
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now()
    fn()
    const dt = performance.now() - t0
    samples.push(dt)
    spent += dt
    if (spent > budgetMs && samples.length >= 3) break
  }
  samples.sort((a, b) => a - b)
  const mid = samples.length >> 1
  const median = samples.length % 2 === 1 ? samples[mid] : (samples[mid - 1] + samples[mid]) / 2
  return { median, min: samples[0], runs: samples.length }
}

/** What a contender returns: its timing and, for the check column, its flattened output from one call. */
export interface Measured {
  readonly timing: Timing
  readonly output?: Float32Array
}

/** One contender: its timing (and output), or why it could not run. */
export interface Row {
  readonly name: string
  readonly result: Timing | { readonly skipped: string }
  readonly output?: Float32Array
}

/** A derived column computed from a row's timing. */
export interface Column {
  readonly header: string
  readonly value: (t: Timing) => string
}

/** Options of `printTable`. */
export interface TableOptions {
  /** name of the row the ratio is taken against */
  readonly baseline: string
  /**
   * `'time'`: ratio = time / baseline time (lower is faster);
   * `'speed'`: ratio = baseline time / time (higher is faster, e.g. a GFLOP/s ratio)
   */
  readonly ratio: 'time' | 'speed'
  /** extra columns after the timing ones */
  readonly columns?: readonly Column[]
}

const isTiming = (r: Row['result']): r is Timing => 'median' in r

/** Formats a number with `digits` significant digits, without exponent notation for usual magnitudes. */
export const fmt = (x: number, digits = 3): string => {
  if (!Number.isFinite(x)) return String(x)
  if (x === 0) return '0'
  const d = Math.max(0, digits - 1 - Math.floor(Math.log10(Math.abs(x))))
  return x.toFixed(Math.min(d, 6))
}

/** The ratio of `name`'s timing against the baseline (see `TableOptions.ratio`), or undefined when either did not run. */
export const ratioOf = (rows: readonly Row[], name: string, options: Pick<TableOptions, 'baseline' | 'ratio'>): number | undefined => {
  const base = rows.find((r) => r.name === options.baseline)?.result
  const row = rows.find((r) => r.name === name)?.result
  if (!base || !row || !isTiming(base) || !isTiming(row)) return undefined
  return options.ratio === 'time' ? row.median / base.median : base.median / row.median
}

/** Largest |a_i − b_i| / (1 + |b_i|) over two outputs of the same length. */
export const maxRelDiff = (a: Float32Array, b: Float32Array): number => {
  if (a.length !== b.length) return NaN
  let m = 0
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]) / (1 + Math.abs(b[i])))
  return m
}

/**
 * Prints `rows` as an aligned table: name, median ms, min ms, the extra
 * columns, the ratio against the baseline row, the number of timed runs, and
 * (when rows carry outputs) the largest relative difference of each output
 * from the baseline's, so a fast wrong answer shows. A skipped row prints its reason.
 * @example printTable('matmul 512²', rows, { baseline: 'tfjs-cpu', ratio: 'speed', columns: [gflops] })
 */
export const printTable = (title: string, rows: readonly Row[], options: TableOptions): void => {
  const columns = options.columns ?? []
  const ratioHeader = options.ratio === 'time' ? `time / ${options.baseline}` : `speed / ${options.baseline}`
  const baseOut = rows.find((r) => r.name === options.baseline)?.output
  const check = rows.some((r) => r.output !== undefined)
  const header = ['contender', 'median ms', 'min ms', ...columns.map((c) => c.header), ratioHeader, 'runs', ...(check ? [`max rel diff vs ${options.baseline}`] : [])]
  const body = rows.map((r): string[] => {
    if (!isTiming(r.result)) return [r.name, `skipped: ${r.result.skipped}`]
    const ratio = ratioOf(rows, r.name, options)
    const diff = r.output && baseOut ? maxRelDiff(r.output, baseOut).toExponential(1) : '-'
    return [
      r.name,
      fmt(r.result.median),
      fmt(r.result.min),
      ...columns.map((c) => c.value(r.result as Timing)),
      ratio === undefined ? '-' : `${fmt(ratio)}×`,
      String(r.result.runs),
      ...(check ? [diff] : []),
    ]
  })
  const widths = header.map((h, i) => Math.max(h.length, ...body.filter((b) => b.length === header.length).map((b) => b[i].length)))
  const line = (cells: string[]): string =>
    cells.length === header.length
      ? cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ')
      : `${cells[0].padEnd(widths[0])}  ${cells.slice(1).join(' ')}`
  console.log(`\n${title}`)
  console.log(line(header))
  console.log(widths.map((w) => '-'.repeat(w)).join('  '))
  for (const b of body) console.log(line(b))
}

/** Runs `fn` as a contender; an exception becomes a skipped row carrying its message, instead of ending the script. */
export const attempt = async (name: string, fn: () => Measured | Promise<Measured>): Promise<Row> => {
  try {
    const { timing, output } = await fn()
    return { name, result: timing, output }
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e)
    return { name, result: { skipped: msg.split('\n')[0].slice(0, 160) } }
  }
}
