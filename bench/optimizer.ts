/**
 * One optimizer step over 10 M float32 parameters (20 matrices 500×1000,
 * named like the MLP linears of a transformer, so FRUGAL's default rule
 * projects all of them), every contender in this process, on one thread,
 * timed interleaved (bench/src/table.ts `interleaved`: one step of each per
 * round, rotating order, so load on a shared machine falls on all alike):
 *
 * - a plain fused Float32Array Adam loop (m, v and p in one pass, bias
 *   corrected): the baseline; a plain signSGD loop;
 * - our `adam`, `frugal` ρ = 0.25 (blocks, randk, svd) and `signSgd`, each as
 *   `jit((g, s, p) => …update + applyUpdates…, { donate: [1, 2] })` on
 *   `cpu-1t`; FRUGAL's host-side `refresh` is called eagerly before each
 *   jitted step, as the protocol asks (it returns null when no refresh is
 *   due, which is every timed step: T = 200);
 * - `tf.train.adam` (`applyGradients` on `tf.variable`s) on tfjs-backend-cpu
 *   (every 5th round: seconds per step) and tfjs-backend-wasm, one value read back every step.
 *
 * Two fixed gradient sets alternate step by step (with one constant gradient
 * Adam's step is lr·sign(g) and would not tell Adam from signSGD). Every
 * contender first runs the same two steps from the same parameters; its
 * parameters after them are its check: Adam rows against the plain Adam
 * loop, signSGD against the plain signSGD loop, and each FRUGAL row against
 * FRUGAL by hand (bench/src/frugalRef.ts) in the subspace the library chose,
 * read from its state. A row beyond its tolerance FAILs (exit code 1), as
 * does a row whose live tensors change between steps. The one-off costs
 * (first jitted call: trace + compile; FRUGAL's first refresh) are reported apart.
 *
 * The svd refresh (a host SVD of every projectable gradient) is slow; by
 * default it is timed on one leaf and scaled by the leaf count, and the svd row runs on
 * init's random orthonormal bases, which have the shapes of the SVD bases
 * (the jitted step is the same program). `BENCH_FULL_SVD=1` runs the real
 * refresh of all twenty leaves instead (adds a few minutes here).
 *
 * Run: pnpm --filter @frugal-ts/bench run optimizer   (BENCH_ROUNDS=n: rounds, default 15;
 * BENCH_ONLY=plain,blocks: only the contenders whose names contain one of the words)
 */
import { cpus, loadavg } from 'node:os'
import type { Tensor } from '@frugal-ts/core'
import type { Contender } from './src/contenders'
import { loadOurs, randomFloats, useTfBackend } from './src/contenders'
import type { Subspace } from './src/frugalRef'
import { frugalReference, subspaceOf } from './src/frugalRef'
import type { Row, Timing } from './src/table'
import { fmt, interleaved, printCheck, printTable } from './src/table'

// 20 leaves: ρ = 0.25 makes round(ρ·20) = 5 blocks active, exactly a quarter of the parameters (of 10 leaves, Python's round(2.5) = 2 would be a fifth)
const [ROWS, COLS, LEAVES] = [500, 1000, 20]
const SIZE = ROWS * COLS
const TOTAL = SIZE * LEAVES
const [LR, B1, B2, EPS] = [1e-3, 0.9, 0.999, 1e-8]
const RHO = 0.25
/** steps every contender runs from the initial parameters before its check output is read (they also warm up) */
const CHECK_STEPS = 2
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 15)
const FULL_SVD = process.env.BENCH_FULL_SVD === '1'
/** `BENCH_ONLY=plain,blocks`: run only the contenders whose names contain one of these (case-insensitive), e.g. to profile one */
const ONLY = (process.env.BENCH_ONLY ?? '').split(',').map((s) => s.trim().toLowerCase()).filter((s) => s !== '')

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
const leafOf = (tree: { layers: { mlp: { w1: unknown; w2: unknown } }[] }, i: number): unknown => tree.layers[i >> 1].mlp[i & 1 ? 'w2' : 'w1']

