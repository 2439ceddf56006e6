/**
 * The WebAssembly SIMD path of the cpu backend (`cpu({ wasm: true })`,
 * registered here as `cpu-wasm`) against the machine's limits and the
 * libraries people would otherwise use, every contender in this process:
 *
 * 1. one Adam step over 10 M float32 parameters (10 × 1000×1000): ours
 *    (`jit` of the `adam` alias + `applyUpdates`, state and params donated)
 *    on `cpu-wasm` with 1 thread and all (and with `exactFusion: false`, and
 *    with tensors in JS arrays copied in and out per step, as without
 *    SharedArrayBuffer) and on the JS `cpu` path, a plain fused Float32Array loop, a
 *    hand-written SIMD loop assembled instruction by instruction right here
 *    (the memory-bandwidth floor), tf.train.adam on tfjs-wasm, and the same
 *    math under jax-js `jit`;
 * 2. FRUGAL ρ = 0.25 (blocks) against our Adam on 10 M params in 20 leaves
 *    (5 active), 1 thread and all, with and without merged loops, and the
 *    hand-written floors of both;
 * 3. matmul 512² (ours wasm on 1 thread and all, ours JS, tfjs-wasm, jax-js jit);
 * 4. an MLP 784-256-10, batch 64, loss and gradients: ours
 *    `jit(valueAndGrad)` (wasm on 1 thread and all, JS) against jax-js
 *    `jit(valueAndGrad)`.
 *
 * Each interleaved run prints two tables: the single-thread rows, on which
 * the targets are judged (the floor, tfjs-wasm and jax-js run on one thread
 * here), and a multi-thread table: ours on all threads against the
 * contenders' own threaded modes, which neither has in Node 20 (a row note
 * says why, from what the process sees; bench/browser.ts has them threaded).
 * FRUGAL rows are checked against FRUGAL by hand (bench/src/frugalRef.ts)
 * in the subspace their state chose; beyond 1e-5 a row FAILs.
 *
 * Contenders of a table are timed interleaved (one call each per round), so
 * load from other processes falls on all of them alike; medians and minima
 * are printed, and the target lines use medians.
 *
 * The Adam, matmul and MLP contenders are bench/src/adam.ts's, matmul.ts's and
 * mlp.ts's, which the browser bench (bench/browser.ts) runs too.
 *
 * Run: node --import tsx --conditions=source bench/wasm.ts   (BENCH_ONLY=adam|frugal|matmul|mlp, comma-separated, to run some tables)
 */
import { cpus, loadavg } from 'node:os'
import type { Tensor } from '@frugal-ts/core'
import { cpu } from '@frugal-ts/core'
import { ADAM_PARAMS, B1, B2, COLS, EPS, HYPER, LEAVES, LR, ROWS, floorAdam, jaxAdam, oursAdam, plainAdam, tfAdam } from './src/adam'
import { floors } from './src/floors'
import type { Subspace } from './src/frugalRef'
import { frugalReference, subspaceOf } from './src/frugalRef'
import type { Contender, Maker } from './src/contenders'
import { loadJax, loadOurs, randomFloats, useTfBackend } from './src/contenders'
import { N, jaxMatmul, oursMatmul, tfMatmul } from './src/matmul'
import type { Row, Timing } from './src/table'
import { fmt, interleaved, printCheck, printTable, ratioOf, threadsOf } from './src/table'
import { BATCH, HIDDEN, IN, OUT, jaxMlpContender, oursMlp } from './src/mlp'

const ONLY = (process.env.BENCH_ONLY ?? '').split(',').filter(Boolean)
const wanted = (t: string) => ONLY.length === 0 || ONLY.includes(t)

const verdict = (ok: boolean | undefined) => (ok === undefined ? 'NOT MEASURED' : ok ? 'PASS' : 'FAIL')
const targets: string[] = []
const target = (line: string, ok: boolean | undefined) => targets.push(`${verdict(ok)}  ${line}`)

// ------------------------------------------------------------------ setup

