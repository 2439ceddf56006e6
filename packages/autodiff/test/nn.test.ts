import { describe, expect, it } from 'vitest'
import type { Tensor } from '@frugal-ts/core'
import { add, fromArray, mul, oneHot, slice, sub, sum, tensor } from '@frugal-ts/core'
import { grad, nn } from '../src'
import { randomTensor } from './fd'

const allNear = (a: ArrayLike<number>, b: ArrayLike<number>, tol = 1e-5) => {
  expect(a.length).toBe(b.length)
  for (let i = 0; i < a.length; i++) expect(Math.abs(a[i] - b[i])).toBeLessThanOrEqual(tol * (1 + Math.abs(b[i])))
}

describe('nn composites', () => {
  it('softmax rows sum to one and are stable for large logits', () => {
    const s = nn.softmax(tensor([[1000, 1000], [1, 2]]))
    allNear(s.dataSync(), [0.5, 0.5, 1 / (1 + Math.E), Math.E / (1 + Math.E)])
  })

  it('logSumExp matches log Σ exp', () => {
    const x = randomTensor([3, 5], 1, -3, 3)
    const d = x.dataSync()
    const want = [0, 1, 2].map((r) => Math.log([0, 1, 2, 3, 4].reduce((a, c) => a + Math.exp(d[r * 5 + c]), 0)))
    allNear(nn.logSumExp(x).dataSync(), want)
  })

  it('crossEntropy gradient is (softmax − onehot)/batch', () => {
    const logits = randomTensor([4, 6], 2, -2, 2)
    const labels = tensor([0, 5, 2, 2], 'int32')
    const g = grad((l: Tensor) => nn.crossEntropy(l, labels))(logits) as Tensor
    const want = mul(sub(nn.softmax(logits), oneHot(labels, 6)), 0.25)
    allNear(g.dataSync(), want.dataSync())
  })

  it('crossEntropy of uniform logits is log(classes)', () => {
    expect(nn.crossEntropy(tensor([[0, 0, 0, 0]]), tensor([3], 'int32')).item()).toBeCloseTo(Math.log(4), 6)
  })

  it('rmsNorm and layerNorm normalise the last axis', () => {
    const x = randomTensor([2, 8], 3, -2, 2)
    const r = Array.from(nn.rmsNorm(x, undefined, 0).dataSync())
    for (let i = 0; i < 2; i++) expect(r.slice(i * 8, i * 8 + 8).reduce((a, v) => a + v * v, 0) / 8).toBeCloseTo(1, 4)
    const l = Array.from(nn.layerNorm(x, undefined, undefined, 0).dataSync())
    for (let i = 0; i < 2; i++) {
      const row = l.slice(i * 8, i * 8 + 8)
      expect(row.reduce((a, v) => a + v, 0) / 8).toBeCloseTo(0, 5)
      expect(row.reduce((a, v) => a + v * v, 0) / 8).toBeCloseTo(1, 4)
    }
  })

  it('gelu, silu, relu at known points', () => {
    const x = tensor([-1, 0, 2])
    allNear(nn.relu(x).dataSync(), [0, 0, 2])
    allNear(nn.silu(x).dataSync(), [-1 / (1 + Math.E), 0, 2 / (1 + Math.exp(-2))])
    const g = (v: number) => 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v ** 3)))
    allNear(nn.gelu(x).dataSync(), [g(-1), 0, g(2)])
  })

  it('embedding gradient scatter-adds repeated ids', () => {
    const table = randomTensor([5, 3], 4)
    const ids = tensor([[1, 3], [1, 1]], 'int32')
    const g = grad((t: Tensor) => sum(nn.embedding(t, ids)))(table) as Tensor
    expect(g.toArray()).toEqual([[0, 0, 0], [3, 3, 3], [0, 0, 0], [1, 1, 1], [0, 0, 0]])
  })

  it('causal attention: earlier outputs do not depend on later inputs', () => {
    const d = 8
    const w = { wq: randomTensor([d, d], 1), wk: randomTensor([d, d], 2), wv: randomTensor([d, d], 3), wo: randomTensor([d, d], 4) }
    const x = randomTensor([2, 5, d], 5)
    const bump = fromArray(Float32Array.from({ length: 2 * 5 * d }, (_, i) => (Math.floor(i / d) % 5 === 4 ? 1 : 0)), [2, 5, d])
    const y1 = nn.causalSelfAttention(x, w, 2)
    const y2 = nn.causalSelfAttention(add(x, bump), w, 2)
    allNear(slice(y1, [0, 0, 0], [2, 4, d]).dataSync(), slice(y2, [0, 0, 0], [2, 4, d]).dataSync(), 1e-5)
    const last1 = slice(y1, [0, 4, 0], [2, 1, d]).dataSync()
    const last2 = slice(y2, [0, 4, 0], [2, 1, d]).dataSync()
    expect(last1.some((v, i) => Math.abs(v - last2[i]) > 1e-3)).toBe(true)
  })
})
