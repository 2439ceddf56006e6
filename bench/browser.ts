/**
 * bench/wasm.ts's workloads in headless Chromium, where every library has
 * worker threads: the page (bench/browser/) is served by Vite with the
 * cross-origin isolation headers, so SharedArrayBuffer and Web Workers are
 * there, and jax-js's wasm device and tfjs-wasm can use threads (in Node 20,
 * without a global `Worker`, neither does). Contenders:
 *
 * 1. one Adam step over 10 M float32 parameters (10 × 1000×1000): ours
 *    (`jit(adam)`, state and params donated) on `cpu-wasm` with 1 thread
 *    and with all, the hand-written SIMD floor (1 thread), a plain fused JS
 *    loop, jax-js `jit` (same math) read with `dataSync` (kernels on the
 *    page's thread) and with `await` (kernels on its Web Workers), and
 *    tf.train.adam on tfjs-wasm (threaded SIMD build);
 * 2. matmul 512²: ours 1 thread and all, tfjs-wasm, jax-js `jit` both ways;
 * 3. an MLP 784-256-10, batch 64, loss and gradients: ours
 *    `jit(valueAndGrad)` 1 thread and all, jax-js `jit(valueAndGrad)` both ways.
 *
 * The page times a table's contenders interleaved (one step each per round,
 * rotating the order) and hands back the samples and a strided sample of
 * each output; this script prints the tables with bench/src/table.ts, each
 * contender's notes (the compiled program; what its timed steps handed to
 * Web Workers), and the target lines of bench/wasm.ts, measured here.
 *
 * Run: node --import tsx --conditions=source bench/browser.ts   (BENCH_ONLY=adam|matmul|mlp, comma-separated,
 * to run some tables; FRUGAL_CHROMIUM: another Chromium binary). Without Chromium it says so and exits 0.
 */
import { existsSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import type { AddressInfo } from 'node:net'
import { cpus, loadavg } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Plugin } from 'vite'
import type { TableJson, TableName } from './browser/api'
import type { Row, Timing } from './src/table'
import type { TableOptions } from './src/table'
import { fmt, median, printTable, ratioOf, threadsOf } from './src/table'

const executablePath = process.env.FRUGAL_CHROMIUM ?? '/usr/bin/chromium'
if (!existsSync(executablePath)) {
  console.log(
    `bench/browser.ts: no Chromium at ${executablePath}, so nothing was run. ` +
      "Install Debian's Chromium (apt-get install -y chromium) or set FRUGAL_CHROMIUM to a Chromium binary.",
  )
  process.exit(0)
}
const { chromium } = await import('playwright-core')
const { createServer, defaultClientConditions } = await import('vite')

const ONLY = (process.env.BENCH_ONLY ?? '').split(',').filter(Boolean)
const wanted = (t: TableName) => ONLY.length === 0 || ONLY.includes(t)
const startedAt = performance.now()
const require = createRequire(import.meta.url)
const here = (path: string) => fileURLToPath(new URL(path, import.meta.url))
/** the version in a package's package.json (found above its entry point: not every package exports ./package.json) */
const versionOf = (pkg: string): string => {
  for (let dir = dirname(require.resolve(pkg)); dir !== dirname(dir); dir = dirname(dir)) {
    const file = join(dir, 'package.json')
    if (!existsSync(file)) continue
    const json = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string }
    if (json.name === pkg) return json.version ?? '?'
  }
  return '?'
}

// ------------------------------------------------------------------ server and browser

/**
 * bench/src/contenders.ts imports node:module and node:path to find tfjs's
 * .wasm files in Node; the page uses only its seeded generators, so in the
 * browser those imports get stand-ins that are never called.
 */
const nodeStandIns: Plugin = {
  name: 'bench-node-stand-ins',
  enforce: 'pre',
  resolveId: (id, importer) => (importer?.endsWith('/bench/src/contenders.ts') && (id === 'node:module' || id === 'node:path') ? `\0stand-in:${id}` : undefined),
  load: (id) =>
    id.startsWith('\0stand-in:')
      ? "const absent = () => { throw new Error('bench/src/contenders.ts: no Node modules in the browser') }\n" +
        'export const createRequire = () => ({ resolve: absent })\nexport const dirname = absent\n'
      : undefined,
}

