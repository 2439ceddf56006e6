import { expect, it } from 'vitest'
import type { Tensor } from '@frugal-ts/core'
import { Key, mean, square, sub, matmul } from '@frugal-ts/core'
import { valueAndGrad } from '@frugal-ts/autodiff'
import { applyUpdates, chain, clipByGlobalNorm, frugal } from '../src'

// an eager loop with chain(clipByGlobalNorm(1), frugal(...)), update called by hand (the README loop itself, with trainStep, runs in test-pack/test/readme-loops.test.ts)
it('the root README loop trains a linear model with FRUGAL', () => {
  const [k1, k2, k3] = Key.splitKeys(Key.key(1), 3)
  const wTrue = Key.normal(k1, [8, 4])
  const x = Key.normal(k2, [64, 8])
  const y = matmul(x, wTrue)
  type P = { layers: { mlp: { w1: Tensor } }[] }
  let params: P = { layers: [{ mlp: { w1: Key.normal(k3, [8, 4]) } }] }
  const lossFn = (p: P) => mean(square(sub(matmul(x, p.layers[0].mlp.w1), y)))
  const opt = chain(clipByGlobalNorm(1), frugal({ learningRate: 3e-2, density: 0.25, updateGap: 10 }))
  let state = opt.init(params)
  const first = lossFn(params).item()
  for (let i = 0; i < 150; i++) {
    const [, grads] = valueAndGrad(lossFn)(params)
    const { updates, state: next } = opt.update(grads, state, params)
    params = applyUpdates(params, updates)
    state = next
  }
  expect(lossFn(params).item()).toBeLessThan(first * 0.1)
})
