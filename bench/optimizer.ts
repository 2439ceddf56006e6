/**
 * One optimizer step over 10 M float32 parameters (20 matrices 500×1000,
 * named like the MLP linears of a transformer, so FRUGAL's default rule
 * projects all of them), every contender in this process, one after another:
 *
 * - a plain fused Float32Array Adam loop (m, v and p in one pass, bias
 *   corrected): the baseline;
 * - our `adam`, `frugal` ρ = 0.25 (blocks, randk, svd) and `signSgd`, each as
 *   `jit((g, s, p) => …update + applyUpdates…, { donate: [1, 2] })` on the
 *   default `cpu` backend; FRUGAL's host-side `refresh` is called eagerly
 *   before each jitted step, as the protocol asks (it returns null when no
 *   refresh is due, which is every timed step: T = 200);
 * - `tf.train.adam` (`applyGradients` on `tf.variable`s) on tfjs-backend-cpu
 *   and tfjs-backend-wasm, one value read back every step.
 *
 * Two fixed gradient sets alternate step by step (with one constant gradient
 * Adam's step is lr·sign(g) and would not tell Adam from signSGD). Every
 * contender first runs the same two steps from the same parameters; the
 * first leaf after them is the check column (Adam rows only). The one-off
 * costs (first jitted call: trace + compile; FRUGAL's first refresh) are
 * reported apart. The targets read an interleaved re-run of the plain loop,
 * our Adam, FRUGAL blocks and tfjs-cpu (see `interleaved`), as load on a
 * shared machine moves medians taken a minute apart by 2× and more.
 *
 * The svd refresh (a host SVD of every projectable gradient) is slow; by
 * default it is timed on one leaf and scaled by the leaf count, and the svd row runs on
 * init's random orthonormal bases, which have the shapes of the SVD bases
 * (the jitted step is the same program). `BENCH_FULL_SVD=1` runs the real
 * refresh of all twenty leaves instead (adds a few minutes here).
 *
 * Run: pnpm --filter @frugal-ts/bench run optimizer
 */
import { cpus, loadavg } from 'node:os'
import type { Tensor } from '@frugal-ts/core'
import { loadOurs, randomFloats, useTfBackend } from './src/contenders'
import type { Measured, Row, TimeOptions, Timing } from './src/table'
import { attempt, fmt, printTable, time } from './src/table'

// 20 leaves: ρ = 0.25 makes round(ρ·20) = 5 blocks active, exactly a quarter of the parameters (of 10 leaves, Python's round(2.5) = 2 would be a fifth)
const [ROWS, COLS, LEAVES] = [500, 1000, 20]
const SIZE = ROWS * COLS
const TOTAL = SIZE * LEAVES
const [LR, B1, B2, EPS] = [1e-3, 0.9, 0.999, 1e-8]
const RHO = 0.25
/** steps every contender runs from the initial parameters before its check output is read (they also warm up) */
const CHECK_STEPS = 2
const FULL_SVD = process.env.BENCH_FULL_SVD === '1'
/** `BENCH_ONLY=plain,blocks`: run only the contenders whose names contain one of these (case-insensitive), e.g. to profile one */
const ONLY = (process.env.BENCH_ONLY ?? '').split(',').map((s) => s.trim().toLowerCase()).filter((s) => s !== '')

const fast: TimeOptions = { warmup: 3, runs: 15, budgetMs: 4000 }
const slow: TimeOptions = { warmup: 0, runs: 5, budgetMs: 8000 }
const tfCpu: TimeOptions = { warmup: 0, runs: 3 }
/** rounds of the interleaved re-run of the plain loop, our Adam and FRUGAL blocks that the targets read */
const PAIRED_ROUNDS = 15
let pairedTimings: Map<string, Timing> | undefined

/** leaf i is `layers.{i>>1}.mlp.{w1|w2}` */
const names = Array.from({ length: LEAVES }, (_, i) => `layers.${i >> 1}.mlp.w${(i & 1) + 1}`)

