/**
 * Plain Adam against TensorFlow.js's own `tf.train.adam` (tfjs-core on its cpu
 * backend). Both use the same form: m̂ = m/(1−β₁ᵗ), v̂ = v/(1−β₂ᵗ),
 * θ ← θ − lr·m̂/(√v̂ + ε), with ε added to √v̂ (not inside the root), so they
 * agree to float32 round-off. Two differences are configured away or tiny:
 * tf.train.adam's default ε is the backend's epsilon (1e-7 on cpu), so it is
 * passed explicitly; tfjs accumulates βᵗ by repeated float32 multiplication
 * where `scaleByAdam` computes `pow(β, t)`, a few ulps apart.
 */
import * as tf from '@tensorflow/tfjs-core'
import '@tensorflow/tfjs-backend-cpu'
import { beforeAll, describe, expect, it } from 'vitest'
import type { Tensor } from '@frugal-ts/core'
import { Tree, fromArray } from '@frugal-ts/core'
import { jit } from '@frugal-ts/autodiff'
import type { Params } from '../src/GradientTransformation'
import { applyUpdates } from '../src/GradientTransformation'
import { adam } from '../src/aliases'

/** A seeded stream of floats in [−scale, scale) (mulberry32). */
const random = (seed: number) => () => {
  seed = (seed + 0x6d2b79f5) | 0
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296
}
const shapes: Record<string, number[]> = { w: [4, 3], b: [3], emb: [5, 2] }
const draw = (next: () => number, scale: number): Record<string, Float32Array> =>
  Object.fromEntries(Object.entries(shapes).map(([k, s]) => [k, Float32Array.from({ length: s.reduce((a, b) => a * b, 1) }, () => (2 * next() - 1) * scale)]))

const tol = { rtol: 1e-5, atol: 1e-7 }
const expectClose = (actual: Float32Array | Int32Array | Uint8Array, expected: Float32Array | Int32Array | Uint8Array, what: string) =>
  actual.forEach((a, i) =>
    expect(Math.abs(a - expected[i]), `${what}[${i}]: ${a} vs ${expected[i]}`).toBeLessThanOrEqual(tol.atol + tol.rtol * Math.abs(expected[i])),
  )

beforeAll(async () => {
  await tf.setBackend('cpu')
  await tf.ready()
})

describe('adam agrees with tf.train.adam', () => {
  const configs = [
    { name: 'defaults (ε = 1e-8 on both sides)', lr: 1e-2, b1: 0.9, b2: 0.999, eps: 1e-8, gradScale: 1 },
    { name: 'b1 = 0.8, b2 = 0.99, ε = 1e-6, small gradients', lr: 3e-3, b1: 0.8, b2: 0.99, eps: 1e-6, gradScale: 1e-3 },
  ]
  for (const c of configs)
    it(`over 20 steps on random gradients: ${c.name}`, () => {
      const next = random(20241107)
      const init = draw(next, 1)
      const grads = Array.from({ length: 20 }, () => draw(next, c.gradScale))

      const vars = Object.fromEntries(Object.entries(init).map(([k, v]) => [k, tf.variable(tf.tensor(v, shapes[k]), true, `tfjs-${c.name}-${k}`)]))
      const tfOpt = tf.train.adam(c.lr, c.b1, c.b2, c.eps)

      const opt = adam(c.lr, { b1: c.b1, b2: c.b2, eps: c.eps })
      const step = jit((p: Params, g: Params, s: ReturnType<typeof opt.init>) => {
        const r = opt.update(g, s, p)
        return { p: applyUpdates(p, r.updates), s: r.state }
      })
      const toTree = (x: Record<string, Float32Array>): Params => Object.fromEntries(Object.entries(x).map(([k, v]) => [k, fromArray(v, shapes[k])]))
      let p = toTree(init)
      let s = opt.init(p)
      let pj = p
      let sj = s

      for (const [t, g] of grads.entries()) {
        tf.tidy(() => tfOpt.applyGradients(Object.entries(g).map(([k, v]) => ({ name: vars[k].name, tensor: tf.tensor(v, shapes[k]) }))))
        const r = opt.update(toTree(g), s, p)
        ;[p, s] = [applyUpdates(p, r.updates), r.state]
        ;({ p: pj, s: sj } = step(pj, toTree(g), sj))
        for (const k of Object.keys(shapes)) {
          const expected = vars[k].dataSync()
          expectClose((Tree.leaves((p as Record<string, Tensor>)[k])[0] as Tensor).dataSync(), expected, `eager step ${t + 1} ${k}`)
          expectClose(((pj as Record<string, Tensor>)[k]).dataSync(), expected, `jit step ${t + 1} ${k}`)
        }
      }
      // the parameters really moved: the comparison is not between two copies of the start
      expect(Math.abs((p as Record<string, Tensor>).b.dataSync()[0] - init.b[0])).toBeGreaterThan(c.lr)
      tfOpt.dispose()
      Object.values(vars).forEach((v) => v.dispose())
    })
})
