/**
 * Timing and table printing shared by the bench scripts: the one `median`,
 * the one `interleaved` (every contender of a table timed round by round in
 * rotating order, so load on a shared machine falls on all of them alike),
 * and `printTable`, whose rows must each name their thread count and whose
 * check column FAILs a row (and the script) beyond a stated tolerance.
 */
import type { Contender, Maker } from './contenders'

/**
 * The median of `xs` (the mean of the middle two for an even count); the one rule every target reads.
 * @example median([3, 1, 2]) // 2
 */
export const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b)
  const mid = s.length >> 1
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2
}

/** The result of timing one contender: milliseconds per call. */
export interface Timing {
  /** median of the timed runs, ms */
  readonly median: number
  /** fastest timed run, ms */
  readonly min: number
  /** how many runs were timed (after the warm-up) */
  readonly runs: number
  /** median process CPU time (user + system) per run, ms, where `interleaved` could read it (Node) */
  readonly cpu?: number
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
  return { median: median(samples), min: Math.min(...samples), runs: samples.length }
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
  /** the timed samples, ms (rows of `interleaved`) */
  readonly samples?: readonly number[]
  /** the contender's note (`Contender.note`), as `interleaved` printed it */
  readonly note?: string
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
  /**
   * The check: every row's output against the output of row `reference` (a
   * hand-written reference, e.g. a float64 loop); a row whose largest
   * relative difference exceeds `tolerance` is marked FAIL and sets
   * `process.exitCode = 1`. Without it the diff column is against the baseline and only informs.
   */
  readonly check?: { readonly reference: string; readonly tolerance: number }
  /**
   * The thread count of rows whose names do not state one: a table-wide
   * statement (`'1'`: everything here runs on one thread) or a rule per row.
   */
  readonly threads?: string | ((name: string) => string | undefined)
  /** a note per row name, printed under the table and marked on the row (e.g. why a contender runs on one thread here) */
  readonly notes?: Readonly<Record<string, string>>
}

/**
 * The thread count a row's name states (`…, 1 thread`, `…, 2 threads`), or
 * `GPU` for GPU rows; printTable refuses a timed row whose name states neither.
 * @example threadsOf('tfjs-wasm, 1 thread') // '1'
 */
export const threadsOf = (name: string): string | undefined => /(\d+) threads?\b/.exec(name)?.[1] ?? (/\bGPU\b/.test(name) ? 'GPU' : undefined)

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

/**
 * Largest |a_i − b_i| / (1 + |b_i|) over two outputs of the same length; with
 * `slack`, each |a_i − b_i| first loses slack_i (never below 0): the room a
 * reference grants where its own result is not determined (a sign of a tie).
 * @example maxRelDiff(Float32Array.of(1.5), Float32Array.of(1)) // 0.25
 */
export const maxRelDiff = (a: Float32Array, b: Float32Array, slack?: Float32Array): number => {
  if (a.length !== b.length || (slack && slack.length !== b.length)) return NaN
  let m = 0
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]) - (slack ? slack[i] : 0)
    // NaN stays NaN (Math.max would pass it on; a comparison would drop it)
    m = Number.isNaN(d) ? NaN : Math.max(m, Math.max(0, d) / (1 + Math.abs(b[i])))
    if (Number.isNaN(m)) return NaN
  }
  return m
}

/** A row of `printCheck`: a contender's output, or why it has none. */
export interface CheckRow {
  readonly name: string
  /** what the row ran on (`1`, `2`, …) */
  readonly threads: string
  readonly output?: Float32Array
  /** why there is no output (the contender did not run) */
  readonly skipped?: string
}

/** The reference of `printCheck`: a hand-written computation's output, and its per-element slack. */
export interface CheckReference {
  readonly name: string
  readonly output: Float32Array
  readonly slack?: Float32Array
}

/**
 * Prints a check table (no timings): each row's largest relative difference
 * from the reference (after the reference's slack) against `tolerance`; a
 * row beyond it, or without an output, FAILs and sets `process.exitCode = 1`.
 * Returns the names of the failed rows.
 * @example printCheck('FRUGAL blocks', [{ name: 'ours', threads: '1', output }], { name: 'by hand', output: ref }, 1e-5)
 */