/** the same data for every contender: parameters in [-1, 1), two gradient sets in [-0.01, 0.01) */
const hostParams = names.map((_, i) => randomFloats(SIZE, 101 + i))
const hostGrads = [0, 1].map((k) => names.map((_, i) => randomFloats(SIZE, 1001 + 100 * k + i, 0.01)))

type Layer = { mlp: { w1: Tensor; w2: Tensor } }
type Params = { layers: Layer[] }
/** the parameter tree `{ layers: [{ mlp: { w1, w2 } }, …] }` from the leaves in `names` order */
const treeOf = (leaves: readonly Tensor[]): Params => ({
  layers: Array.from({ length: LEAVES / 2 }, (_, l) => ({ mlp: { w1: leaves[2 * l], w2: leaves[2 * l + 1] } })),
})

/** optimizer-state bytes of each timed row, and its one-off costs, keyed by the row's timing */
const stateBytesOf = new Map<Timing, number>()
interface OneOff {
  readonly name: string
  readonly firstCallMs?: number
  readonly refreshMs?: number
  readonly refreshNote?: string
  readonly program?: string
}
const oneOffs: OneOff[] = []

/** One contender, built and ready: a step that finishes its work before returning, the check leaf, state bytes. */
interface Contender {
  step(): void
  /** the first leaf of the parameters, copied to the host */
  output(): Float32Array
  stateBytes(): number | Promise<number>
  dispose(): void
}

const measure = async (make: () => Contender | Promise<Contender>, plan: TimeOptions, check: boolean): Promise<Measured> => {
  const c = await make()
  try {
    for (let i = 0; i < CHECK_STEPS; i++) c.step()
    const output = check ? c.output() : undefined
    const timing = time(() => c.step(), plan)
    stateBytesOf.set(timing, await c.stateBytes())
    return { timing, output }
  } finally {
    c.dispose()
  }
}

// ---------------------------------------------------------------- plain loop

/** Adam on one leaf, in one pass: m ← β₁m + (1−β₁)g, v ← β₂v + (1−β₂)g², p ← p − lr·(m/c₁)/(√(v/c₂) + ε). */
const adamLeaf = (p: Float32Array, m: Float32Array, v: Float32Array, g: Float32Array, s1: number, s2: number): void => {
  const n = p.length
  const a1 = 1 - B1
  const a2 = 1 - B2
  for (let i = 0; i < n; i++) {
    const gi = g[i]
    const mi = B1 * m[i] + a1 * gi
    const vi = B2 * v[i] + a2 * gi * gi
    m[i] = mi
    v[i] = vi
    p[i] -= (LR * (mi * s1)) / (Math.sqrt(vi * s2) + EPS)
  }
}

const plainLoop = (): Contender => {
  const p = hostParams.map((a) => a.slice())
  const m = names.map(() => new Float32Array(SIZE))
  const v = names.map(() => new Float32Array(SIZE))
  let t = 0
  return {
    step: () => {
      t++
      const g = hostGrads[(t - 1) & 1]
      const s1 = 1 / (1 - B1 ** t)
      const s2 = 1 / (1 - B2 ** t)
      for (let j = 0; j < LEAVES; j++) adamLeaf(p[j], m[j], v[j], g[j], s1, s2)
    },
    output: () => p[0].slice(),
    stateBytes: () => (m.length + v.length) * SIZE * 4,
    dispose: () => {},
  }
}

/** signSGD by hand: p ← p − lr·sign(g), the reference of the signSGD row's check. */
const plainSignSgd = (): Contender => {
  const p = hostParams.map((a) => a.slice())
  let t = 0
  return {
    step: () => {
      const g = hostGrads[t++ & 1]
      for (let j = 0; j < LEAVES; j++) {
        const pj = p[j]
        const gj = g[j]
        for (let i = 0; i < SIZE; i++) pj[i] -= LR * Math.sign(gj[i])
      }
    },
    output: () => p[0].slice(),
    stateBytes: () => 0,
    dispose: () => {},
  }
}

// ---------------------------------------------------------------- ours

