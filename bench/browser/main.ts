/**
 * The page bench/browser.ts drives in headless Chromium, served cross-origin
 * isolated (so SharedArrayBuffer and Web Workers are there for every
 * library). It puts `window.bench` on the page: `setup` loads jax-js and
 * tfjs-wasm and says what each contender runs on; `run` builds a table's
 * contenders (./contenders.ts), warms each up, times them interleaved (one
 * step each per round, rotating the order, as bench/wasm.ts does) and hands
 * back plain JSON for Node to print.
 */
import { messagesPosted, workersStarted } from './workers' // first: counts the workers every library starts
import type { Owner } from './workers'
import * as ad from '@frugal-ts/autodiff'
import * as core from '@frugal-ts/core'
import type { CpuBackend } from '@frugal-ts/core'
import * as frugal from '@frugal-ts/frugal'
import { hardwareThreads, poolOf, whenStarted } from '../../packages/core/src/internal/wasm/threads'
import { ADAM_PARAMS } from '../src/adam'
import type { Jax, Tf } from '../src/contenders'
import { N } from '../src/matmul'
import { BATCH } from '../src/mlp'
import { interleaved } from '../src/table'
import type { BenchApi, Info, RowJson, TableJson, TableName } from './api'
import type { Libraries, Setting, Table } from './contenders'
import { adamTable, matmulTable, mlpTable } from './contenders'

core.registerBackend('cpu-wasm-1t', () => core.cpu({ wasm: true, threads: 1 }))
core.registerBackend('cpu-wasm', () => core.cpu({ wasm: true }))
const ourPool = () => poolOf(hardwareThreads())

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))
const reason = (e: unknown) => (e instanceof Error ? e.message : String(e)).split('\n')[0].slice(0, 200)

/** A library that loaded, or why it did not. */
type Loaded<T> = { readonly ok: T } | { readonly error: string }
const got = <T>(l: Loaded<T> | undefined, what: string): T => {
  if (!l) throw new Error(`${what} is not loaded (call setup first)`)
  if ('error' in l) throw new Error(`${what} did not load: ${l.error}`)
  return l.ok
}
let jax: Loaded<Jax> | undefined
let tf: Loaded<Tf> | undefined
let setting: Setting = { threads: 1, tf: 'not loaded' }
const lib: Libraries = { core, ad, frugal, jax: () => got(jax, 'jax-js'), tf: () => got(tf, 'tfjs-wasm') }

const loadJax = async (): Promise<Jax> => {
  const jax = await import('@jax-js/jax')
  const devices = await jax.init('wasm')
  if (!devices.includes('wasm')) throw new Error(`init('wasm') gave devices [${devices.join(', ')}]`)
  jax.defaultDevice('wasm')
  return jax
}