/** optimizer-state bytes of each row (read with its check output), and its one-off costs */
const stateBytesOf = new Map<string, number>()
interface OneOff {
  readonly name: string
  readonly firstCallMs?: number
  readonly refreshMs?: number
  readonly refreshNote?: string
  readonly program?: string
}
const oneOffs: OneOff[] = []
/** the subspaces each FRUGAL row's library state chose, read with its check output */
const subspacesOf = new Map<string, { index: number; subspace: Subspace }[]>()
/** the leaves each FRUGAL row's check covers: all of them, but for svd (a float64 matmul by hand per leaf) the first two */
const checkedLeaves = (svd: boolean) => Array.from({ length: svd ? 2 : LEAVES }, (_, i) => i)
const concat = (arrays: readonly ArrayLike<number>[]): Float32Array => {
  const out = new Float32Array(arrays.reduce((n, a) => n + a.length, 0))
  let at = 0
  for (const a of arrays) out.set(a, at), (at += a.length)
  return out
}

// ---------------------------------------------------------------- plain loops

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

const plainLoop = (name: string) => (): Contender => {
  const p = hostParams.map((a) => a.slice())
  const m = names.map(() => new Float32Array(SIZE))
  const v = names.map(() => new Float32Array(SIZE))
  let t = 0
  stateBytesOf.set(name, (m.length + v.length) * SIZE * 4)
  return {
    step: () => {
      t++
      const g = hostGrads[(t - 1) & 1]
      const s1 = 1 / (1 - B1 ** t)
      const s2 = 1 / (1 - B2 ** t)
      for (let j = 0; j < LEAVES; j++) adamLeaf(p[j], m[j], v[j], g[j], s1, s2)
    },
    output: () => p[0].slice(),
    dispose: () => {},
  }
}

/** signSGD by hand: p ← p − lr·sign(g), the reference of the signSGD row's check. */
const plainSignSgd = (name: string) => (): Contender => {
  const p = hostParams.map((a) => a.slice())
  let t = 0
  stateBytesOf.set(name, 0)
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
  /** FRUGAL: the check output is these leaves, and their subspaces are read from the state */
  readonly frugalLeaves?: readonly number[]
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
    output: () => {
      stateBytesOf.set(name, fr.stateBytes(state))
      if (!spec.frugalLeaves) return Float32Array.from(params.layers[0].mlp.w1.dataSync())
      const leaves = (state as { leaves: Parameters<typeof leafOf>[0] }).leaves
      subspacesOf.set(name, spec.frugalLeaves.map((index) => ({ index, subspace: subspaceOf(leafOf(leaves, index)) })))
      return concat(spec.frugalLeaves.map((i) => (leafOf(params, i) as Tensor).dataSync()))
    },
    note: () => {
      const now = backend.memory()
      // a leak fails our row as it fails a tfjs row (interleaved makes the row a FAIL with the reason)
      if (live && (now.tensors !== live.tensors || now.bytes !== live.bytes))
        throw new Error(`${name}: tensors leak across steps: ${live.tensors} (${live.bytes} B) -> ${now.tensors} (${now.bytes} B)`)
      oneOffs.push({
        name,
        firstCallMs,
        refreshMs,
        refreshNote: refreshes > 0 ? `${refreshNote ?? ''} (${refreshes} more refresh(es) ran during timing!)` : refreshNote,
        program: jitted.describe(grads[0], state, params),
      })
      return ''
    },
    dispose: () => dispose([params, state, grads]),
  }
}

// ---------------------------------------------------------------- tfjs