type Fr = typeof import('@frugal-ts/frugal')
let frPromise: Promise<Fr> | undefined
const loadFrugal = (): Promise<Fr> => (frPromise ??= import('@frugal-ts/frugal'))

interface OursSpec {
  /** the transformation */
  readonly make: (fr: Fr) => import('@frugal-ts/frugal').GradientTransformation<any>
  /** FRUGAL svd without BENCH_FULL_SVD: skip the full refresh, time one leaf's SVD instead */
  readonly svdStandIn?: boolean
}

const ours = (name: string, spec: OursSpec) => async (): Promise<Contender> => {
  const { core, ad } = await loadOurs()
  const fr = await loadFrugal()
  const { Tensor, Tree, dispose, fromArray, scalar } = core
  let params = treeOf(hostParams.map((a) => fromArray(a, [ROWS, COLS])))
  const grads = hostGrads.map((set) => treeOf(set.map((a) => fromArray(a, [ROWS, COLS]))))
  const tx = spec.make(fr)
  let state: unknown = tx.init(params)

  /** disposes the tensors of `old` that `fresh` does not hold (a refresh replaces only some) */
  const swapState = (fresh: unknown) => {
    const tensors = (x: unknown) => Tree.leaves(x as import('@frugal-ts/core').Tree.Tree<unknown>).filter((l): l is Tensor => l instanceof Tensor)
    const keepSet = new Set(tensors(fresh))
    dispose(tensors(state).filter((t) => !keepSet.has(t)))
    state = fresh
  }

  // one-off: the first refresh (FRUGAL only), timed on its own
  let refreshMs: number | undefined
  let refreshNote: string | undefined
  if (tx.refresh) {
    if (spec.svdStandIn) {
      const g0 = grads[0].layers[0].mlp.w1
      const t0 = performance.now()
      const ps = fr.svdProjector().refresh(g0, null, fr.standaloneContext(RHO))
      refreshMs = (performance.now() - t0) * LEAVES
      refreshNote = `one ${ROWS}×${COLS} SVD timed (${fmt(refreshMs / LEAVES)} ms) ×${LEAVES}; steps run on init's random bases (BENCH_FULL_SVD=1 for the real refresh)`
      dispose(ps)
      // mark the period's refresh as done, as the real one would (next due at step 200)
      const s = state as { nextRefresh: Tensor; refreshes: Tensor }
      swapState({ ...s, nextRefresh: scalar(200, 'int32'), refreshes: scalar(1, 'int32') })
    } else {
      const t0 = performance.now()
      const fresh = tx.refresh(grads[0], state, params)
      refreshMs = performance.now() - t0
      if (fresh !== null) swapState(fresh)
    }
  }

  const jitted = ad.jit(
    (g: Params, s: unknown, p: Params) => {
      const r = tx.update(g, s, p)
      return { params: fr.applyUpdates(p, r.updates), state: r.state }
    },
    { donate: [1, 2] },
  )
  let k = 0
  let refreshes = 0
  let firstCallMs: number | undefined
  const backend = core.currentBackend()
  let live: ReturnType<typeof backend.memory> | undefined
  const step = () => {
    // live tensors once the check steps are done, compared after timing: a leak across steps would show
    if (k === CHECK_STEPS) live = backend.memory()
    const g = grads[k++ & 1]
    if (tx.refresh) {
      const fresh = tx.refresh(g, state, params)
      if (fresh !== null) (refreshes++, swapState(fresh))
    }
    const t0 = performance.now()
    const out = jitted(g, state, params)
    firstCallMs ??= performance.now() - t0
    params = out.params
    state = out.state
  }
  return {
    step,
    output: () => Float32Array.from(params.layers[0].mlp.w1.dataSync()),
    stateBytes: () => {
      const now = backend.memory()
      // a leak fails our row as it fails a tfjs row (the row becomes a FAIL with the reason)
      if (live && (now.tensors !== live.tensors || now.bytes !== live.bytes)) {
        process.exitCode = 1
        throw new Error(`FAIL: ${name}: tensors leak across steps: ${live.tensors} (${live.bytes} B) -> ${now.tensors} (${now.bytes} B)`)
      }
      oneOffs.push({
        name,
        firstCallMs,
        refreshMs,
        refreshNote: refreshes > 0 ? `${refreshNote ?? ''} (${refreshes} more refresh(es) ran during timing!)` : refreshNote,
        program: jitted.describe(grads[0], state, params),
      })
      return fr.stateBytes(state)
    },
    dispose: () => dispose([params, state, grads]),
  }
}