export const printCheck = (title: string, rows: readonly CheckRow[], ref: CheckReference, tolerance: number): string[] => {
  const failed: string[] = []
  const header = ['row', 'threads', `max rel diff vs ${ref.name}`, `verdict (FAIL > ${tolerance})`]
  const body = rows.map((r) => {
    if (!r.output) {
      failed.push(r.name)
      return [r.name, r.threads, '-', `FAIL: ${(r.skipped ?? 'no output to check').replace(/^FAIL: /, '')}`]
    }
    const d = maxRelDiff(r.output, ref.output, ref.slack)
    const ok = d <= tolerance
    if (!ok) failed.push(r.name)
    return [r.name, r.threads, Number.isNaN(d) ? 'NaN (length or value)' : d.toExponential(1), ok ? 'ok' : 'FAIL']
  })
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)))
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ')
  console.log(`\n${title}`)
  console.log(line(header))
  console.log(widths.map((w) => '-'.repeat(w)).join('  '))
  for (const b of body) console.log(line(b))
  if (failed.length) {
    console.log(`FAIL  ${title}: ${failed.join(', ')} differ from ${ref.name} beyond ${tolerance}`)
    process.exitCode = 1
  }
  return failed
}

/**
 * Prints `rows` as an aligned table: name, median ms, min ms, the extra
 * columns, the ratio against the baseline row, the number of timed runs, and
 * (when rows carry outputs) the largest relative difference of each output
 * from the baseline's, so a fast wrong answer shows. A skipped row prints its reason.
 * @example printTable('matmul 512²', rows, { baseline: 'tfjs-cpu', ratio: 'speed', columns: [gflops] })
 */
export const printTable = (title: string, rows: readonly Row[], options: TableOptions): string[] => {
  const columns = options.columns ?? []
  const ratioHeader = options.ratio === 'time' ? `time / ${options.baseline}` : `speed / ${options.baseline}`
  const against = options.check?.reference ?? options.baseline
  const refOut = rows.find((r) => r.name === against)?.output
  const check = options.check !== undefined || rows.some((r) => r.output !== undefined)
  const checkHeader = options.check ? `max rel diff vs ${against} (FAIL > ${options.check.tolerance})` : `max rel diff vs ${against}`
  const header = ['contender', 'threads', 'median ms', 'min ms', ...columns.map((c) => c.header), ratioHeader, 'runs', ...(check ? [checkHeader] : [])]
  const failed: string[] = []
  const body = rows.map((r): string[] => {
    if (!isTiming(r.result)) return [r.name, `skipped: ${r.result.skipped}`]
    const rule = options.threads
    const threads = threadsOf(r.name) ?? (typeof rule === 'function' ? rule(r.name) : rule)
    if (threads === undefined) throw new Error(`bench row '${r.name}' does not name its thread count (…, N threads) in "${title}"`)
    const ratio = ratioOf(rows, r.name, options)
    let diff = '-'
    if (r.output && refOut) {
      const d = maxRelDiff(r.output, refOut)
      const bad = options.check !== undefined && !(d <= options.check.tolerance)
      if (bad) failed.push(r.name)
      diff = `${d.toExponential(1)}${bad ? ' FAIL' : options.check ? ' ok' : ''}`
    } else if (options.check && r.name !== against) {
      failed.push(r.name)
      diff = r.output ? `FAIL: no output of ${against}` : 'FAIL: no output to check'
    }
    return [
      r.name,
      threads,
      fmt(r.result.median),
      fmt(r.result.min),
      ...columns.map((c) => c.value(r.result as Timing)),
      ratio === undefined ? '-' : `${fmt(ratio)}×`,
      String(r.result.runs),
      ...(check ? [diff] : []),
    ]
  })
  const noted = Object.keys(options.notes ?? {}).filter((n) => rows.some((r) => r.name === n))
  rows.forEach((r, i) => noted.includes(r.name) && (body[i][0] = `${r.name} [${noted.indexOf(r.name) + 1}]`))
  const widths = header.map((h, i) => Math.max(h.length, ...body.filter((b) => b.length === header.length).map((b) => b[i].length)))
  const line = (cells: string[]): string =>
    cells.length === header.length
      ? cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ')
      : `${cells[0].padEnd(widths[0])}  ${cells.slice(1).join(' ')}`
  console.log(`\n${title}`)
  console.log(line(header))
  console.log(widths.map((w) => '-'.repeat(w)).join('  '))
  for (const b of body) console.log(line(b))
  noted.forEach((n, i) => console.log(`  [${i + 1}] ${n}: ${options.notes![n]}`))
  if (failed.length) {
    console.log(`FAIL  ${title}: ${failed.join(', ')} differ from ${against} beyond ${options.check?.tolerance}`)
    process.exitCode = 1
  }
  return failed
}

/** This process's CPU time (user + system) in ms, or undefined where there is no `process.cpuUsage` (a browser). */
const cpuNow = (): number | undefined => {
  const p = (globalThis as { process?: { cpuUsage?: () => { user: number; system: number } } }).process
  if (!p?.cpuUsage) return undefined
  const u = p.cpuUsage()
  return (u.user + u.system) / 1000
}

