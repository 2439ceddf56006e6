/**
 * The example's claims, on tfjs-cpu: the classifier trained with `fit` under
 * FRUGAL (through the adapter) reaches within 2 points of `tf.train.adam`'s
 * test accuracy with at most half its optimizer state — exactly: Adam holds
 * 2 × 33,922 floats (271,376 B), FRUGAL the moments of 8 of the 32 columns of
 * each hidden kernel plus Adam on the output layer and biases (68,624 B of
 * moments, 64 B of column indices) and a few step counters and PRNG keys; and it
 * trains on tfjs-wasm too.
 */
import '@tensorflow/tfjs-backend-cpu'
import { createRequire } from 'node:module'
import { dirname } from 'node:path'
import * as tf from '@tensorflow/tfjs-core'
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm'
import { stateBytesEntries } from '@frugal-ts/frugal'
import type { TransformationOptimizer } from '@frugal-ts/tfjs-optimizers'
import { describe, expect, it } from 'vitest'
import { classifier, compare, contenders, table } from '../src/compare'
import { dataset } from '../src/data'
import { sentimentFiles } from '../src/node'

const data = dataset(sentimentFiles())
const params = 1024 * 32 + 32 + 32 * 32 + 32 + 32 * 2 + 2

describe('examples/tfjs-layers', () => {
  it('the data: 2,982 distinct labelled sentences, 80/20, both classes in each split', () => {
    expect(data.train.rows + data.test.rows).toBe(2982)
    expect(data.test.rows).toBe(597)
    for (const s of [data.train, data.test]) {
      const pos = s.labels.reduce((a, b) => a + b, 0)
      expect(pos / s.rows).toBeGreaterThan(0.4)
      expect(pos / s.rows).toBeLessThan(0.6)
    }
  })

  it("FRUGAL's state is the moments of a quarter of the hidden kernels' columns, exactly", async () => {
    await tf.setBackend('cpu')
    const model = classifier(data.features, 32, 1)
    const opt = contenders.frugal(2e-3) as TransformationOptimizer
    model.compile({ optimizer: opt, loss: 'categoricalCrossentropy' })
    await model.trainOnBatch(tf.tensor2d(data.train.x.subarray(0, 8 * 1024), [8, 1024]), tf.oneHot(tf.tensor1d(data.train.labels.subarray(0, 8), 'int32'), 2))
    const entries = stateBytesEntries(opt.state)
    const size = (e: (typeof entries)[number]) => e.shape.reduce((a, b) => a * b, 1)
    // moments: 2 × (1024·8 + 32·8) floats for the split kernels, 2 × 130 for the output kernel and the biases
    const moments = entries.filter((e) => e.dtype === 'float32')
    expect(moments.reduce((s, e) => s + e.bytes, 0)).toBe(2 * 4 * (1024 * 8 + 32 * 8 + 130))
    // the chosen columns: 8 int32 per split kernel
    const indices = entries.filter((e) => e.dtype !== 'float32' && size(e) > 2)
    expect(indices.map((e) => e.bytes)).toEqual([32, 32])
    // the rest: step counters and PRNG keys, at most 2 elements each
    const small = entries.filter((e) => !moments.includes(e) && !indices.includes(e))
    expect(small.every((e) => size(e) <= 2)).toBe(true)
    console.info(`FRUGAL state: ${opt.stateBytes()} B = ${2 * 4 * (1024 * 8 + 32 * 8 + 130)} B of moments + 64 B of column indices + ${small.length} counters and keys (${small.reduce((s, e) => s + e.bytes, 0)} B)`)
    expect(opt.stateBytes()).toBeLessThanOrEqual(0.5 * 2 * 4 * params)
    opt.dispose()
    model.dispose()
  })

  it('tfjs-cpu: FRUGAL within 2 points of tf.train.adam, with at most half its state', async () => {
    await tf.setBackend('cpu')
    const [theirs, ours] = await compare(data, { optimizers: ['tf.train.adam', 'frugal'], epochs: 6 })
    console.info(`\n${table([theirs, ours])}\n`)
    expect(theirs.stateBytes).toBe(2 * 4 * params)
    expect(ours.stateBytes).toBeLessThanOrEqual(0.5 * theirs.stateBytes)
    expect(ours.accuracy).toBeGreaterThanOrEqual(theirs.accuracy - 0.02)
    expect(theirs.accuracy).toBeGreaterThan(0.7)
    expect(ours.lastLoss).toBeLessThan(ours.firstLoss)
  }, 600_000)

  it('tfjs-wasm: FRUGAL trains (the loss falls, accuracy well above chance)', async () => {
    setWasmPaths(`${dirname(createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm'))}/`)
    await tf.setBackend('wasm')
    const [r] = await compare(data, { optimizers: ['frugal'], epochs: 2 })
    console.info(`tfjs-wasm: ${table([r])}`)
    expect(r.backend).toBe('wasm')
    expect(r.lastLoss).toBeLessThan(r.firstLoss)
    expect(r.accuracy).toBeGreaterThan(0.65)
    await tf.setBackend('cpu')
  }, 600_000)
})