// ---------------------------------------------------------------- tfjs

const tfAdam = (backend: 'cpu' | 'wasm') => async (): Promise<Contender> => {
  const tf = await useTfBackend(backend)
  const before = tf.memory().numTensors
  const varNames = names.map((n) => `bench-optimizer/${backend}/${n}`)
  const vars = hostParams.map((a, i) => tf.tidy(() => tf.variable(tf.tensor2d(a, [ROWS, COLS]), true, varNames[i])))
  const grads = hostGrads.map((set) => set.map((a, i) => ({ name: varNames[i], tensor: tf.tensor2d(a, [ROWS, COLS]) })))
  const opt = tf.train.adam(LR, B1, B2, EPS)
  let k = 0
  let live = -1
  const step = () => {
    opt.applyGradients(grads[k++ & 1])
    // read one value back, so a backend that defers work is timed doing it
    tf.tidy(() => tf.slice(vars[LEAVES - 1], [ROWS - 1, COLS - 1], [1, 1]).dataSync())
  }
  return {
    step: () => {
      step()
      const n = tf.memory().numTensors
      if (live >= 0 && n !== live) throw new Error(`tfjs-${backend}: tensors leak across steps (${live} -> ${n})`)
      live = n
    },
    output: () => Float32Array.from(vars[0].dataSync() as Float32Array),
    stateBytes: async () => {
      // the moments (variables it owns) and a fresh scalar of the iteration count, which we dispose
      const weights = await opt.getWeights()
      const bytes = weights.reduce((s, w) => s + w.tensor.size * 4, 0)
      tf.dispose(weights.filter((w) => w.name === 'iter').map((w) => w.tensor))
      return bytes
    },
    dispose: () => {
      opt.dispose()
      tf.dispose([...vars, ...grads.flatMap((g) => g.map((x) => x.tensor))])
      const after = tf.memory().numTensors
      if (after !== before) console.warn(`tfjs-${backend}: ${after - before} tensors left after dispose`)
    },
  }
}

// ---------------------------------------------------------------- run

const started = performance.now()
console.log(
  `Optimizer step over ${TOTAL / 1e6} M float32 parameters (${LEAVES} × ${ROWS}×${COLS}), lr ${LR}, β ${B1}/${B2}, ε ${EPS}; ` +
    `Node ${process.version}, ${process.platform}/${process.arch}, ${cpus().length} cores, load average ${loadavg().map((x) => x.toFixed(1)).join(' ')}`,
)
const PLAIN = 'plain Float32Array Adam loop'
const ADAM = 'frugal-ts adam (cpu, jit)'
const BLOCKS = 'FRUGAL ρ=0.25 blocks (jit)'
const TF_CPU = 'tf.train.adam tfjs-cpu'
const rows: Row[] = []
const run = async (name: string, make: () => Contender | Promise<Contender>, plan: TimeOptions, check = false) => {
  if (ONLY.length > 0 && !ONLY.some((s) => name.toLowerCase().includes(s))) return
  const t0 = performance.now()
  const row = await attempt(name, () => measure(make, plan, check))
  rows.push(row)
  const r = row.result
  console.log(`  ${name}: ${'median' in r ? `${fmt(r.median)} ms/step` : `skipped (${r.skipped})`}  [${fmt((performance.now() - t0) / 1000)} s]`)
}
const frugalOf = (projector: 'blocks' | 'randk' | 'svd') => (fr: Fr) =>
  fr.frugal({ learningRate: LR, b1: B1, b2: B2, eps: EPS, density: RHO, projector })

