/**
 * The tf.Optimizer surface: minimize, both forms of applyGradients, the
 * default projectable rule on tfjs names and its override, config round
 * trips through tfjs serialization, registration only when asked, and the
 * errors (nothing changed after one).
 */
import '@tensorflow/tfjs-backend-cpu'
import * as tf from '@tensorflow/tfjs-core'
import { Tree, mul } from '@frugal-ts/core'
import type { Tensor } from '@frugal-ts/core'
import { chain, clipByGlobalNorm, isProjected, sgd } from '@frugal-ts/frugal'
import type { GradientTransformation, Params } from '@frugal-ts/frugal'
import { beforeAll, describe, expect, it } from 'vitest'
import {
  TfjsOptimizersError, TransformationOptimizer, adam, defaultVariableRule, fromRecipe, fromTransformation, frugal, registerRecipe, signSgd, signum,
} from '../src/index'
import { mlp } from './models'

beforeAll(async () => {
  await tf.setBackend('cpu')
})

describe('registration', () => {
  it('importing the package registers nothing with tfjs serialization; a factory does', () => {
    const map = tf.serialization.SerializationMap.getMap().classNameMap
    expect(map.FrugalTsOptimizer).toBeUndefined()
    signSgd({ learningRate: 0.1 })
    expect(map.FrugalTsOptimizer?.[0]).toBe(TransformationOptimizer)
  })
})

describe('minimize and applyGradients', () => {
  it('minimize drives a quadratic to its minimum with signum, like tfjs optimizers do', () => {
    const w = tf.variable(tf.tensor1d([3, -2]), true, 'minimize/w')
    const opt = signum({ learningRate: 0.05, momentum: 0.5 })
    const target = tf.tensor1d([1, 1])
    let last = Infinity
    for (let i = 0; i < 200; i++) {
      const cost = opt.minimize(() => tf.sum(tf.square(tf.sub(w, target))) as tf.Scalar, true)!
      last = cost.dataSync()[0]
      cost.dispose()
    }
    expect(last).toBeLessThan(0.02)
    expect(opt.iterations).toBe(200)
    opt.dispose()
    tf.dispose([w, target])
  })

  it('the named-map and the array forms give the same steps, and a missing gradient counts as zeros', () => {
    const make = (p: string) => [tf.variable(tf.tensor2d([[1, 2], [3, 4]]), true, `${p}/a`), tf.variable(tf.tensor1d([5, 6]), true, `${p}/b`)]
    const [a1, b1] = make('forms1')
    const [a2, b2] = make('forms2')
    const [a3, b3] = make('forms3')
    const [o1, o2, o3] = [adam({ learningRate: 0.1 }), adam({ learningRate: 0.1 }), adam({ learningRate: 0.1 })]
    const ga = tf.tensor2d([[0.5, -1], [2, 0]])
    const gb = tf.tensor1d([1, -1])
    o1.applyGradients({ 'forms1/a': ga, 'forms1/b': gb })
    o2.applyGradients([{ name: 'forms2/b', tensor: gb }, { name: 'forms2/a', tensor: ga }])
    o3.applyGradients([{ name: 'forms3/a', tensor: ga }, { name: 'forms3/b', tensor: tf.zerosLike(gb) }])
    expect(a1.arraySync()).toEqual(a2.arraySync())
    expect(b1.arraySync()).toEqual(b2.arraySync())
    // Adam's first step is lr·sign(g) where g ≠ 0
    ;(a1.arraySync() as number[][]).flat().forEach((v, i) => expect(v).toBeCloseTo([0.9, 2.1, 2.9, 4][i], 5))
    const o4 = adam({ learningRate: 0.1 })
    const [a4, b4] = make('forms4')
    o4.applyGradients({ 'forms4/a': ga, 'forms4/b': null as unknown as tf.Tensor })
    expect(a4.arraySync()).toEqual(a3.arraySync())
    expect(b4.arraySync()).toEqual(b3.arraySync())
    expect(b4.arraySync()).toEqual([5, 6])
    for (const o of [o1, o2, o3, o4]) o.dispose()
    tf.dispose([a1, b1, a2, b2, a3, b3, a4, b4, ga, gb])
  })

  it('bad gradients are refused naming the variable, and nothing moves', () => {
    const v = tf.variable(tf.tensor1d([1, 2, 3]), true, 'errors/v')
    const u = tf.variable(tf.tensor1d([1]), true, 'errors/u')
    const opt = adam({ learningRate: 0.1 })
    expect(() => opt.applyGradients({ 'errors/nope': tf.zeros([3]) })).toThrow("there is no tfjs variable named 'errors/nope'")
    expect(() => opt.applyGradients({ 'errors/v': tf.zeros([2]) })).toThrow("the gradient of 'errors/v' has shape [2], the variable [3]")
    expect(() => opt.applyGradients([{ name: 'errors/v', tensor: tf.ones([3]) }, { name: 'errors/v', tensor: tf.ones([3]) }])).toThrow("'errors/v' is given twice")
    expect(v.arraySync()).toEqual([1, 2, 3])
    opt.applyGradients({ 'errors/v': tf.ones([3]), 'errors/u': tf.ones([1]) })
    const after = v.arraySync()
    expect(() => opt.applyGradients({ 'errors/v': tf.ones([3]) })).toThrow(/no gradients for errors\/u; every step must cover the same variables/)
    expect(v.arraySync()).toEqual(after)
    expect(opt.iterations).toBe(1)
    opt.dispose()
    tf.dispose([v, u])
  })
})

