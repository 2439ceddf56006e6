import { describe, expect, it } from 'vitest'
import type { Tensor } from '@frugal-ts/core'
import { CoreError, add, currentBackend, mul, scope, showProgram, sub, sum, tanh, tensor, matmul } from '@frugal-ts/core'
import { assertAllClose } from '@frugal-ts/core/testing'
import { grad, jit, valueAndGrad } from '../src'
import { randomTensor } from './fd'

describe('jit', () => {
  it('gives the same values as the function and traces once per signature', () => {
    const f = (x: Tensor, y: Tensor) => add(tanh(mul(x, y)), sum(x))
    const jf = jit(f)
    const x = randomTensor([3, 4], 1)
    const y = randomTensor([4], 2)
    // compiled programs may use polynomial exp/tanh (WebAssembly SIMD): equal within float32 tolerance
    assertAllClose(jf(x, y), f(x, y))
    assertAllClose(jf(randomTensor([3, 4], 3), randomTensor([4], 4)), f(randomTensor([3, 4], 3), randomTensor([4], 4)))
    expect(jf.traceCount).toBe(1)
    jf(randomTensor([2, 4], 1), y) // new shape, new trace
    expect(jf.traceCount).toBe(2)
    expect(jf.cacheSize).toBe(2)
  })

  it('static (non-tensor) leaves are part of the signature', () => {
    const jf = jit((x: Tensor, k: number) => mul(x, k))
    expect(jf(tensor([1, 2]), 3).toArray()).toEqual([3, 6])
    expect(jf(tensor([1, 2]), 3).toArray()).toEqual([3, 6])
    expect(jf(tensor([1, 2]), 4).toArray()).toEqual([4, 8])
    expect(jf.traceCount).toBe(2)
  })

  it('a whole training step (forward, backward, update) jits and matches eager', () => {
    const loss = (p: { w: Tensor; b: Tensor }, x: Tensor, y: Tensor) => sum(mul(sub(add(matmul(x, p.w), p.b), y), sub(add(matmul(x, p.w), p.b), y)))
    const step = (p: { w: Tensor; b: Tensor }, x: Tensor, y: Tensor) => {
      const [l, g] = valueAndGrad(loss)(p, x, y)
      return { loss: l, params: { w: sub(p.w, mul(g.w, 0.01)), b: sub(p.b, mul(g.b, 0.01)) } }
    }
    const jstep = jit(step)
    let pe = { w: randomTensor([5, 2], 1), b: randomTensor([2], 2) }
    let pj = pe
    const x = randomTensor([8, 5], 3)
    const y = randomTensor([8, 2], 4)
    for (let i = 0; i < 5; i++) {
      const re = step(pe, x, y)
      const rj = jstep(pj, x, y)
      expect(rj.loss.item()).toBeCloseTo(re.loss.item(), 4)
      pe = re.params
      pj = rj.params
    }
    expect(jstep.traceCount).toBe(1)
    expect(showProgram(jstep.lower(pj, x, y))).toContain('matmul')
  })

  it('grad of a jitted function and jit of grad agree', () => {
    const f = (x: Tensor) => sum(tanh(mul(x, x)))
    const x = randomTensor([4], 9)
    const a = grad(jit(f))(x) as Tensor
    const b = jit(grad(f))(x) as Tensor
    a.dataSync().forEach((v, i) => expect(v).toBeCloseTo(b.dataSync()[i], 5))
  })

  it('donated inputs are consumed; reading them afterwards is a clear error', () => {
    const jf = jit((x: Tensor) => mul(x, 2), { donate: [0] })
    const x = tensor([1, 2, 3])
    const y = jf(x)
    expect(y.toArray()).toEqual([2, 4, 6])
    expect(() => x.dataSync()).toThrow(/disposed/)
  })

  it('reading a traced value inside jit is a clear error', () => {
    const jf = jit((x: Tensor) => tensor(x.item()))
    expect(() => jf(tensor([1]))).toThrow(CoreError)
    expect(() => jf(tensor([1]))).toThrow(/traced by jit/)
  })

  it('steady state: repeated jitted calls inside scope do not grow live memory', () => {
    const jf = jit((x: Tensor, w: Tensor) => tanh(matmul(x, w)))
    const x = randomTensor([16, 8], 1)
    const w = randomTensor([8, 8], 2)
    scope(() => jf(x, w))
    const before = currentBackend().memory()
    for (let i = 0; i < 50; i++) scope(() => jf(x, w).dataSync())
    expect(currentBackend().memory()).toEqual(before)
  })
})