await run(PLAIN, plainLoop, fast, true)
await run(ADAM, ours(ADAM, { make: (fr) => fr.adam(LR, { b1: B1, b2: B2, eps: EPS }) }), fast, true)
await run(BLOCKS, ours(BLOCKS, { make: frugalOf('blocks') }), fast)
await run('FRUGAL ρ=0.25 randk (jit)', ours('FRUGAL ρ=0.25 randk (jit)', { make: frugalOf('randk') }), fast)
await run('FRUGAL ρ=0.25 svd (jit)', ours('FRUGAL ρ=0.25 svd (jit)', { make: frugalOf('svd'), svdStandIn: !FULL_SVD }), slow)
const SIGN = 'frugal-ts signSgd (cpu, jit)'
const PLAIN_SIGN = 'plain Float32Array signSGD loop'
await run(PLAIN_SIGN, plainSignSgd, fast, true)
await run(SIGN, ours(SIGN, { make: (fr) => fr.signSgd(LR) }), fast, true)
await run(TF_CPU, tfAdam('cpu'), tfCpu, true)
await run('tf.train.adam tfjs-wasm', tfAdam('wasm'), fast, true)

const perSecond = { header: 'params/s', value: (t: Timing) => `${fmt(TOTAL / (t.median / 1000) / 1e6)} M` }
const stateCol = {
  header: 'state bytes',
  value: (t: Timing) => {
    const b = stateBytesOf.get(t)
    return b === undefined ? '-' : `${b} (${fmt(b / 1e6)} MB)`
  },
}
// every contender runs on one thread: ours on `cpu-1t` (loadOurs), tfjs-cpu and tfjs-wasm have no threads in Node
printTable(`One optimizer step, ${TOTAL / 1e6} M parameters, single thread (ms per step; check: first leaf after ${CHECK_STEPS} steps)`, rows, {
  baseline: PLAIN,
  ratio: 'speed',
  columns: [perSecond, stateCol],
  threads: '1',
})
// the checks that FAIL a row (and the script): each family against its hand-written loop
const ADAM_TOL = 1e-5
const pick = (names: readonly string[]) => rows.filter((r) => names.includes(r.name))
printTable(`check: Adam rows against the plain loop (FAIL beyond ${ADAM_TOL})`, pick([PLAIN, ADAM, TF_CPU, 'tf.train.adam tfjs-wasm']), {
  baseline: PLAIN,
  ratio: 'speed',
  threads: '1',
  check: { reference: PLAIN, tolerance: ADAM_TOL },
})
printTable(`check: signSGD against the plain loop (FAIL beyond 1e-6)`, pick([PLAIN_SIGN, SIGN]), {
  baseline: PLAIN_SIGN,
  ratio: 'speed',
  threads: '1',
  check: { reference: PLAIN_SIGN, tolerance: 1e-6 },
})

console.log('\nOne-off costs (not in the step times above)')
for (const o of oneOffs) {
  const parts = [
    o.firstCallMs === undefined ? null : `first jitted call (trace + compile + run) ${fmt(o.firstCallMs)} ms`,
    o.refreshMs === undefined ? null : `refresh ${fmt(o.refreshMs)} ms (every 200 steps: ${fmt(o.refreshMs / 200)} ms/step amortized)`,
    o.refreshNote ?? null,
  ].filter((x): x is string => x !== null)
  console.log(`  ${o.name}: ${parts.join('; ')}`)
  if (o.program) console.log(`    ${o.program}`)
}

const timingOf = (name: string): Timing | undefined => {
  const r = rows.find((x) => x.name === name)?.result
  return r && 'median' in r ? r : undefined
}

/** A contender of the interleaved re-run; `every` k: it steps only in rounds 0, k, 2k, … (slow ones), without warm-up. */
interface Paired {
  readonly name: string
  readonly make: () => Contender | Promise<Contender>
  readonly every?: number
}

/**
 * Times contenders round-robin: every round runs one timed step of each (in a
 * rotating order), so all of them see the same machine load. Ratios of these
 * medians are steadier than ratios of medians measured minutes apart.
 */
