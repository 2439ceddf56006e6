/**
 * ms per `model.fit` batch of one tfjs-layers model under `tf.train.adam`,
 * our `adam` through the `tf.Optimizer` adapter (`@frugal-ts/tfjs-optimizers`)
 * and our `frugal` (columns, ρ = 0.25, T = 50), on tfjs-cpu and tfjs-wasm.
 *
 * The model is the example's (examples/tfjs-layers): 1024 bag-of-words
 * features → Dense 32 relu → Dense 32 relu → Dense 2 softmax, batch 32, on
 * fixed random 0/1 features (the time does not depend on the data). Every
 * contender starts from the same weights. The contenders are interleaved:
 * each round fits one epoch of 20 batches with each of them in turn, so load
 * on a shared machine hits them alike; the table holds the median over all
 * timed batches (the first round is warm-up) of the wall time between
 * `onBatchBegin` and `onBatchEnd`, and of the process CPU time over the same
 * span (steadier when other processes compete for the cores). Both tfjs
 * backends run on one thread here (tfjs-cpu is single-threaded; Node 20 has
 * no global Worker, so tfjs-wasm runs its single-threaded SIMD build).
 *
 * Run: pnpm --filter @frugal-ts/bench run tfjs-fit   (BENCH_ROUNDS=n, default 12)
 */
import { createRequire } from 'node:module'
import { cpus, loadavg } from 'node:os'
import { dirname } from 'node:path'
import * as tf from '@tensorflow/tfjs'
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm'
import { adam, frugal } from '@frugal-ts/tfjs-optimizers'

const [FEATURES, HIDDEN, BATCH, BATCHES] = [1024, 32, 32, 20]
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 12)
const LR = 2e-3

const contenders: Record<string, () => tf.Optimizer> = {
  'tf.train.adam': () => tf.train.adam(LR, 0.9, 0.999, 1e-7),
  'ours adam': () => adam({ learningRate: LR, b1: 0.9, b2: 0.999, eps: 1e-7 }),
  'ours frugal': () => frugal({ learningRate: LR, eps: 1e-7, density: 0.25, projector: 'columns', updateGap: 50, stateFreeScale: 0.1 }),
}

const seeded = (n: number, seed: number, f: (u: number) => number) => {
  let s = seed >>> 0
  return Float32Array.from({ length: n }, () => f(((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296)))
}

const model = () => {
  const m = tf.sequential({
    layers: [
      tf.layers.dense({ inputShape: [FEATURES], units: HIDDEN, activation: 'relu' }),
      tf.layers.dense({ units: HIDDEN, activation: 'relu' }),
      tf.layers.dense({ units: 2, activation: 'softmax' }),
    ],
  })
  m.setWeights(m.getWeights().map((w, i) => tf.tensor(seeded(w.size, 7 + i, (u) => (u - 0.5) * 0.2), w.shape)))
  return m
}

const median = (xs: readonly number[]) => {
  const s = [...xs].sort((a, b) => a - b)
  const k = s.length >> 1
  return s.length % 2 ? s[k] : (s[k - 1] + s[k]) / 2
}

const bench = async (backend: 'cpu' | 'wasm') => {
  await tf.setBackend(backend)
  await tf.ready()
  const x = tf.tensor2d(seeded(BATCH * BATCHES * FEATURES, 1, (u) => (u < 0.02 ? 1 : 0)), [BATCH * BATCHES, FEATURES])
  const y = tf.oneHot(tf.tensor1d(Int32Array.from(seeded(BATCH * BATCHES, 2, (u) => (u < 0.5 ? 0 : 1))), 'int32'), 2)
  const runs = Object.entries(contenders).map(([name, make]) => {
    const m = model()
    m.compile({ optimizer: make(), loss: 'categoricalCrossentropy' })
    return { name, m, wall: [] as number[], cpu: [] as number[] }
  })
  for (let round = 0; round < ROUNDS; round++)
    for (const r of runs) {
      let t0 = 0
      let c0 = process.cpuUsage()
      await r.m.fit(x, y, {
        batchSize: BATCH,
        epochs: 1,
        shuffle: false,
        verbose: 0,
        callbacks: {
          onBatchBegin: async () => {
            t0 = performance.now()
            c0 = process.cpuUsage()
          },
          onBatchEnd: async () => {
            const dt = performance.now() - t0
            const c = process.cpuUsage(c0)
            if (round > 0) {
              r.wall.push(dt)
              r.cpu.push((c.user + c.system) / 1000)
            }
          },
        },
      })
    }
  tf.dispose([x, y])
  const base = runs[0]
  const [bw, bc] = [median(base.wall), median(base.cpu)]
  const rows = runs.map((r) => {
    const [w, c] = [median(r.wall), median(r.cpu)]
    return `| ${r.name} | tfjs-${backend} | 1 | ${w.toFixed(2)} | ${(w / bw).toFixed(2)}× | ${c.toFixed(2)} | ${(c / bc).toFixed(2)}× | ${r.wall.length} |`
  })
  for (const r of runs) {
    r.m.optimizer.dispose()
    r.m.dispose()
  }
  return { rows, ratios: Object.fromEntries(runs.map((r) => [r.name, { wall: median(r.wall) / bw, cpu: median(r.cpu) / bc }])) }
}

setWasmPaths(`${dirname(createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm'))}/`)
console.log(`tfjs-layers fit, ${FEATURES}→${HIDDEN}→${HIDDEN}→2, batch ${BATCH}: ${ROUNDS - 1} timed rounds × ${BATCHES} batches per contender, interleaved`)
console.log(`machine: ${cpus().length} cores (${cpus()[0]?.model ?? '?'}), load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}\n`)
console.log('| optimizer | backend | threads | ms per fit batch (median wall) | wall / tf.train.adam | ms CPU per batch (median) | CPU / tf.train.adam | batches |')
console.log('| --- | --- | --- | --- | --- | --- | --- | --- |')
const results = []
for (const backend of ['cpu', 'wasm'] as const) {
  const r = await bench(backend)
  results.push({ backend, ...r })
  for (const line of r.rows) console.log(line)
}
console.log(`\nload average at the end: ${loadavg().map((l) => l.toFixed(2)).join(' ')}`)
for (const r of results) {
  const a = r.ratios['ours adam']
  console.log(
    `target (tfjs-${r.backend}): our adam ≤ 1.1× tf.train.adam per fit batch: wall ${a.wall.toFixed(2)}×, CPU ${a.cpu.toFixed(2)}× — ${a.cpu <= 1.1 ? 'met' : 'NOT met'} (CPU time)`,
  )
}
