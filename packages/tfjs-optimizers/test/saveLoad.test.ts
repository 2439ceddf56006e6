/**
 * `model.save(…, { includeOptimizer: true })` → `tf.loadLayersModel` → go on
 * training gives bit for bit the steps of a run that never stopped (tfjs-cpu),
 * for FRUGAL (blocks, whose state changes structure at each refresh; columns),
 * GaLore (svd, with an underscore option that tfjs-layers would rewrite),
 * AdamW and Lion; and the weights hold the subspaces.
 */
import * as tf from '@tensorflow/tfjs-core'
import * as tfl from '@tensorflow/tfjs-layers'
import { beforeAll, describe, expect, it } from 'vitest'
import { TfjsOptimizersError, TransformationOptimizer, adamw, frugal, galore, lion, registerOptimizers } from '../src/index'
import { batch, mlp, weightsOf } from './models'

const shape = { inputs: 10, hidden: 12, classes: 3 }

/** Saves to memory; returns the artifacts. */
const save = async (model: tfl.LayersModel): Promise<tf.io.ModelArtifacts> => {
  let saved: tf.io.ModelArtifacts | null = null
  await model.save(
    tf.io.withSaveHandler(async (a) => {
      saved = a
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } }
    }),
    { includeOptimizer: true },
  )
  return saved!
}

const steps = async (model: tfl.LayersModel, from: number, n: number) => {
  const out: Float32Array[][] = []
  for (let k = from; k < from + n; k++) {
    const { x, y } = batch(shape, 16, k)
    await model.trainOnBatch(x, y)
    tf.dispose([x, y])
    out.push(weightsOf(model))
  }
  return out
}

const bitsEqual = (a: Float32Array[][], b: Float32Array[][]) =>
  a.every((ws, k) => ws.every((w, i) => w.length === b[k][i].length && w.every((v, j) => Object.is(v, b[k][i][j]))))

const cases: [string, () => TransformationOptimizer][] = [
  ['frugal, blocks (random order, gap 3)', () => frugal({ learningRate: 0.01, density: 0.5, updateGap: 3, seed: 5 })],
  ['frugal, columns (gap 4)', () => frugal({ learningRate: 0.01, density: 0.25, updateGap: 4, projector: 'columns' })],
  ['galore, svd reverse_std (gap 3)', () => galore({ learningRate: 0.01, density: 0.25, updateGap: 3, svdSide: 'reverse_std' })],
  ['adamw', () => adamw({ learningRate: 0.01, weightDecay: 0.1 })],
  ['lion', () => lion({ learningRate: 0.001 })],
]

describe('save with includeOptimizer, load, go on: the same bits as never stopping (tfjs-cpu)', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu')
  })

  for (const [name, make] of cases)
    it(name, async () => {
      const model = mlp({ ...shape, seed: 11 })
      const opt = make()
      model.compile({ optimizer: opt, loss: 'categoricalCrossentropy' })
      await steps(model, 0, 7)
      const artifacts = await save(model)
      const straight = await steps(model, 7, 6)

      registerOptimizers()
      const loaded = await tfl.loadLayersModel(tf.io.fromMemory(artifacts))
      expect(loaded.optimizer).toBeInstanceOf(TransformationOptimizer)
      const restored = loaded.optimizer as TransformationOptimizer
      expect(restored.recipe?.name).toBe(opt.recipe?.name)
      expect(restored.recipe?.options).toEqual(opt.recipe?.options)
      expect(restored.iterations).toBe(7)
      const resumed = await steps(loaded, 7, 6)
      expect(bitsEqual(resumed, straight)).toBe(true)
      model.dispose()
      loaded.dispose()
      opt.dispose()
      restored.dispose()
    })

  it('the saved weights hold the state: iter, the meta document and every state tensor (FRUGAL columns: the chosen columns too)', async () => {
    const model = mlp({ ...shape, seed: 2 })
    const opt = frugal({ learningRate: 0.01, density: 0.25, updateGap: 4, projector: 'columns' })
    model.compile({ optimizer: opt, loss: 'categoricalCrossentropy' })
    await steps(model, 0, 2)
    const ws = await opt.getWeights()
    expect(ws[0].name).toBe('iter')
    expect(ws[1].name).toBe('frugal-ts/meta')
    const meta = JSON.parse((await ws[1].tensor.data())[0] as unknown as string)
    expect(meta.keys).toEqual(opt.names)
    // the state's bytes are exactly those of its tensors among the weights
    const bytes = ws.slice(2).reduce((s, w) => s + w.tensor.size * 4, 0)
    expect(bytes).toBe(opt.stateBytes())
    expect(ws.some((w) => w.tensor.dtype === 'int32' && /kernel/.test(w.name))).toBe(true)
    model.dispose()
    opt.dispose()
  })

  it('bad weights are refused with what was wrong, and the state is untouched', async () => {
    const model = mlp({ ...shape, seed: 4 })
    const opt = adamw({ learningRate: 0.01 })
    model.compile({ optimizer: opt, loss: 'categoricalCrossentropy' })
    await steps(model, 0, 2)
    const ws = await opt.getWeights()
    const before = opt.stateBytes()
    await expect(opt.setWeights([])).rejects.toThrow(TfjsOptimizersError)
    await expect(opt.setWeights(ws.filter((w) => w.name !== ws[3].name))).rejects.toThrow(`lack the state tensor '${ws[3].name}'`)
    const wrong = ws.map((w, i) => (i === 3 ? { name: w.name, tensor: tf.zeros([2, 2]) } : w))
    await expect(opt.setWeights(wrong)).rejects.toThrow(/is float32\[2, 2\], expected float32\[/)
    await expect(opt.setWeights([ws[0], { name: 'frugal-ts/meta', tensor: tf.scalar('{"format":1}', 'string') }])).rejects.toThrow(/not a frugal-ts optimizer state/)
    expect(opt.stateBytes()).toBe(before)
    expect(opt.iterations).toBe(2)
    // a state restored into a model of another shape: the next step says which variable differs
    await opt.setWeights(ws)
    const other = mlp({ inputs: 9, hidden: 12, classes: 3, seed: 4 })
    other.compile({ optimizer: opt, loss: 'categoricalCrossentropy' })
    const x = tf.zeros([4, 9])
    const y = tf.oneHot(tf.tensor1d([0, 1, 2, 0], 'int32'), 3)
    await expect(other.trainOnBatch(x, y)).rejects.toThrow(/variable 0 \('dense_Dense\d+\/kernel'\) has shape \[9, 12\], the restored state's variable 0 \('dense_Dense\d+\/kernel'\) had \[10, 12\]/)
    tf.dispose([x, y])
    model.dispose()
    other.dispose()
    opt.dispose()
  })
})