const ours = await loadOurs()
const { core, ad } = ours
const lib = { ...ours, frugal: await import('@frugal-ts/frugal') }
core.registerBackend('cpu-wasm', () => cpu({ wasm: true }))
core.registerBackend('cpu-wasm-1t', () => cpu({ wasm: true, threads: 1 }))
core.registerBackend('cpu-wasm-1t-inexact', () => cpu({ wasm: true, threads: 1, exactFusion: false }))
core.registerBackend('cpu-wasm-1t-copy', () => cpu({ wasm: true, threads: 1, resident: false }))
core.registerBackend('cpu-wasm-1t-apart', () => cpu({ wasm: true, threads: 1, mergeLoops: false }))
const wasmBackend = core.getBackend('cpu-wasm') as ReturnType<typeof cpu>
/** the thread count of `cpu-wasm` (all cores), from its path */
const ALL = threadsOf(wasmBackend.path) ?? String(cpus().length)
const TN = `${ALL} thread${ALL === '1' ? '' : 's'}`

/**
 * The multi-thread tables set ours on all threads against the contenders'
 * own threaded modes; in Node 20 neither contender has one, and each table
 * says so in a row note, from what this process sees.
 */
const threadNotes = async (): Promise<Record<'tf' | 'jax', string>> => {
  const tf = await useTfBackend('wasm')
  const wasmTf = (await import('@tensorflow/tfjs-backend-wasm')) as { default?: { getThreadsCount(): number }; getThreadsCount?: () => number }
  const count = (wasmTf.default?.getThreadsCount ?? wasmTf.getThreadsCount)?.()
  const mt = await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT')
  return {
    tf:
      `no threaded mode in Node: WASM_HAS_MULTITHREAD_SUPPORT is ${mt} here (tfjs returns false under IS_NODE), getThreadsCount() = ${count}; ` +
      `forced on, the threaded SIMD build fails to start its pthreads (ERR_WORKER_PATH: Node's Worker takes no blob: URL). Threaded: bench/browser.ts`,
    jax:
      `no threaded mode in Node: jax-js's wasm worker pool needs SharedArrayBuffer and a global Worker (typeof Worker is '${typeof (globalThis as { Worker?: unknown }).Worker}' in Node ${process.version}), ` +
      'so its kernels run on the calling thread. On its Web Workers: bench/browser.ts',
  }
}
const notes = await threadNotes()
/** the rows of `names` (renamed by `rename`), for a table printed from the same interleaved run */
const subset = (rows: readonly Row[], names: Readonly<Record<string, string>>): Row[] =>
  Object.entries(names).flatMap(([from, to]) => rows.filter((r) => r.name === from).map((r) => ({ ...r, name: to })))

console.log(
  `Node ${process.version}, ${process.platform}/${process.arch}, ${cpus().length} cores (${cpus()[0]?.model ?? '?'}), ` +
    `load average ${loadavg().map((x) => x.toFixed(1)).join(' ')}\ncpu-wasm: ${wasmBackend.path}\n` +
    `cpu-wasm-1t: ${(core.getBackend('cpu-wasm-1t') as ReturnType<typeof cpu>).path}`,
)

// ------------------------------------------------------------------ Adam