describe('which variables FRUGAL splits', () => {
  it('by default: the 2-D Dense kernels but the output layer; biases stay with Adam', () => {
    const rule = defaultVariableRule([
      { name: 'embedding_Embedding1/embeddings', rank: 2 },
      { name: 'dense_Dense1/kernel', rank: 2 },
      { name: 'dense_Dense1/bias', rank: 1 },
      { name: 'layer_normalization_LayerNormalization1/gamma', rank: 1 },
      { name: 'dense_Dense2/kernel_1', rank: 2 },
      { name: 'dense_Dense3/kernel', rank: 2 },
    ])
    expect(rule('dense_Dense1/kernel', 2)).toBe(true)
    expect(rule('dense_Dense2/kernel_1', 2)).toBe(true)
    expect(rule('dense_Dense3/kernel', 2)).toBe(false) // the output layer
    expect(rule('embedding_Embedding1/embeddings', 2)).toBe(false)
    expect(rule('dense_Dense1/bias', 1)).toBe(false)
    expect(rule('layer_normalization_LayerNormalization1/gamma', 1)).toBe(false)
  })

  it('in a model: the state of the two hidden kernels is projected, the output layer and biases are not; a rule overrides it', async () => {
    const projectedOf = async (make: (layers: string[]) => TransformationOptimizer) => {
      const model = mlp({ inputs: 6, hidden: 8, classes: 3, seed: 1 })
      const opt = make(model.layers.map((l) => l.name))
      model.compile({ optimizer: opt, loss: 'categoricalCrossentropy' })
      await model.trainOnBatch(tf.ones([2, 6]), tf.oneHot(tf.tensor1d([0, 1], 'int32'), 3))
      const leaves = (opt.state as { leaves: Record<string, unknown> }).leaves
      const names = model.getWeights().map((w) => (w as tf.Variable).name)
      const out = names.filter((n) => isProjected(leaves[n] as never)).map((n) => names.indexOf(n))
      model.dispose()
      opt.dispose()
      return out
    }
    expect(await projectedOf(() => frugal({ learningRate: 0.01 }))).toEqual([0, 2])
    // a layer name selects its kernel and bias; a predicate sees names and values
    expect(await projectedOf((layers) => frugal({ learningRate: 0.01, projectable: [layers[1]] }))).toEqual([2, 3])
    expect(await projectedOf((layers) => frugal({ learningRate: 0.01, projectable: (name, w) => w.rank === 2 && name.startsWith(`${layers[2]}/`) }))).toEqual([4])
    expect(await projectedOf(() => frugal({ learningRate: 0.01, projectable: [/kernel/] }))).toEqual([0, 2, 4])
  })
})

describe('config', () => {
  it('getConfig → fromConfig through tfjs serialization rebuilds the recipe, RegExps and underscores intact', () => {
    const opt = frugal({ learningRate: 0.002, density: 0.5, projector: 'svd', svdSide: 'reverse_std', projectable: [/dense_Dense\d+\/kernel/i, 'dense_Dense7'] })
    const config = opt.getConfig()
    expect(JSON.stringify(config)).not.toContain('_')
    const back = tf.serialization.SerializationMap.getMap().classNameMap.FrugalTsOptimizer[1](TransformationOptimizer, config) as TransformationOptimizer
    expect(back.recipe).toEqual(opt.recipe)
  })

  it('user recipes (a chain) save by config; options that are functions, and unknown recipes, are refused', () => {
    registerRecipe('clipped-sgd', (o) => chain(clipByGlobalNorm(1), sgd(o as { learningRate: number })))
    const opt = fromRecipe('clipped-sgd', { learningRate: 0.1 })
    expect(TransformationOptimizer.fromConfig(TransformationOptimizer, opt.getConfig())).toBeInstanceOf(TransformationOptimizer)
    expect(() => fromTransformation(sgd(0.1)).getConfig()).toThrow(/without a recipe/)
    expect(() => adam({ learningRate: (n) => n }).getConfig()).toThrow("option options.learningRate is a function")
    expect(() => TransformationOptimizer.fromConfig(TransformationOptimizer, { recipe: 'nope', options: '{}' })).toThrow(/unknown optimizer recipe 'nope' \(registered: adam, adamw, badam, clipped-sgd/)
    expect(() => registerRecipe('has_underscore', () => sgd(1))).toThrow(TfjsOptimizersError)
    expect(() => frugal({ learningRate: 0.1, density: 1.5 })).toThrow(/density/)
  })
})

describe('a state that holds the parameters themselves', () => {
  it('keeps copies, not the live variables: an average of the weights initialised from them', () => {
    const w = tf.variable(tf.tensor1d([1, 2]), true, 'views/w')
    // a transformation whose state is the previous parameters (init: the parameters themselves)
    const remember: GradientTransformation<Params> = {
      init: (p) => p,
      update: (g, _s, p) => ({ updates: Tree.map(g, (x: Tensor) => mul(x, -1)) as Params, state: p! }),
    }
    const opt = fromTransformation(remember)
    opt.applyGradients({ 'views/w': tf.tensor1d([0.5, 0.5]) })
    expect(w.arraySync()).toEqual([0.5, 1.5])
    // the state holds the weights before the step, not the variable that moved on
    expect(((opt.state as Record<string, Tensor>)['views/w']).toArray()).toEqual([1, 2])
    opt.applyGradients({ 'views/w': tf.tensor1d([0.5, 0.5]) })
    expect(((opt.state as Record<string, Tensor>)['views/w']).toArray()).toEqual([0.5, 1.5])
    opt.dispose()
    w.dispose()
  })
})
