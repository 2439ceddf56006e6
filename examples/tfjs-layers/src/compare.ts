/**
 * The comparison: one tfjs-layers classifier (bag of words → Dense 32 relu →
 * Dense 32 relu → Dense 2 softmax), the same initial weights and batches,
 * trained with `model.fit` under each optimizer; test accuracy, optimizer-state
 * bytes and the median ms per `fit` batch, side by side. Runs on whichever
 * tfjs backend is active (cpu or wasm in Node, webgl in the browser).
 */
import * as tf from '@tensorflow/tfjs-core'
import * as tfl from '@tensorflow/tfjs-layers'
import { TransformationOptimizer, adam, frugal } from '@frugal-ts/tfjs-optimizers'
import type { Dataset } from './data'

/** The optimizers compared. */
export const contenders = {
  /** tfjs's own Adam */
  'tf.train.adam': (lr: number): tf.Optimizer => tf.train.adam(lr, 0.9, 0.999, 1e-7),
  /** frugal-ts's Adam through the adapter (the same math) */
  adam: (lr: number): tf.Optimizer => adam({ learningRate: lr, b1: 0.9, b2: 0.999, eps: 1e-7 }),
  /** FRUGAL: Adam on a quarter of each hidden kernel's columns, signSGD on the rest; biases and the output layer with Adam */
  frugal: (lr: number): tf.Optimizer => frugal({ learningRate: lr, eps: 1e-7, density: 0.25, projector: 'columns', updateGap: 50, stateFreeScale: 0.1 }),
} as const

/** A contender's name. */
export type Contender = keyof typeof contenders

/** One row of the comparison. */
export interface Result {
  readonly optimizer: Contender
  readonly backend: string
  /** test accuracy after training, in [0, 1] */
  readonly accuracy: number
  readonly firstLoss: number
  readonly lastLoss: number
  /** bytes of the optimizer's state (tf.train.adam: its moment variables) */
  readonly stateBytes: number
  /** median wall time of one fit batch */
  readonly msPerBatch: number
  readonly batches: number
}

/** Options of `compare`. */
export interface CompareOptions {
  readonly optimizers?: readonly Contender[]
  readonly epochs?: number
  readonly batchSize?: number
  readonly learningRate?: number
  readonly hidden?: number
  readonly seed?: number
  /** called after each optimizer's run */
  readonly onResult?: (r: Result) => void
}

const uniform = (n: number, limit: number, seed: number): Float32Array => {
  let s = seed >>> 0
  return Float32Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0
    return (s / 4294967296) * 2 * limit - limit
  })
}

/** The classifier, its weights set from `seed` (Glorot-uniform kernels, zero biases): the same start for every optimizer. */
export const classifier = (features: number, hidden: number, seed: number): tfl.Sequential => {
  const model = tfl.sequential({
    layers: [
      tfl.layers.dense({ inputShape: [features], units: hidden, activation: 'relu' }),
      tfl.layers.dense({ units: hidden, activation: 'relu' }),
      tfl.layers.dense({ units: 2, activation: 'softmax' }),
    ],
  })
  model.setWeights(
    model.getWeights().map((w, i) =>
      w.rank === 2 ? tf.tensor(uniform(w.size, Math.sqrt(6 / (w.shape[0]! + w.shape[1]!)), seed * 31 + i), w.shape) : tf.zeros(w.shape),
    ),
  )
  return model
}

/** The bytes of an optimizer's state: ours counts itself; tfjs's is its weights but the step count. */
export const optimizerStateBytes = async (opt: tf.Optimizer): Promise<number> => {
  if (opt instanceof TransformationOptimizer) return opt.stateBytes()
  const ws = await opt.getWeights()
  return ws.filter((w) => w.name !== 'iter').reduce((s, w) => s + w.tensor.size * 4, 0)
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b)
  return s.length === 0 ? NaN : s[Math.floor(s.length / 2)]
}

/** Trains the classifier with each optimizer in turn; returns a row per optimizer. */
export const compare = async (data: Dataset, o: CompareOptions = {}): Promise<Result[]> => {
  const { optimizers = ['tf.train.adam', 'frugal'], epochs = 8, batchSize = 32, learningRate = 2e-3, hidden = 32, seed = 1 } = o
  const x = tf.tensor2d(data.train.x, [data.train.rows, data.features])
  const y = tf.oneHot(tf.tensor1d(data.train.labels, 'int32'), 2)
  const xt = tf.tensor2d(data.test.x, [data.test.rows, data.features])
  const out: Result[] = []
  for (const name of optimizers) {
    const model = classifier(data.features, hidden, seed)
    const opt = contenders[name](learningRate)
    model.compile({ optimizer: opt, loss: 'categoricalCrossentropy' })
    const times: number[] = []
    let t0 = 0
    const h = await model.fit(x, y, {
      epochs,
      batchSize,
      shuffle: false,
      verbose: 0,
      callbacks: {
        onBatchBegin: async () => void (t0 = performance.now()),
        onBatchEnd: async () => void times.push(performance.now() - t0),
      },
    })
    const predicted = tf.tidy(() => tf.argMax(model.predict(xt) as tf.Tensor, 1))
    const p = (await predicted.data()) as Int32Array
    predicted.dispose()
    const correct = p.reduce((s, v, i) => s + (v === data.test.labels[i] ? 1 : 0), 0)
    const losses = h.history.loss as number[]
    const r: Result = {
      optimizer: name,
      backend: tf.getBackend(),
      accuracy: correct / data.test.rows,
      firstLoss: losses[0],
      lastLoss: losses[losses.length - 1],
      stateBytes: await optimizerStateBytes(opt),
      // the first epoch's batches include kernel set-up (webgl shader compiles): leave them out (half the batches when there is one epoch)
      msPerBatch: median(times.slice(Math.min(Math.ceil(times.length / epochs), Math.floor(times.length / 2)))),
      batches: times.length,
    }
    out.push(r)
    o.onResult?.(r)
    opt.dispose()
    model.dispose()
  }
  tf.dispose([x, y, xt])
  return out
}

/** The comparison as a Markdown table, with each row's ratios to the first. */
export const table = (rows: readonly Result[]): string => {
  const base = rows[0]
  const lines = rows.map((r) =>
    `| ${r.optimizer} | ${r.backend} | ${(100 * r.accuracy).toFixed(1)} % | ${r.firstLoss.toFixed(3)} → ${r.lastLoss.toFixed(3)} | ${r.stateBytes.toLocaleString('en-US')} (${(r.stateBytes / base.stateBytes).toFixed(3)}×) | ${r.msPerBatch.toFixed(2)} (${(r.msPerBatch / base.msPerBatch).toFixed(2)}×) |`,
  )
  return ['| optimizer | tfjs backend | test accuracy | loss (epoch 1 → last) | state bytes | ms per fit batch (median) |', '| --- | --- | --- | --- | --- | --- |', ...lines].join('\n')
}