if (wanted('adam')) {
  console.log(`\nAdam, ${ADAM_PARAMS / 1e6} M params (${LEAVES} × ${ROWS}×${COLS}); building contenders…`)
  const FLOOR = 'SIMD floor (hand-written wasm, 1 thread)'
  const OURS = 'ours: jit(adam) cpu-wasm, 1 thread'
  const OURS2 = `ours: jit(adam) cpu-wasm, ${TN}`
  const TF = 'tf.train.adam tfjs-wasm'
  const JAX = 'jax-js jit (same math)'
  const all = await interleaved(
    [
      [FLOOR, floorAdam],
      [OURS, () => oursAdam(lib, 'cpu-wasm-1t')],
      [OURS2, () => oursAdam(lib, 'cpu-wasm')],
      ['ours: cpu-wasm, 1 thread, exactFusion off', () => oursAdam(lib, 'cpu-wasm-1t-inexact')],
      ['ours: cpu-wasm, 1 thread, copying in/out', () => oursAdam(lib, 'cpu-wasm-1t-copy')],
      ['ours: jit(adam) cpu (JS compile)', () => oursAdam(lib, 'cpu-js')],
      ['plain fused JS loop', plainAdam],
      [TF, async () => tfAdam(await useTfBackend('wasm'))],
      [JAX, async () => jaxAdam(await loadJax(), 'sync')],
    ],
    15,
  )
  const perSecond = { header: 'params/s', value: (t: Timing) => `${fmt(ADAM_PARAMS / (t.median / 1000) / 1e6)} M` }
  // one interleaved run, two tables: every single-thread row, then ours on all threads against the contenders' own threaded modes
  const rows = all.filter((r) => r.name !== OURS2)
  printTable(`One Adam step, ${ADAM_PARAMS / 1e6} M params, single thread (ms; check: first leaf after 3 steps)`, rows, { baseline: FLOOR, ratio: 'time', columns: [perSecond], threads: '1' })
  const multi = subset(all, { [OURS2]: OURS2, [TF]: `${TF}, 1 thread`, [JAX]: `${JAX}, 1 thread` })
  printTable(`One Adam step, ${ADAM_PARAMS / 1e6} M params, multi-thread: ours on ${TN} against the contenders' threaded modes in Node (same run)`, multi, {
    baseline: OURS2,
    ratio: 'time',
    columns: [perSecond],
    notes: { [`${TF}, 1 thread`]: notes.tf, [`${JAX}, 1 thread`]: notes.jax },
  })
  const floorRatio2 = ratioOf(all, OURS2, { baseline: FLOOR, ratio: 'time' })
  const floorRatio = ratioOf(rows, OURS, { baseline: FLOOR, ratio: 'time' })
  const jaxRatio = ratioOf(rows, 'jax-js jit (same math)', { baseline: OURS, ratio: 'time' })
  target(`Adam 10 M: ours wasm (1 thread) ≤ 1.5× the SIMD floor: ${floorRatio === undefined ? '-' : `${fmt(floorRatio)}×`} (${TN}: ${floorRatio2 === undefined ? '-' : `${fmt(floorRatio2)}×`})`, floorRatio === undefined ? undefined : floorRatio <= 1.5)
  target(`Adam 10 M: ours wasm (1 thread) ≥ 3× faster than jax-js: ${jaxRatio === undefined ? '-' : `${fmt(jaxRatio)}×`}`, jaxRatio === undefined ? undefined : jaxRatio >= 3)
}

// ------------------------------------------------------------------ FRUGAL ρ = 0.25 (blocks)

/**
 * FRUGAL's blockwise step against Adam on the same 10 M parameters, as 20
 * leaves of 500×1000 named like transformer MLP weights (so the default rule
 * projects all of them): with ρ = 0.25, round(ρ·20) = 5 leaves are active
 * (Adam, with state) and 15 get signSGD (no state), exactly a quarter of the
 * parameters with state. (With the 10 leaves of the Adam table round(2.5) = 3
 * leaves, 30 %, would be active.) Bytes moved per step: Adam 7 floats per
 * parameter (read p, g, m, v; write p, m, v), signSGD 3 (read p, g; write
 * p): FRUGAL moves (5·7 + 15·3)/(20·7) = 0.571 of Adam's bytes. The floor
 * rows run the hand-written loops (one pass per leaf) on one thread.
 */
const [F_ROWS, F_LEAVES] = [500, 20]
const F_SIZE = F_ROWS * COLS
const F_ACTIVE = Math.round(0.25 * F_LEAVES)
const fParams = Array.from({ length: F_LEAVES }, (_, i) => randomFloats(F_SIZE, 301 + i))
const fGrads = [0, 1].map((k) => Array.from({ length: F_LEAVES }, (_, i) => randomFloats(F_SIZE, 2001 + 100 * k + i, 0.01)))
const fName = (i: number) => `layers.${i >> 1}.mlp.w${(i & 1) + 1}`

const floorOf = (active: number | null) => (): Contender => {
  const f = floors(F_SIZE, F_LEAVES, HYPER)
  f.load(fParams, fGrads)
  let t = 0
  return {
    step: () => (++t, active === null ? f.step(t, (t - 1) & 1) : f.blocks(t, (t - 1) & 1, active)),
    output: active === null ? () => f.param(0) : undefined,
    dispose: () => {},
  }
}

type Named = Record<string, Tensor>

/** the subspaces each FRUGAL row's state holds, by row name, read with its check output */
const fSubspaces = new Map<string, { index: number; subspace: Subspace }[]>()

/**
 * `jit` of update + applyUpdates (state and params donated) on named leaves;
 * FRUGAL's host-side refresh runs eagerly before each step. `check`: `'first'`
 * reports the first leaf (the Adam rows' check column); a row name reports
 * every leaf and records, under that name, the subspaces the state chose,
 * for the check against FRUGAL by hand.
 */
