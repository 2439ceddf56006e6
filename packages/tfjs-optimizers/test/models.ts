/**
 * Test helper: small tfjs-layers models with fixed initial weights, and
 * host copies of variables.
 */
import '@tensorflow/tfjs-backend-cpu'
import * as tf from '@tensorflow/tfjs-core'
import * as tfl from '@tensorflow/tfjs-layers'

/** A deterministic pseudo-random Float32Array (a sine hash). */
export const noise = (n: number, seed: number, scale = 1): Float32Array =>
  Float32Array.from({ length: n }, (_, i) => scale * (((Math.sin((i + 1) * 12.9898 + seed * 78.233) * 43758.5453) % 1) * 2 - 1))

/**
 * An MLP `inputs → hidden (relu) → hidden (tanh) → classes (softmax)` whose
 * weights are set from `seed` (so two copies start identical).
 */
export const mlp = (o: { inputs: number; hidden: number; classes: number; seed: number }): tfl.Sequential => {
  const model = tfl.sequential({
    layers: [
      tfl.layers.dense({ inputShape: [o.inputs], units: o.hidden, activation: 'relu' }),
      tfl.layers.dense({ units: o.hidden, activation: 'tanh' }),
      tfl.layers.dense({ units: o.classes, activation: 'softmax' }),
    ],
  })
  const ws = model.getWeights()
  model.setWeights(ws.map((w, i) => tf.tensor(noise(w.size, o.seed + i, 1 / Math.sqrt(w.shape[0])), w.shape)))

  return model
}

/** A fixed classification batch stream: batch `k` of `n` rows. */
export const batch = (o: { inputs: number; classes: number }, n: number, k: number): { x: tf.Tensor2D; y: tf.Tensor2D } => {
  const x = noise(n * o.inputs, 1000 + k)
  const labels = Int32Array.from({ length: n }, (_, r) => {
    let s = 0
    for (let j = 0; j < o.inputs; j++) s += x[r * o.inputs + j] * (j % o.classes === 0 ? 1 : -0.5)
    return Math.abs(Math.floor(s * 3)) % o.classes
  })
  return { x: tf.tensor2d(x, [n, o.inputs]), y: tf.tidy(() => tf.cast(tf.oneHot(tf.tensor1d(labels, 'int32'), o.classes), 'float32')) as tf.Tensor2D }
}

/** Host copies of a model's weights. */
export const weightsOf = (model: tfl.LayersModel): Float32Array[] => model.getWeights().map((w) => Float32Array.from(w.dataSync() as Float32Array))

/** The largest |a − b| over two lists of arrays. */
export const maxDiff = (a: readonly Float32Array[], b: readonly Float32Array[]): number => {
  let m = 0
  a.forEach((x, i) => x.forEach((v, j) => (m = Math.max(m, Math.abs(v - b[i][j])))))
  return m
}