/** Options of `interleaved`. */
export interface InterleaveOptions {
  /** a contender named here with k runs only in rounds 0, k, 2k, … (a slow one, so a table fits its time) */
  readonly every?: Readonly<Record<string, number>>
  /** awaited once between the warm-up and the timed rounds (a browser page lets its workers start) */
  readonly beforeRounds?: () => void | Promise<void>
  /** called before each timed step of a contender; the function it returns, after it (e.g. to count what the step handed to workers) */
  readonly around?: (name: string) => () => void
  /** print each contender's note (default true; a page returns them in the rows instead) */
  readonly print?: boolean
  /**
   * runs of each contender per round, back to back (default 1); with more, the first of each
   * block is not timed: it pays for the switch (caches, and threads the previous contender left
   * spinning, as OpenMP's do after a parallel region)
   */
  readonly block?: number
}

/**
 * Builds every contender, runs each `warmup` times, reads its output, then
 * times `rounds` rounds in which each contender runs once (the order rotating
 * from round to round), and returns one row each (a contender that throws
 * while built, warmed up or timed becomes a skipped row with the reason).
 * Each timing also carries the median process CPU time per run (Node), which
 * load from other processes does not add to. After timing, every contender's
 * note is read (a contender whose note throws, e.g. on finding a leak, FAILs),
 * then every contender is disposed.
 * @example const rows = await interleaved([['tfjs-cpu, 1 thread', () => tfMatmul(tf)]], 15)
 */
export const interleaved = async (makers: readonly Maker[], rounds: number, warmup = 3, options: InterleaveOptions = {}): Promise<Row[]> => {
  const { every = {}, beforeRounds, around, print = true, block = 1 } = options
  const live: { name: string; c: Contender; samples: number[]; cpu: number[]; every: number; output?: Float32Array; failed?: string }[] = []
  const rows = new Map<string, Row>()
  const reason = (e: unknown) => (e instanceof Error ? e.message : String(e)).split('\n')[0].slice(0, 160)
  for (const [name, make] of makers) {
    try {
      const c = await make()
      for (let i = 0; i < warmup; i++) c.prepare?.(), await c.step()
      live.push({ name, c, samples: [], cpu: [], every: every[name] ?? 1, output: await c.output?.() })
    } catch (e) {
      rows.set(name, { name, result: { skipped: reason(e) } })
    }
  }
  await beforeRounds?.()
  for (let r = 0; r < rounds; r++)
    for (let j = 0; j < live.length; j++) {
      const x = live[(j + r) % live.length]
      if (r % x.every !== 0 || x.failed) continue
      for (let b = 0; b < block && !x.failed; b++) {
        x.c.prepare?.()
        const after = around?.(x.name)
        try {
          const c0 = cpuNow()
          const t0 = performance.now()
          const pending = x.c.step()
          if (pending) await pending
          // in a block, the first run pays for the switch from the previous contender and is not timed
          if (b > 0 || block === 1) {
            x.samples.push(performance.now() - t0)
            if (c0 !== undefined) x.cpu.push(cpuNow()! - c0)
          }
        } catch (e) {
          x.failed = `failed in round ${r + 1}: ${reason(e)}`
        }
        after?.()
      }
    }
  // a contender whose last look at its state (note, before anything is disposed) or whose dispose finds a leak fails its row
  const fail = (x: (typeof live)[number], e: unknown) => {
    rows.set(x.name, { ...rows.get(x.name), name: x.name, result: { skipped: `FAIL: ${(e as Error).message}` }, output: x.output })
    // in Node the script fails; a page hands the FAIL row back
    const p = (globalThis as { process?: { exitCode?: number } }).process
    if (p) p.exitCode = 1
  }
  for (const x of live) {
    if (x.failed) rows.set(x.name, { name: x.name, result: { skipped: x.failed }, output: x.output })
    else {
      const timing: Timing = { median: median(x.samples), min: Math.min(...x.samples), runs: x.samples.length, ...(x.cpu.length ? { cpu: median(x.cpu) } : {}) }
      rows.set(x.name, { name: x.name, result: timing, output: x.output, samples: x.samples })
    }
    try {
      const note = x.c.note?.()
      if (note) {
        if (print) console.log(`  ${x.name}: ${note}`)
        rows.set(x.name, { ...rows.get(x.name)!, note })
      }
    } catch (e) {
      fail(x, e)
    }
  }
  for (const x of live)
    try {
      x.c.dispose()
    } catch (e) {
      fail(x, e)
    }
  return makers.map(([name]) => rows.get(name)!)
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