const oursNamed = (backend: string, make: (fr: typeof import('@frugal-ts/frugal')) => import('@frugal-ts/frugal').GradientTransformation<unknown>, check?: string) => async (): Promise<Contender> => {
  const fr = await import('@frugal-ts/frugal')
  const { dispose, fromArray, withBackend } = core
  const named = (arrays: readonly Float32Array[]): Named => Object.fromEntries(arrays.map((a, i) => [fName(i), fromArray(a, [F_ROWS, COLS])]))
  const made = withBackend(backend, () => ({ params: named(fParams), grads: fGrads.map(named) }))
  let params = made.params
  const tx = make(fr)
  let state: unknown = withBackend(backend, () => tx.init(params))
  const jitted = ad.jit(
    (g: Named, s: unknown, p: Named) => {
      const r = tx.update(g, s, p)
      return { params: fr.applyUpdates(p, r.updates) as Named, state: r.state }
    },
    { donate: [1, 2] },
  )
  let k = 0
  const output = (): Float32Array => {
    if (check === 'first') return Float32Array.from(params[fName(0)].dataSync() as Float32Array)
    const leaves = (state as { leaves: Record<string, unknown> }).leaves
    fSubspaces.set(check!, fParams.map((_, index) => ({ index, subspace: subspaceOf(leaves[fName(index)]) })))
    const out = new Float32Array(F_SIZE * F_LEAVES)
    fParams.forEach((_, i) => out.set(params[fName(i)].dataSync() as Float32Array, i * F_SIZE))
    return out
  }
  return {
    step: () => {
      const g = made.grads[k++ & 1]
      if (tx.refresh) state = withBackend(backend, () => tx.refresh!(g, state, params)) ?? state
      const out = jitted(g, state, params)
      params = out.params
      state = out.state
    },
    output: check === undefined ? undefined : output,
    note: () => jitted.describe(made.grads[0], state, params),
    dispose: () => dispose([params, state, made.grads]),
  }
}

