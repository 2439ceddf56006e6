/**
 * The overhead of `@frugal-ts/backend-tfjs` over the tfjs ops it calls, on
 * tfjs-backend-cpu and tfjs-backend-wasm, in three tables per tfjs backend:
 * - matmul 512² (frugal eager and jitted vs `tf.matMul`), result read back;
 * - one Adam update of 10 M parameters (10 leaves of 1000×1000): frugal
 *   `jit` with params and state donated vs the same tfjs ops in a `tf.tidy`;
 * - MLP 784-256-10, batch 64, forward + backward, loss and gradients read back:
 *   frugal `jit(valueAndGrad(loss))` vs tfjs's own `tf.valueAndGrads`.
 * Contenders of a table are timed interleaved (bench/src/table.ts: after
 * their warm-up, one call each per round, rotating order), so load on the
 * machine hits them alike; ratio = our time / raw tfjs time.
 * Targets: ≤ 1.2× on matmul and Adam (the same ops), ≤ 1.0× on the MLP step;
 * each of our rows' outputs must match the raw tfjs row's within 1e-5 (else FAIL).
 *
 * Wall times move with machine load, so each table also gives the fastest run
 * and the median process CPU time (`process.cpuUsage`) of every contender;
 * the targets read the wall medians (one rule).
 *
 * Run: node --import tsx --conditions=source bench/tfjs-backend.ts [cpu|wasm ...] [matmul|adam|mlp ...]
 * (no argument: everything; about 3 minutes, most of it tfjs-cpu's Adam)
 */
import type { Tensor } from '@frugal-ts/core'
import { add, dispose, fromArray, keep, matmul, mul, registerBackend, scope, setBackend, sqrt, sub, div } from '@frugal-ts/core'
import { jit, nn, valueAndGrad } from '@frugal-ts/autodiff'
import { tfjsBackend } from '@frugal-ts/backend-tfjs'
import type { Tf as CoreTf } from '@frugal-ts/backend-tfjs'
import { randomFloats, useTfBackend } from './src/contenders'
import type { Contender, Tf } from './src/contenders'
import type { Column, Row, Timing } from './src/table'
import { fmt, interleaved, printTable, ratioOf } from './src/table'
import { BATCH, HIDDEN, IN, OUT, flat, mlpData } from './src/mlp'

type TfT = ReturnType<Tf['tensor']>

/** every table's check: our outputs against the raw tfjs ops' (the same math on the same tfjs backend); beyond it a row FAILs (exit 1) */
const CHECK_TOL = 1e-5

/**
 * A contender from one call: each step makes the call and keeps its result,
 * the check output is the result of the last warm-up call (bench/src/table.ts
 * `interleaved` reads it before timing).
 */
const calling = (call: () => Float32Array | void, done: () => void = () => {}): Contender => {
  let last: Float32Array | undefined
  return {
    step: () => void (last = call() ?? last),
    output: () => last ?? new Float32Array(0),
    dispose: done,
  }
}

/**
 * `fn` inside `tf.tidy`, its host result passed around the tidy: `tf.tidy`
 * walks every element of a returned typed array looking for tensors, which
 * would add ~10 ms per 100 k elements to the raw contenders.
 */
const inTidy = <R>(tf: Tf, fn: () => R): R => {
  let r: R | undefined
  tf.tidy(() => {
    r = fn()
  })
  return r as R
}

/**
 * `fn` inside a frugal `scope`, its host result passed around the scope: like
 * `tf.tidy`, `scope` walks a returned typed array element by element looking
 * for tensors (~20 ms per million elements).
 */
const inScope = <R>(fn: () => R): R => {
  let r: R | undefined
  scope(() => {
    r = fn()
  })
  return r as R
}

const timingOf = (rows: readonly Row[], name: string): Timing | undefined => {
  const r = rows.find((x) => x.name === name)?.result
  return r && 'median' in r ? r : undefined
}