const server = await createServer({
  configFile: false,
  root: here('./browser/'),
  cacheDir: here('./node_modules/.vite-browser'),
  logLevel: 'warn',
  plugins: [nodeStandIns],
  // the workspace packages from their TypeScript sources (their `source` export condition)
  resolve: { conditions: ['source', ...defaultClientConditions], dedupe: ['@tensorflow/tfjs-core'] },
  // pre-bundled at start-up, so that no re-optimization reloads the page during a run
  optimizeDeps: {
    include: ['@jax-js/jax', '@tensorflow/tfjs', '@tensorflow/tfjs-backend-wasm', '@frugal-ts/core > fp-ts/Either', '@frugal-ts/core > fp-ts/function', '@frugal-ts/core > io-ts'],
  },
  server: {
    host: '127.0.0.1',
    port: 0,
    hmr: false,
    // cross-origin isolation: SharedArrayBuffer, and so shared wasm memory for every library's workers
    headers: { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' },
  },
})
await server.listen()
const url = `http://127.0.0.1:${(server.httpServer!.address() as AddressInfo).port}/`
const browser = await chromium.launch({
  executablePath,
  args: ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--js-flags=--expose-gc'],
})
const close = async () => {
  await browser.close()
  await server.close()
}

try {
  const page = await browser.newPage()
  const wasmFiles = new Set<string>()
  page.on('request', (r) => r.url().endsWith('.wasm') && wasmFiles.add(r.url().split('/').pop()!))
  page.on('console', (m) => (m.type() === 'warning' || m.type() === 'error') && console.log(`  [page ${m.type()}] ${m.text()}`))
  page.on('pageerror', (e) => console.log(`  [page error] ${e.message}`))
  page.on('response', (r) => r.status() >= 400 && console.log(`  [page] ${r.status()} ${r.url()}`))
  await page.goto(url, { waitUntil: 'load' })
  await page.waitForFunction(() => 'bench' in window, undefined, { timeout: 120_000 })

  const tfWasmDir = `/@fs${dirname(require.resolve('@tensorflow/tfjs-backend-wasm'))}/`
  const info = await page.evaluate((o) => window.bench.setup(o), { tfWasmDir })
  console.log(
    `Chromium ${browser.version()} (headless, ${executablePath}); ${info.userAgent}\n` +
      `crossOriginIsolated ${info.crossOriginIsolated}, SharedArrayBuffer ${info.sharedArrayBuffer}, navigator.hardwareConcurrency ${info.hardwareConcurrency}; ` +
      `host: ${cpus().length} cores (${cpus()[0]?.model ?? '?'}), load average ${loadavg().map((x) => x.toFixed(1)).join(' ')}\n` +
      `jax-js ${versionOf('@jax-js/jax')}, tfjs ${versionOf('@tensorflow/tfjs')}; .wasm files the page fetched: ${[...wasmFiles].join(', ') || 'none'}`,
  )
  for (const line of info.contenders) console.log(`  ${line}`)

  const verdict = (ok: boolean | undefined) => (ok === undefined ? 'NOT MEASURED' : ok ? 'PASS' : 'FAIL')
  const targets: string[] = []
  const target = (line: string, ok: boolean | undefined) => targets.push(`${verdict(ok)}  ${line} (browser)`)
  const x = (r: number | undefined) => (r === undefined ? '-' : `${fmt(r)}×`)

  /** jax-js's Web Worker rows: as many workers as jax-js starts (the other rows name their thread count) */
  const workerRows = (name: string) => (name.includes('Web Workers') ? 'workers' : undefined)
  /**
   * Prints one run of the page as two tables: the single-thread rows (against
   * `single`'s baseline), then every row on more than one thread, ours on all
   * against the contenders' threaded modes (against `multi`'s baseline).
   */
  const printSplit = (title: string, rows: readonly Row[], single: TableOptions, multi: TableOptions) => {
    const one = (r: Row) => (threadsOf(r.name) ?? workerRows(r.name)) === '1'
    printTable(`${title}, single thread`, rows.filter(one), { ...single, threads: workerRows })
    printTable(`${title}, multi-thread: ours on all threads against the contenders' threaded modes (same run)`, rows.filter((r) => !one(r)), { ...multi, threads: workerRows })
  }
  /** Runs a table in the page; prints each contender's notes; returns its rows for printTable. */
  const table = async (name: TableName, rounds: number): Promise<{ rows: Row[]; t: TableJson }> => {
    const t = await page.evaluate(([n, r]) => window.bench.run(n, r), [name, rounds] as const)
    for (const r of t.rows) if (r.note) console.log(`  ${r.name}: ${r.note.replace(/\n/g, '\n    ')}`)
    const rows = t.rows.map((r): Row => {
      if (!r.samples) return { name: r.name, result: { skipped: r.skipped ?? 'not run' } }
      const timing: Timing = { median: median(r.samples), min: Math.min(...r.samples), runs: r.samples.length }
      return { name: r.name, result: timing, output: r.check && Float32Array.from(r.check) }
    })
    return { rows, t }
  }

  if (wanted('adam')) {
    console.log('\nAdam, 10 M params (10 × 1000×1000), in Chromium; building contenders…')
    const { rows, t } = await table('adam', 45)
    const { floor, ours1, oursN, jaxSync, jaxAsync, tf } = t.roles
    const opts = { baseline: floor!, ratio: 'time' } as const
    const perSecond = { header: 'params/s', value: (m: Timing) => `${fmt(t.size / (m.median / 1000) / 1e6)} M` }
    printSplit(`One Adam step, ${t.size / 1e6} M params, Chromium (ms; check: every ${t.stride}th element of the first leaf after 3 steps)`, rows, { ...opts, columns: [perSecond] }, { baseline: oursN!, ratio: 'time', columns: [perSecond] })
    const f1 = ratioOf(rows, ours1!, opts)
    target(`Adam 10 M: ours wasm (1 thread) ≤ 1.5× the SIMD floor: ${x(f1)} (${t.threads} threads: ${x(ratioOf(rows, oursN!, opts))})`, f1 === undefined ? undefined : f1 <= 1.5)
    const j1 = ratioOf(rows, jaxSync!, { baseline: ours1!, ratio: 'time' })
    target(`Adam 10 M: ours wasm (1 thread) ≥ 3× faster than jax-js on the page thread: ${x(j1)}`, j1 === undefined ? undefined : j1 >= 3)
    const jN = ratioOf(rows, jaxAsync!, { baseline: oursN!, ratio: 'time' })
    target(`Adam 10 M: ours wasm (${t.threads} threads) ≥ 3× faster than jax-js on its workers: ${x(jN)}`, jN === undefined ? undefined : jN >= 3)
    const tN = ratioOf(rows, tf!, { baseline: oursN!, ratio: 'time' })
    target(`Adam 10 M: ours wasm (${t.threads} threads) faster than ${tf}: ${x(tN)}`, tN === undefined ? undefined : tN >= 1)
  }

  if (wanted('matmul')) {
    console.log('\nmatmul 512², in Chromium')
    const { rows, t } = await table('matmul', 100)
    const { ours1, oursN, tf } = t.roles
    const opts = { baseline: tf!, ratio: 'speed' } as const
    const gflops = { header: 'GFLOP/s', value: (m: Timing) => fmt((2 * t.size ** 3) / (m.median * 1e6)) }
    printSplit(`matmul ${t.size}×${t.size}, Chromium (ms, result read back; check: every ${t.stride}th element)`, rows, { baseline: ours1!, ratio: 'speed', columns: [gflops] }, { ...opts, columns: [gflops] })
    const v1 = ratioOf(rows, ours1!, opts)
    const vN = ratioOf(rows, oursN!, opts)
    const r1 = rows.find((r) => r.name === ours1)?.result
    const gf = r1 && 'median' in r1 ? (2 * t.size ** 3) / (r1.median * 1e6) : undefined
    // the matmul targets are against tfjs-wasm on one thread (bench/wasm.ts); here tfjs-wasm has threads too
    targets.push(`INFO  matmul 512²: ours wasm (1 thread) vs ${tf}: ${x(v1)}; ours (${t.threads} threads) vs it: ${x(vN)} (browser; targets: bench/wasm.ts)`)
    target(`matmul 512²: ours wasm (1 thread) ≥ 10 GFLOP/s: ${gf === undefined ? '-' : fmt(gf)}`, gf === undefined ? undefined : gf >= 10)
  }

  if (wanted('mlp')) {
    console.log('\nMLP 784-256-10, batch 64: loss and gradients (read back), in Chromium')
    const { rows, t } = await table('mlp', 160)
    const { ours1, oursN, jaxSync, jaxAsync } = t.roles
    const opts = { baseline: jaxSync!, ratio: 'speed' } as const
    printSplit(`MLP 784-256-10 b${t.size} forward+backward, Chromium (ms; check: every ${t.stride}th of loss and gradients)`, rows, opts, { baseline: jaxAsync!, ratio: 'speed' })
    const v1 = ratioOf(rows, ours1!, opts)
    const t1 = v1 === undefined ? undefined : 1 / v1
    target(`MLP step: ours wasm (1 thread) ≤ 0.8× the time of jax-js jit(valueAndGrad) on the page thread: ${x(t1)}`, t1 === undefined ? undefined : t1 <= 0.8)
    const vN = ratioOf(rows, oursN!, { baseline: jaxAsync!, ratio: 'speed' })
    const tN = vN === undefined ? undefined : 1 / vN
    target(`MLP step: ours wasm (${t.threads} threads) ≤ 0.8× the time of jax-js jit(valueAndGrad) on its workers: ${x(tN)}`, tN === undefined ? undefined : tN <= 0.8)
  }

  console.log('\nTargets')
  for (const t of targets) console.log(`  ${t}`)
  console.log(`\nWhole run: ${((performance.now() - startedAt) / 1000).toFixed(0)} s`)
} finally {
  await close()
}