const tfAdam = (name: string, backend: 'cpu' | 'wasm') => async (): Promise<Contender> => {
  const tf = await useTfBackend(backend)
  const varNames = names.map((n) => `bench-optimizer/${backend}/${n}`)
  const vars = hostParams.map((a, i) => tf.tidy(() => tf.variable(tf.tensor2d(a, [ROWS, COLS]), true, varNames[i])))
  const grads = hostGrads.map((set) => set.map((a, i) => ({ name: varNames[i], tensor: tf.tensor2d(a, [ROWS, COLS]) })))
  const opt = tf.train.adam(LR, B1, B2, EPS)
  let k = 0
  let live = 0
  let leak: string | undefined
  return {
    // the tables share tfjs's global backend: each step runs on this contender's
    prepare: () => void (tf.getBackend() !== backend && tf.setBackend(backend)),
    step: () => {
      opt.applyGradients(grads[k++ & 1])
      // read one value back, so a backend that defers work is timed doing it
      tf.tidy(() => tf.slice(vars[LEAVES - 1], [ROWS - 1, COLS - 1], [1, 1]).dataSync())
      // tfjs's count is engine-wide: compared from the first timed step on, when every contender is built
      const n = tf.memory().numTensors
      if (k > CHECK_STEPS + 1 && n !== live) leak ??= `tfjs-${backend}: tensors leak across steps (${live} -> ${n})`
      live = n
    },
    // a leak found while timing fails the row once timing is over (interleaved turns the throw into a FAIL row)
    note: () => {
      if (leak) throw new Error(leak)
      return ''
    },
    output: async () => {
      // the moments (variables it owns) and a fresh scalar of the iteration count, which we dispose
      const weights = await opt.getWeights()
      stateBytesOf.set(name, weights.reduce((s, w) => s + (w.name === 'iter' ? 0 : w.tensor.size * 4), 0))
      tf.dispose(weights.filter((w) => w.name === 'iter').map((w) => w.tensor))
      return Float32Array.from(vars[0].dataSync() as Float32Array)
    },
    dispose: () => {
      opt.dispose()
      tf.dispose([...vars, ...grads.flatMap((g) => g.map((x) => x.tensor))])
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
const ADAM = 'frugal-ts adam (jit)'
const BLOCKS = 'FRUGAL ρ=0.25 blocks (jit)'
const RANDK = 'FRUGAL ρ=0.25 randk (jit)'
const SVD = 'FRUGAL ρ=0.25 svd (jit)'
const PLAIN_SIGN = 'plain Float32Array signSGD loop'
const SIGN = 'frugal-ts signSgd (jit)'
const TF_CPU = 'tf.train.adam tfjs-cpu'
const TF_WASM = 'tf.train.adam tfjs-wasm'
const frugalOf = (projector: 'blocks' | 'randk' | 'svd') => (fr: Fr) =>
  fr.frugal({ learningRate: LR, b1: B1, b2: B2, eps: EPS, density: RHO, projector })
const makers: [string, () => Contender | Promise<Contender>][] = [
  [PLAIN, plainLoop(PLAIN)],
  [ADAM, ours(ADAM, { make: (fr) => fr.adam(LR, { b1: B1, b2: B2, eps: EPS }) })],
  [BLOCKS, ours(BLOCKS, { make: frugalOf('blocks'), frugalLeaves: checkedLeaves(false) })],
  [RANDK, ours(RANDK, { make: frugalOf('randk'), frugalLeaves: checkedLeaves(false) })],
  [SVD, ours(SVD, { make: frugalOf('svd'), svdStandIn: !FULL_SVD, frugalLeaves: checkedLeaves(true) })],
  [PLAIN_SIGN, plainSignSgd(PLAIN_SIGN)],
  [SIGN, ours(SIGN, { make: (fr) => fr.signSgd(LR) })],
  [TF_CPU, tfAdam(TF_CPU, 'cpu')],
  [TF_WASM, tfAdam(TF_WASM, 'wasm')],
]
const picked = makers.filter(([name]) => ONLY.length === 0 || ONLY.some((s) => name.toLowerCase().includes(s)))
console.log(`${picked.length} contenders, ${CHECK_STEPS} steps each, then ${ROUNDS} interleaved rounds (tfjs-cpu every 5th)…`)
const rows: Row[] = await interleaved(picked, ROUNDS, CHECK_STEPS, { every: { [TF_CPU]: 5 } })

const perSecond = { header: 'params/s', value: (t: Timing) => `${fmt(TOTAL / (t.median / 1000) / 1e6)} M` }
const stateCol = (name: string) => {
  const b = stateBytesOf.get(name)
  return b === undefined ? '-' : `${b} (${fmt(b / 1e6)} MB)`
}
const nameOf = (t: Timing) => rows.find((r) => r.result === t)?.name ?? ''
// every contender runs on one thread: ours on `cpu-1t` (loadOurs), tfjs-cpu and tfjs-wasm have no threads in Node
// the check column of the main table compares the Adam rows' first leaf with the plain loop's (the other families are checked below)
const adamRows = [PLAIN, ADAM, TF_CPU, TF_WASM]
const mainRows = rows.map((r) => (adamRows.includes(r.name) ? r : { ...r, output: undefined }))
printTable(`One optimizer step, ${TOTAL / 1e6} M parameters, single thread, interleaved (ms per step; check column: Adam rows' first leaf after ${CHECK_STEPS} steps)`, mainRows, {
  baseline: PLAIN,
  ratio: 'speed',
  columns: [perSecond, { header: 'cpu ms', value: (t) => fmt(t.cpu ?? NaN) }, { header: 'state bytes', value: (t) => stateCol(nameOf(t)) }],
  threads: '1',
})

// the checks that FAIL a row (and the script): each family against its hand-written loop
const ADAM_TOL = 1e-5
const pick = (ns: readonly string[]) => rows.filter((r) => ns.includes(r.name))
printTable(`check: Adam rows against the plain loop (FAIL beyond ${ADAM_TOL})`, pick(adamRows), {
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
/** FRUGAL rows against FRUGAL by hand, in the subspaces the library chose: Adam there, lr·sign on the rest */
const FRUGAL_TOL = 1e-5
for (const name of [BLOCKS, RANDK, SVD]) {
  const row = rows.find((r) => r.name === name)
  if (!row) continue
  const leaves = subspacesOf.get(name)
  const skipped = 'skipped' in row.result ? row.result.skipped : undefined
  if (!leaves) {
    printCheck(`check: ${name}`, [{ name, threads: '1', skipped: skipped ?? 'no subspaces read' }], { name: 'FRUGAL by hand', output: new Float32Array(0) }, FRUGAL_TOL)
    continue
  }
  const t0 = performance.now()
  const ref = frugalReference({ rows: ROWS, cols: COLS, lr: LR, b1: B1, b2: B2, eps: EPS, steps: CHECK_STEPS, params: hostParams, gradSets: hostGrads, leaves })
  const kinds = [...new Set(leaves.map((l) => l.subspace.kind))].map((k) => `${leaves.filter((l) => l.subspace.kind === k).length} ${k}`)
  printCheck(
    `check: ${name}, leaves ${leaves.map((l) => l.index).join(',')} (${kinds.join(', ')}) after ${CHECK_STEPS} steps against FRUGAL by hand ` +
      `(bench/src/frugalRef.ts, float64; ${ref.ties} sign ties given slack) [${fmt((performance.now() - t0) / 1000)} s]`,
    [{ name, threads: '1', output: row.output, skipped }],
    { name: 'FRUGAL by hand', output: ref.output, slack: ref.slack },
    FRUGAL_TOL,
  )
}

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

/** Prints PASS/FAIL for `ratio(a, b)` of two rows' medians (the one rule), with the same ratio of their fastest runs for reference. */
const target = (label: string, a: string, b: string, ratio: (x: number, y: number) => number, ok: (v: number) => boolean) => {
  const [ta, tb] = [timingOf(a), timingOf(b)]
  if (!ta || !tb) return console.log(`${ONLY.length > 0 ? '-   ' : 'FAIL'}  ${label}: not measured (a contender did not run)`)
  const v = ratio(ta.median, tb.median)
  console.log(`${ok(v) ? 'PASS' : 'FAIL'}  ${label}: ${fmt(v)}× (medians ${fmt(ta.median)} ms vs ${fmt(tb.median)} ms, interleaved; fastest runs ${fmt(ratio(ta.min, tb.min))}×)`)
}

console.log(ONLY.length > 0 ? '\nTargets (partial run: BENCH_ONLY is set)' : '\nTargets')
target('our jitted Adam ≥ 0.8× the throughput of the plain loop', ADAM, PLAIN, (x, y) => y / x, (v) => v >= 0.8)
target('our jitted Adam ≥ 25× faster than tf.train.adam on tfjs-cpu', ADAM, TF_CPU, (x, y) => y / x, (v) => v >= 25)
target('FRUGAL ρ=0.25 (blocks) step ≤ 0.6× our Adam step', BLOCKS, ADAM, (x, y) => x / y, (v) => v <= 0.6)
console.log(`\ntotal ${fmt((performance.now() - started) / 1000)} s`)