/** Extra columns: fastest run over the baseline's fastest, and median CPU time over the baseline's (both less sensitive to machine load than wall medians). */
const loadColumns = (rows: readonly Row[], baseline: string): Column[] => {
  const base = timingOf(rows, baseline)
  return [
    { header: 'min / base min', value: (t) => `${fmt(t.min / (base?.min ?? NaN))}×` },
    { header: 'cpu ms', value: (t) => fmt(t.cpu ?? NaN) },
    { header: 'cpu / base cpu', value: (t) => `${fmt((t.cpu ?? NaN) / (base?.cpu ?? NaN))}×` },
  ]
}

const line = (rows: readonly Row[], baseline: string, name: string, target: number, what: string) => {
  const r = ratioOf(rows, name, { baseline, ratio: 'time' }) ?? NaN
  const [t, base] = [timingOf(rows, name), timingOf(rows, baseline)]
  const m = (t?.min ?? NaN) / (base?.min ?? NaN)
  const c = (t?.cpu ?? NaN) / (base?.cpu ?? NaN)
  // one rule: the wall-clock median (min and CPU time are printed for information only)
  const verdict = r <= target ? 'PASS' : 'FAIL'
  console.log(`${verdict}  target: ${what} ≤ ${target}× ${baseline} (wall median): ${fmt(r)}×; for information: min ${fmt(m)}×, cpu ${fmt(c)}×`)
}

// ---------------------------------------------------------------- matmul 512²

const matmulTable = async (tf: Tf, be: string) => {
  const n = 512
  const a = randomFloats(n * n, 1)
  const b = randomFloats(n * n, 2)
  const [ta, tb] = [tf.tensor2d(a, [n, n]), tf.tensor2d(b, [n, n])]
  const [fa, fb] = [keep(fromArray(a, [n, n])), keep(fromArray(b, [n, n]))]
  const jm = jit((x: Tensor, y: Tensor) => matmul(x, y))
  const raw = `raw tfjs-${be} tf.matMul`
  const rows = await interleaved(
    [
      [raw, () => calling(() => inTidy(tf, () => tf.matMul(ta, tb).dataSync() as Float32Array))],
      ['frugal eager matmul', () => calling(() => inScope(() => matmul(fa, fb).dataSync() as Float32Array))],
      ['frugal jit(matmul)', () => calling(() => inScope(() => jm(fa, fb).dataSync() as Float32Array))],
    ],
    30,
    3,
  )
  const gflops = { header: 'GFLOP/s', value: (t: Timing) => fmt((2 * n ** 3) / (t.median * 1e6)) }
  printTable(`matmul ${n}x${n} · ${n}x${n}, tfjs-${be} (result read back)`, rows, { baseline: raw, ratio: 'time', columns: [gflops, ...loadColumns(rows, raw)], threads: '1', check: { reference: raw, tolerance: CHECK_TOL } })
  line(rows, raw, 'frugal eager matmul', 1.2, 'frugal eager matmul')
  line(rows, raw, 'frugal jit(matmul)', 1.2, 'frugal jit(matmul)')
  tf.dispose([ta, tb])
  dispose([fa, fb])
}

// ---------------------------------------------------------------- Adam over 10 M params

const [b1, b2, eps, lr] = [0.9, 0.999, 1e-8, 1e-3]

interface AdamState<T> {
  readonly p: T[]
  readonly m: T[]
  readonly v: T[]
}

