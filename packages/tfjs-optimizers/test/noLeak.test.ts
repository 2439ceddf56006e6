/**
 * No leak: over 1,000 `model.fit` batches with FRUGAL refreshing its
 * subspaces every 10 steps, `tf.memory()`'s tensor count and bytes stay flat
 * (read after each epoch of 100 batches, from the second epoch on).
 */
import * as tf from '@tensorflow/tfjs-core'
import { beforeAll, describe, expect, it } from 'vitest'
import { frugal } from '../src/index'
import type { TransformationOptimizer } from '../src/index'
import { batch, mlp } from './models'

const shape = { inputs: 16, hidden: 24, classes: 4 }

const memoryOver1000Batches = async (opt: TransformationOptimizer) => {
  const model = mlp({ ...shape, seed: 1 })
  model.compile({ optimizer: opt, loss: 'categoricalCrossentropy' })
  const { x, y } = batch(shape, 800, 0) // 100 batches of 8 per epoch
  const readings: { tensors: number; bytes: number; state: number }[] = []
  await model.fit(x, y, {
    batchSize: 8,
    epochs: 10,
    shuffle: false,
    verbose: 0,
    callbacks: { onEpochEnd: async () => void readings.push({ tensors: tf.memory().numTensors, bytes: tf.memory().numBytes, state: opt.stateBytes() }) },
  })
  const iterations = opt.iterations
  tf.dispose([x, y])
  model.dispose()
  opt.dispose()
  return { readings, iterations }
}

describe('no leak over 1,000 fit batches with FRUGAL refreshing every 10 steps', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu')
  })

  it('columns projector: tensors and bytes exactly flat', async () => {
    const { readings, iterations } = await memoryOver1000Batches(frugal({ learningRate: 0.01, density: 0.25, updateGap: 10, projector: 'columns' }))
    console.info(`frugal columns, 1000 batches: tf.memory after each epoch ${readings.map((r) => `${r.tensors}/${r.bytes}`).join(' ')}`)
    expect(iterations).toBe(1000)
    for (const r of readings.slice(1)) expect({ tensors: r.tensors, bytes: r.bytes }).toEqual({ tensors: readings[1].tensors, bytes: readings[1].bytes })
  })

  it('blocks projector (the active blocks move at every refresh): tensors flat, bytes flat but for the optimizer state itself (whose bytes follow the active block)', async () => {
    const { readings } = await memoryOver1000Batches(frugal({ learningRate: 0.01, density: 0.5, updateGap: 10 }))
    console.info(`frugal blocks, 1000 batches: tf.memory after each epoch ${readings.map((r) => `${r.tensors}/${r.bytes} (state ${r.state})`).join(' ')}`)
    for (const r of readings.slice(1)) expect(r.bytes - r.state).toBe(readings[1].bytes - readings[1].state)
    const counts = new Set(readings.slice(1).map((r) => r.tensors))
    expect(counts.size).toBe(1)
  })
})