describe('jit donation keeps memory flat', () => {
  it('1,000 donated steps leave the live handle count and bytes unchanged', () => {
    const step = jit((w: Tensor, x: Tensor) => sub(w, mul(tanh(matmul(x, w)), 0.01)), { donate: [0] })
    const x = randomTensor([8, 8], 1)
    let w = scope(() => step(randomTensor([8, 8], 2), x))
    const before = currentBackend().memory()
    for (let i = 0; i < 1000; i++) w = scope(() => step(w, x))
    expect(currentBackend().memory()).toEqual(before)
    expect(w.dataSync().every(Number.isFinite)).toBe(true)
  })
})

describe('jit cache limit', () => {
  it('keeps at most cacheLimit signatures and releases what evicted traces created', () => {
    const jf = jit((x: Tensor) => mul(add(x, tensor([1, 2, 3, 4]).size), 2), { cacheLimit: 2 })
    const before = currentBackend().memory()
    for (let n = 1; n <= 6; n++) scope(() => jf(randomTensor([n], n)).dataSync())
    expect(jf.cacheSize).toBe(2)
    expect(jf.traceCount).toBe(6)
    const afterSix = currentBackend().memory()
    for (let n = 7; n <= 12; n++) scope(() => jf(randomTensor([n], n)).dataSync())
    // each new signature replaces an old one: live memory stays bounded
    expect(currentBackend().memory().tensors).toBe(afterSix.tensors)
    expect(afterSix.tensors - before.tensors).toBeLessThanOrEqual(4)
    expect(() => jit((x: Tensor) => x, { cacheLimit: 0 })).toThrow(/cacheLimit must be a positive integer, got 0/)
  })

  it('output trees: a result returned twice is one tensor, returned inputs and static leaves pass through, donated returned inputs stay live', () => {
    const jf = jit(
      (x: Tensor, y: Tensor, o: { k: number; w: Tensor }) => {
        const z = mul(x, 2)
        return { z, again: [z, null], x, y, k: o.k, w: o.w, label: 'step' }
      },
      { donate: [0, 1] },
    )
    // a null-prototype object is a tree node, as in Tree
    const o = Object.assign(Object.create(null) as { k: number; w: Tensor }, { k: 3, w: tensor([5]) })
    const [x, y] = [tensor([1, 2]), tensor([3])]
    const r = jf(x, y, o)
    expect(r.again[0]).toBe(r.z)
    expect(r.again[1]).toBeNull()
    expect(r.x).toBe(x) // a donated input returned as is is not disposed
    expect(r.y).toBe(y)
    expect(x.isDisposed).toBe(false)
    expect(r.w).toBe(o.w)
    expect([r.k, r.label]).toEqual([3, 'step'])
    expect(r.z.toArray()).toEqual([2, 4])
    const r2 = jf(tensor([4, 5]), tensor([6]), o)
    expect(jf.traceCount).toBe(1)
    expect(r2.z.toArray()).toEqual([8, 10])
    // the static leaf is part of the signature
    jf(tensor([1, 1]), tensor([1]), Object.assign(Object.create(null) as { k: number; w: Tensor }, { k: 4, w: o.w }))
    expect(jf.traceCount).toBe(2)
  })
})