const adamTable = async (tf: Tf, be: string) => {
  const leaves = 10
  const shape: [number, number] = [1000, 1000]
  const size = shape[0] * shape[1]
  const init = (seed: number) => Array.from({ length: leaves }, (_, i) => randomFloats(size, seed * 100 + i, 0.1))
  const [p0, g0] = [init(1), init(2)]
  const zeros = new Float32Array(size)

  // raw tfjs: the same ops, one tidy per step, old state disposed (what donation does for us)
  let raw: AdamState<TfT> = { p: p0.map((d) => tf.tensor2d(d, shape)), m: p0.map(() => tf.tensor2d(zeros, shape)), v: p0.map(() => tf.tensor2d(zeros, shape)) }
  const gRaw = g0.map((d) => tf.tensor2d(d, shape))
  let tRaw = 0
  const rawStep = () => {
    tRaw++
    const [c1, c2] = [1 - b1 ** tRaw, 1 - b2 ** tRaw]
    const next = tf.tidy(() => {
      const out: AdamState<TfT> = { p: [], m: [], v: [] }
      raw.p.forEach((p, i) => {
        const g = gRaw[i]
        const m = tf.add(tf.mul(raw.m[i], b1), tf.mul(g, 1 - b1))
        const v = tf.add(tf.mul(raw.v[i], b2), tf.mul(tf.square(g), 1 - b2))
        const u = tf.div(tf.div(m, c1), tf.add(tf.sqrt(tf.div(v, c2)), eps))
        out.p.push(tf.sub(p, tf.mul(u, lr)))
        out.m.push(m)
        out.v.push(v)
      })
      return out as unknown as Record<string, TfT[]>
    }) as unknown as AdamState<TfT>
    tf.dispose([...raw.p, ...raw.m, ...raw.v])
    raw = next
  }

  // frugal: the same update written with core ops, jitted, params and state donated
  const update = (s: AdamState<Tensor>, g: Tensor[], c1: Tensor, c2: Tensor): AdamState<Tensor> => {
    const m = s.m.map((m, i) => add(mul(m, b1), mul(g[i], 1 - b1)))
    const v = s.v.map((v, i) => add(mul(v, b2), mul(mul(g[i], g[i]), 1 - b2)))
    const p = s.p.map((p, i) => sub(p, mul(div(div(m[i], c1), add(sqrt(div(v[i], c2)), eps)), lr)))
    return { p, m, v }
  }
  const step = jit(update, { donate: [0] })
  let ours: AdamState<Tensor> = keep({
    p: p0.map((d) => fromArray(d, shape)),
    m: p0.map(() => fromArray(zeros, shape)),
    v: p0.map(() => fromArray(zeros, shape)),
  })
  const gOurs = keep(g0.map((d) => fromArray(d, shape)))
  let tOurs = 0
  const ourStep = () => {
    tOurs++
    ours = scope(() => {
      const [c1, c2] = [fromArray(new Float32Array([1 - b1 ** tOurs]), []), fromArray(new Float32Array([1 - b2 ** tOurs]), [])]
      return step(ours, gOurs, c1, c2)
    })
  }
  const check = (x: { p: { dataSync(): ArrayLike<number> }[] }) => Float32Array.from(x.p[0].dataSync()).subarray(0, 1000)
  const rawName = `raw tfjs-${be} ops in tf.tidy`
  // the check: the first 1000 values of the first leaf after the 2 warm-up steps, from the same start
  const rows = await interleaved(
    [
      [rawName, () => ({ step: rawStep, output: () => check(raw), dispose: () => tf.dispose([...raw.p, ...raw.m, ...raw.v, ...gRaw]) })],
      ['frugal jit(adam), donated', () => ({ step: ourStep, output: () => check(ours), dispose: () => {} })],
    ],
    9,
    2,
  )
  printTable(`Adam update, ${leaves} x ${shape.join('x')} = 10 M params, tfjs-${be}`, rows, {
    baseline: rawName,
    ratio: 'time',
    columns: [{ header: 'M params/s', value: (t: Timing) => fmt((leaves * size) / (t.median * 1e3)) }, ...loadColumns(rows, rawName)],
    threads: '1',
    check: { reference: rawName, tolerance: CHECK_TOL },
  })
  console.log(`frugal program: ${step.describe(ours, gOurs, fromArray(new Float32Array([1]), []), fromArray(new Float32Array([1]), []))}`)
  line(rows, rawName, 'frugal jit(adam), donated', 1.2, 'frugal jitted Adam')
  dispose([ours, gOurs])
}