/** tfjs with its wasm backend, the .wasm files from `dir`; which binary it picked and its threads. */
const loadTf = async (dir: string): Promise<{ tf: Tf; line: string; label: string }> => {
  const tf = await import('@tensorflow/tfjs')
  const wasm = await import('@tensorflow/tfjs-backend-wasm')
  wasm.setWasmPaths(dir)
  // tfjs-wasm caps XNNPACK's threads at navigator.hardwareConcurrency / 2 (taking every other logical
  // core for a hyperthread): while it starts, the page reports twice its cores, so that tfjs gets as
  // many threads as ours and jax-js (all of them)
  const cores = navigator.hardwareConcurrency
  wasm.setThreadsCount(cores)
  Object.defineProperty(navigator, 'hardwareConcurrency', { value: 2 * cores, configurable: true })
  try {
    if (!(await tf.setBackend('wasm'))) throw new Error("tf.setBackend('wasm') failed")
    await tf.ready()
  } finally {
    delete (navigator as { hardwareConcurrency?: number }).hardwareConcurrency
  }
  const simd = (await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT')) === true
  const threaded = (await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT')) === true
  const build = simd && threaded ? 'threaded-simd' : simd ? 'simd' : 'plain'
  const threads = wasm.getThreadsCount()
  return {
    tf,
    label: `${simd && threaded ? 'threaded SIMD' : simd ? 'SIMD' : 'no SIMD'}, ${threads} thread${threads === 1 ? '' : 's'}`,
    line:
      `tfjs-wasm ${tf.version.tfjs}: backend '${tf.getBackend()}', WASM_HAS_SIMD_SUPPORT ${simd}, WASM_HAS_MULTITHREAD_SUPPORT ${threaded}, ` +
      `so it loads tfjs-backend-wasm${build === 'plain' ? '' : `-${build}`}.wasm; setThreadsCount(${cores}) with hardwareConcurrency reported as ${2 * cores} ` +
      `while it started (tfjs caps its threads at half), getThreadsCount() ${threads} (navigator.hardwareConcurrency back to ${navigator.hardwareConcurrency}); ` +
      `Web Workers started by tfjs-wasm: ${workersStarted('tfjs-wasm')}`,
  }
}

const setup: BenchApi['setup'] = async ({ tfWasmDir }): Promise<Info> => {
  const lines: string[] = []
  const one = (core.getBackend('cpu-wasm-1t') as CpuBackend).path
  const all = (core.getBackend('cpu-wasm') as CpuBackend).path // starts the worker pool
  const t0 = performance.now()
  const started = await Promise.race([
    whenStarted(ourPool()).then(() => `workers ready ${(performance.now() - t0).toFixed(0)} ms after the pool was made`),
    sleep(10_000).then(() => 'workers NOT ready after 10 s (every share runs on the page thread)'),
  ]).catch((e: unknown) => `workers failed: ${reason(e)}`)
  lines.push(`ours, 1 thread: ${one}`, `ours, all threads: ${all}; Web Workers started by ours: ${workersStarted('ours')}; ${started}`)
  try {
    jax = { ok: await loadJax() }
    const pool = typeof SharedArrayBuffer === 'function' && typeof Worker === 'function'
    lines.push(
      `jax-js: wasm device; ${pool ? `SharedArrayBuffer and Worker exist, so kernels read with await data() / blockUntilReady run on a pool of navigator.hardwareConcurrency = ${navigator.hardwareConcurrency} Web Workers (started at the first such read), and dataSync() runs them on the page thread` : 'no SharedArrayBuffer or Worker, so no worker pool'}`,
    )
  } catch (e) {
    jax = { error: reason(e) }
    lines.push(`jax-js: did not load: ${jax.error}`)
  }
  try {
    const t = await loadTf(tfWasmDir)
    tf = { ok: t.tf }
    lines.push(t.line)
    setting = { threads: ourPool().size, tf: t.label }
  } catch (e) {
    tf = { error: reason(e) }
    lines.push(`tfjs-wasm: did not load: ${tf.error}`)
    setting = { threads: ourPool().size, tf: 'did not load' }
  }
  return {
    userAgent: navigator.userAgent,
    crossOriginIsolated,
    hardwareConcurrency: navigator.hardwareConcurrency,
    sharedArrayBuffer: typeof SharedArrayBuffer === 'function',
    contenders: lines,
  }
}

const CHECK_SAMPLES = 4096
const strideOf = (n: number) => Math.max(1, Math.ceil(n / CHECK_SAMPLES))
const every = (a: Float32Array, stride: number) => Array.from({ length: Math.ceil(a.length / stride) }, (_, i) => a[i * stride])

const owners: readonly Owner[] = ['ours', 'jax-js', 'tfjs-wasm', 'other']
const none = (): Record<Owner, number> => ({ ours: 0, 'jax-js': 0, 'tfjs-wasm': 0, other: 0 })

/**
 * What a contender's timed steps handed to Web Workers: our pool's shares,
 * and the messages posted to jax-js's and tfjs-wasm's workers (tfjs's
 * pthreads take their work through shared memory, so they show none).
 */
const threadsNote = (shares: number, messages: Record<Owner, number>, runs: number): string => {
  const parts = owners.filter((o) => o !== 'ours' && messages[o] > 0).map((o) => `${messages[o].toLocaleString('en-US')} messages posted to ${o}'s workers`)
  if (shares > 0) parts.unshift(`${shares.toLocaleString('en-US')} shares run by our workers`)
  return `in ${runs} timed steps: ${parts.length ? parts.join(', ') : 'no work handed to Web Workers by message or by our pool'}`
}

/**
 * Times a table with bench/src/table.ts `interleaved` (warm-up, then one step
 * of each contender per round, rotating the order), counting around each
 * timed step what it handed to Web Workers, and turns its rows into JSON.
 */
const timeTable = async (table: Table, rounds: number): Promise<{ rows: RowJson[]; stride: number }> => {
  const pool = ourPool()
  const handed = new Map<string, { shares: number; messages: Record<Owner, number> }>()
  const around = (name: string) => {
    const [jobs0, posted0] = [pool.jobs, messagesPosted()]
    return () => {
      const h = handed.get(name) ?? { shares: 0, messages: none() }
      const posted = messagesPosted()
      h.shares += pool.jobs - jobs0
      for (const o of owners) h.messages[o] += posted[o] - posted0[o]
      handed.set(name, h)
    }
  }
  // browser workers start once the page's thread returns to its event loop (threads.ts)
  const rows = await interleaved(table.makers, rounds, 3, { beforeRounds: () => sleep(0), around, print: false })
  const length = rows.find((r) => r.output)?.output?.length ?? 0
  const stride = strideOf(length)
  const json = rows.map((r): RowJson => {
    const h = handed.get(r.name) ?? { shares: 0, messages: none() }
    const note = [r.note, threadsNote(h.shares, h.messages, r.samples?.length ?? 0)].filter(Boolean).join('\n')
    return 'skipped' in r.result ? { name: r.name, skipped: r.result.skipped, note } : { name: r.name, samples: r.samples, check: r.output && every(r.output, stride), note }
  })
  ;(globalThis as { gc?: () => void }).gc?.() // with --js-flags=--expose-gc: the next table starts without this one's garbage
  return { rows: json, stride }
}

const tables: Record<TableName, { make: (lib: Libraries, on: Setting) => Table; size: number }> = {
  adam: { make: adamTable, size: ADAM_PARAMS },
  matmul: { make: matmulTable, size: N },
  mlp: { make: mlpTable, size: BATCH },
}

const run: BenchApi['run'] = async (name: TableName, rounds: number): Promise<TableJson> => {
  const t = tables[name]
  const table = t.make(lib, setting)
  const { rows, stride } = await timeTable(table, rounds)
  return { rows, roles: table.roles, threads: setting.threads, size: t.size, stride }
}

window.bench = { setup, run }