const interleaved = async (entries: readonly Paired[], warmup: number, rounds: number): Promise<Map<string, Timing>> => {
  const built: Contender[] = []
  try {
    for (const e of entries) built.push(await e.make())
    built.forEach((c, i) => {
      const n = CHECK_STEPS + ((entries[i].every ?? 1) === 1 ? warmup : 0)
      for (let s = 0; s < n; s++) c.step()
    })
    const samples = built.map((): number[] => [])
    for (let r = 0; r < rounds; r++)
      for (let j = 0; j < built.length; j++) {
        const i = (r + j) % built.length
        if (r % (entries[i].every ?? 1) !== 0) continue
        const t0 = performance.now()
        built[i].step()
        samples[i].push(performance.now() - t0)
      }
    return new Map(
      entries.map((e, i): [string, Timing] => {
        const x = samples[i].sort((a, b) => a - b)
        const mid = x.length >> 1
        return [e.name, { median: x.length % 2 ? x[mid] : (x[mid - 1] + x[mid]) / 2, min: x[0], runs: x.length }]
      }),
    )
  } finally {
    for (const c of built) c.dispose()
  }
}

/**
 * Prints PASS/FAIL for `ratio(a, b)` of two timings' medians (the verdict), with
 * the same ratio of their fastest runs for reference.
 */
const target = (label: string, ta: Timing | undefined, tb: Timing | undefined, ratio: (x: number, y: number) => number, ok: (v: number) => boolean, how: string) => {
  if (!ta || !tb) return console.log(`${ONLY.length > 0 ? '-   ' : 'FAIL'}  ${label}: not measured (a contender did not run)`)
  const v = ratio(ta.median, tb.median)
  console.log(
    `${ok(v) ? 'PASS' : 'FAIL'}  ${label}: ${fmt(v)}× (medians ${fmt(ta.median)} ms vs ${fmt(tb.median)} ms, ${how}; ` +
      `fastest runs ${fmt(ratio(ta.min, tb.min))}×)`,
  )
}

if (ONLY.length === 0) {
  const t0 = performance.now()
  try {
    pairedTimings = await interleaved(
      [
        { name: PLAIN, make: plainLoop },
        { name: ADAM, make: ours(ADAM, { make: (fr) => fr.adam(LR, { b1: B1, b2: B2, eps: EPS }) }) },
        { name: BLOCKS, make: ours(BLOCKS, { make: frugalOf('blocks') }) },
        { name: TF_CPU, make: tfAdam('cpu'), every: 5 },
      ],
      2,
      PAIRED_ROUNDS,
    )
    console.log(
      `\nInterleaved re-run (${PAIRED_ROUNDS} rounds, one step of each per round; tfjs-cpu every 5th round) [${fmt((performance.now() - t0) / 1000)} s]`,
    )
    for (const [name, t] of pairedTimings) console.log(`  ${name}: median ${fmt(t.median)} ms, min ${fmt(t.min)} ms (${t.runs} runs)`)
  } catch (e) {
    console.log(`\ninterleaved re-run failed: ${e instanceof Error ? e.message : String(e)}`)
  }
}

console.log(ONLY.length > 0 ? '\nTargets (partial run: BENCH_ONLY is set)' : '\nTargets')
const pt = (name: string) => pairedTimings?.get(name) ?? timingOf(name)
const how = pairedTimings ? 'interleaved' : 'table'
target('our jitted Adam ≥ 0.8× the throughput of the plain loop', pt(ADAM), pt(PLAIN), (x, y) => y / x, (v) => v >= 0.8, how)
target('our jitted Adam ≥ 25× faster than tf.train.adam on tfjs-cpu', pt(ADAM), pt(TF_CPU), (x, y) => y / x, (v) => v >= 25, how)
target('FRUGAL ρ=0.25 (blocks) step ≤ 0.6× our Adam step', pt(BLOCKS), pt(ADAM), (x, y) => x / y, (v) => v <= 0.6, how)
console.log(`\ntotal ${fmt((performance.now() - started) / 1000)} s`)