// ---------------------------------------------------------------- MLP 784-256-10

const data = mlpData

type Params = { w1: Tensor; b1: Tensor; w2: Tensor; b2: Tensor }

const mlpTable = async (tf: Tf, be: string) => {
  const raw = `raw tfjs-${be} tf.valueAndGrads`
  const tw = [tf.tensor2d(data.w1, [IN, HIDDEN]), tf.tensor1d(data.b1), tf.tensor2d(data.w2, [HIDDEN, OUT]), tf.tensor1d(data.b2)]
  const tx = tf.tensor2d(data.x, [BATCH, IN])
  const ty = tf.tensor1d(data.labels, 'int32')
  const tfLoss = (w1: TfT, b1: TfT, w2: TfT, b2: TfT) =>
    tf.losses.softmaxCrossEntropy(tf.oneHot(ty, OUT), tf.add(tf.matMul(tf.relu(tf.add(tf.matMul(tx, w1), b1)), w2), b2)) as TfT
  const tfVg = tf.valueAndGrads(tfLoss as (...xs: TfT[]) => TfT)
  const rawCall = () =>
    inTidy(tf, () => {
      const { value, grads } = tfVg(tw)
      return flat([value.dataSync(), ...grads.map((g) => g.dataSync())])
    })

  const params: Params = keep({
    w1: fromArray(data.w1, [IN, HIDDEN]),
    b1: fromArray(data.b1, [HIDDEN]),
    w2: fromArray(data.w2, [HIDDEN, OUT]),
    b2: fromArray(data.b2, [OUT]),
  })
  const x = keep(fromArray(data.x, [BATCH, IN]))
  const y = keep(fromArray(data.labels, [BATCH], 'int32'))
  const loss = (p: Params, x: Tensor, y: Tensor): Tensor => nn.crossEntropy(add(matmul(nn.relu(add(matmul(x, p.w1), p.b1)), p.w2), p.b2), y)
  const step = jit(valueAndGrad(loss))
  const ourCall = () =>
    inScope(() => {
      const [l, g] = step(params, x, y) as [Tensor, Params]
      return flat([l.dataSync(), g.w1.dataSync(), g.b1.dataSync(), g.w2.dataSync(), g.b2.dataSync()])
    })
  const rows = await interleaved(
    [
      [raw, () => calling(rawCall)],
      ['frugal jit(valueAndGrad)', () => calling(ourCall)],
    ],
    40,
    5,
  )
  printTable(`MLP ${IN}-${HIDDEN}-${OUT}, batch ${BATCH}: forward + backward, loss and grads read back, tfjs-${be}`, rows, { baseline: raw, ratio: 'time', columns: loadColumns(rows, raw), threads: '1', check: { reference: raw, tolerance: CHECK_TOL } })
  console.log(`frugal program: ${step.describe(params, x, y)}`)
  line(rows, raw, 'frugal jit(valueAndGrad)', 1.0, 'frugal jitted MLP step')
  tf.dispose([...tw, tx, ty])
  dispose([params, x, y])
}

// ---------------------------------------------------------------- main

const args = process.argv.slice(2)
const backends = args.filter((a): a is 'cpu' | 'wasm' => a === 'cpu' || a === 'wasm')
const tables = { matmul: matmulTable, adam: adamTable, mlp: mlpTable }
const picked = args.filter((a): a is keyof typeof tables => a in tables)
for (const be of backends.length ? backends : (['cpu', 'wasm'] as const)) {
  const tf = await useTfBackend(be)
  registerBackend(`tfjs-${be}`, () => tfjsBackend({ tf: tf as unknown as CoreTf, backend: be }))
  setBackend(`tfjs-${be}`)
  console.log(`\n==== tfjs-${be} (tfjs ${tf.version.tfjs}) ====`)
  for (const t of picked.length ? picked : (Object.keys(tables) as (keyof typeof tables)[])) await tables[t](tf, be)
}