if (wanted('frugal')) {
  console.log(`\nFRUGAL ρ = 0.25 (blocks: ${F_ACTIVE} of ${F_LEAVES} leaves of ${F_ROWS}×${COLS} active) against Adam; building contenders…`)
  const frugal = (fr: typeof import('@frugal-ts/frugal')) => fr.frugal({ learningRate: LR, b1: B1, b2: B2, eps: EPS, density: 0.25, projector: 'blocks' })
  const adam = (fr: typeof import('@frugal-ts/frugal')) => fr.adam(LR, { b1: B1, b2: B2, eps: EPS })
  const OURS_ADAM = 'ours: jit(adam) cpu-wasm, 1 thread'
  const OURS_FRUGAL = 'ours: jit(frugal blocks) cpu-wasm, 1 thread'
  const OURS_ADAM2 = `ours: jit(adam) cpu-wasm, ${TN}`
  const OURS_FRUGAL2 = `ours: jit(frugal blocks) cpu-wasm, ${TN}`
  const APART = 'ours: jit(frugal blocks) cpu-wasm, 1 thread, loops not merged'
  const FLOOR_ADAM = 'floor: Adam (hand-written wasm, 1 thread)'
  const FLOOR_FRUGAL = 'floor: Adam on 5 leaves + signSGD on 15 (hand-written)'
  const WARMUP = 3
  const all = await interleaved(
    [
      [FLOOR_ADAM, floorOf(null)],
      [FLOOR_FRUGAL, floorOf(F_ACTIVE)],
      [OURS_ADAM, oursNamed('cpu-wasm-1t', adam, 'first')],
      [OURS_FRUGAL, oursNamed('cpu-wasm-1t', frugal, OURS_FRUGAL)],
      [OURS_ADAM2, oursNamed('cpu-wasm', adam, 'first')],
      [OURS_FRUGAL2, oursNamed('cpu-wasm', frugal, OURS_FRUGAL2)],
      [APART, oursNamed('cpu-wasm-1t-apart', frugal, APART)],
      ['ours: jit(signSgd) cpu-wasm, 1 thread', oursNamed('cpu-wasm-1t', (fr) => fr.signSgd(LR))],
    ],
    41,
    WARMUP,
  )
  // one interleaved run, two tables: one thread, then ours on all threads (no contender here: the floors are single-threaded)
  const many = [OURS_ADAM2, OURS_FRUGAL2]
  const rows = all.filter((r) => !many.includes(r.name))
  const strip = (rs: readonly Row[]) => rs.map((r) => ({ ...r, output: r.name.includes('adam') ? r.output : undefined }))
  printTable(`One step, ${ADAM_PARAMS / 1e6} M params in ${F_LEAVES} leaves, single thread (ms; ratio: time / ours Adam, 1 thread)`, strip(rows), { baseline: OURS_ADAM, ratio: 'time', threads: '1' })
  printTable(`One step, ${ADAM_PARAMS / 1e6} M params in ${F_LEAVES} leaves, multi-thread: ours on ${TN} (same run)`, strip(subset(all, { [OURS_ADAM2]: OURS_ADAM2, [OURS_FRUGAL2]: OURS_FRUGAL2 })), {
    baseline: OURS_ADAM2,
    ratio: 'time',
  })
  // each FRUGAL row against FRUGAL by hand in the subspaces its state chose: Adam on the active leaves, lr·sign(g) on the others
  for (const name of [OURS_FRUGAL, OURS_FRUGAL2, APART]) {
    const row = all.find((r) => r.name === name)!
    const leaves = fSubspaces.get(name)
    const threads = threadsOf(name) ?? '1'
    const skipped = 'skipped' in row.result ? row.result.skipped : undefined
    if (!leaves) {
      printCheck(`check: ${name}`, [{ name, threads, skipped: skipped ?? 'no subspaces read' }], { name: 'FRUGAL by hand', output: new Float32Array(0) }, 1e-5)
      continue
    }
    const ref = frugalReference({ rows: F_ROWS, cols: COLS, lr: LR, b1: B1, b2: B2, eps: EPS, steps: WARMUP, params: fParams, gradSets: fGrads, leaves })
    const active = leaves.filter((l) => l.subspace.kind === 'full').map((l) => l.index)
    printCheck(
      `check: ${name}, all ${F_LEAVES} leaves (active: ${active.join(',')}) after ${WARMUP} steps against FRUGAL by hand (bench/src/frugalRef.ts, float64)`,
      [{ name, threads, output: row.output, skipped }],
      { name: 'FRUGAL by hand', output: ref.output, slack: ref.slack },
      1e-5,
    )
  }
  const r1 = ratioOf(rows, OURS_FRUGAL, { baseline: OURS_ADAM, ratio: 'time' })
  const r2 = ratioOf(all, OURS_FRUGAL2, { baseline: OURS_ADAM2, ratio: 'time' })
  const rf = ratioOf(rows, FLOOR_FRUGAL, { baseline: FLOOR_ADAM, ratio: 'time' })
  // judged on both: the default backend (all cores) and one thread, where the hand-written floors' ratio is the limit
  target(`FRUGAL ρ .25 (blocks) step ≤ 0.6× our Adam step, default backend (${TN}): ${r2 === undefined ? '-' : `${fmt(r2)}×`}`, r2 === undefined ? undefined : r2 <= 0.6)
  target(
    `FRUGAL ρ .25 (blocks) step ≤ 0.6× our Adam step, 1 thread: ${r1 === undefined ? '-' : `${fmt(r1)}×`} ` +
      `(the hand-written floors: ${rf === undefined ? '-' : `${fmt(rf)}×`}; bytes moved: 0.571×)`,
    r1 === undefined ? undefined : r1 <= 0.6,
  )
}

// ------------------------------------------------------------------ matmul 512²

if (wanted('matmul')) {
  console.log(`\nmatmul ${N}²`)
  const OURS = 'ours: jit(matmul) cpu-wasm, 1 thread'
  const OURS2 = `ours: jit(matmul) cpu-wasm, ${TN}`
  const all = await interleaved(
    [
      [OURS, () => oursMatmul(ours, 'cpu-wasm-1t')],
      [OURS2, () => oursMatmul(ours, 'cpu-wasm')],
      ['ours: jit(matmul) cpu (JS)', () => oursMatmul(ours, 'cpu-js')],
      ['tfjs-wasm', async () => tfMatmul(await useTfBackend('wasm'))],
      ['jax-js jit', async () => jaxMatmul(await loadJax(), 'sync')],
    ],
    25,
  )
  const gflops = { header: 'GFLOP/s', value: (t: Timing) => fmt((2 * N ** 3) / (t.median * 1e6)) }
  const rows = all.filter((r) => r.name !== OURS2)
  printTable(`matmul ${N}×${N}, single thread (ms, result read back)`, rows, { baseline: 'tfjs-wasm', ratio: 'speed', columns: [gflops], threads: '1' })
  const TF1 = 'tfjs-wasm, 1 thread'
  const JAX1 = 'jax-js jit, 1 thread'
  const multi = subset(all, { [OURS2]: OURS2, 'tfjs-wasm': TF1, 'jax-js jit': JAX1 })
  printTable(`matmul ${N}×${N}, multi-thread: ours on ${TN} against the contenders' threaded modes in Node (same run)`, multi, {
    baseline: TF1,
    ratio: 'speed',
    columns: [gflops],
    notes: { [TF1]: notes.tf, [JAX1]: notes.jax },
  })
  const vs = ratioOf(rows, OURS, { baseline: 'tfjs-wasm', ratio: 'speed' })
  const r = rows.find((x) => x.name === OURS)?.result
  const gf = r && 'median' in r ? (2 * N ** 3) / (r.median * 1e6) : undefined
  target(`matmul 512²: ours wasm (1 thread) ≥ 1.0× tfjs-wasm: ${vs === undefined ? '-' : `${fmt(vs)}×`}`, vs === undefined ? undefined : vs >= 1)
  const vs2 = ratioOf(multi, OURS2, { baseline: TF1, ratio: 'speed' })
  // tfjs-wasm has no threads in Node: the all-threads row is information, not a target against a 1-thread contender
  targets.push(`INFO  matmul 512²: ours wasm (${TN}) vs tfjs-wasm (1 thread: no threaded mode in Node): ${vs2 === undefined ? '-' : `${fmt(vs2)}×`} (threaded contenders: bench/browser.ts)`)
  target(`matmul 512²: ours wasm (1 thread) ≥ 10 GFLOP/s: ${gf === undefined ? '-' : fmt(gf)}`, gf === undefined ? undefined : gf >= 10)
}

// ------------------------------------------------------------------ MLP

if (wanted('mlp')) {
  console.log(`\nMLP ${IN}-${HIDDEN}-${OUT}, batch ${BATCH}: loss and gradients (read back)`)
  const OURS = 'ours: jit(valueAndGrad) cpu-wasm, 1 thread'
  const OURS2 = `ours: jit(valueAndGrad) cpu-wasm, ${TN}`
  const JAX = 'jax-js jit(valueAndGrad)'
  const all = await interleaved(
    [
      [OURS, () => oursMlp(ours, 'cpu-wasm-1t')],
      [OURS2, () => oursMlp(ours, 'cpu-wasm')],
      ['ours: jit(valueAndGrad) cpu (JS)', () => oursMlp(ours, 'cpu-js')],
      [JAX, async () => jaxMlpContender(await loadJax(), 'sync')],
    ],
    40,
  )
  const rows = all.filter((r) => r.name !== OURS2)
  printTable(`MLP ${IN}-${HIDDEN}-${OUT} b${BATCH} forward+backward, single thread (ms)`, rows, { baseline: JAX, ratio: 'speed', threads: '1' })
  printTable(`MLP ${IN}-${HIDDEN}-${OUT} b${BATCH} forward+backward, multi-thread: ours on ${TN} against jax-js's threaded mode in Node (same run)`, subset(all, { [OURS2]: OURS2, [JAX]: `${JAX}, 1 thread` }), {
    baseline: `${JAX}, 1 thread`,
    ratio: 'speed',
    notes: { [`${JAX}, 1 thread`]: notes.jax },
  })
  const vs = ratioOf(rows, OURS, { baseline: 'jax-js jit(valueAndGrad)', ratio: 'speed' })
  const t = vs === undefined ? undefined : 1 / vs
  target(`MLP step: ours wasm (1 thread) ≤ 0.8× the time of jax-js jit(valueAndGrad): ${t === undefined ? '-' : `${fmt(t)}×`}`, t === undefined ? undefined : t <= 0.8)
}

console.log('\nTargets')
for (const t of targets) console.log(`  ${t}`)
