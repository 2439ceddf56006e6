import { describe, it, expect } from 'vitest'
import fc from 'fast-check'
import * as K from '../src/Key'
import { CoreError } from '../src/CoreError'
import { tensor } from '../src/creation'

const seedArb = fc.integer({ min: -(2 ** 40), max: 2 ** 40 })
const u32 = (t: { dataSync(): ArrayLike<number> }) => Array.from(t.dataSync(), (v) => v >>> 0)
const mean = (xs: ArrayLike<number>) => Array.from(xs).reduce((a, b) => a + b, 0) / xs.length

describe('threefry2x32', () => {
  it('matches the Random123 known-answer vectors (20 rounds)', () => {
    expect(K.threefry2x32([0, 0], [0, 0])).toEqual([0x6b200159, 0x99ba4efe])
    expect(K.threefry2x32([0xffffffff, 0xffffffff], [0xffffffff, 0xffffffff])).toEqual([0x1cb996fc, 0xbb002be7])
    expect(K.threefry2x32([0x13198a2e, 0x03707344], [0x243f6a88, 0x85a308d3])).toEqual([0xc4923a9c, 0x483df7a0])
  })

  it("reproduces JAX's original split of key 0 ([[4146024105, 967050713], [2718843009, 1272950319]])", () => {
    // the non-partitionable scheme: counters iota(4) split in halves, outputs concatenated
    const [a0, a1] = K.threefry2x32([0, 0], [0, 2])
    const [b0, b1] = K.threefry2x32([0, 0], [1, 3])
    expect([a0, b0, a1, b1]).toEqual([4146024105, 967050713, 2718843009, 1272950319])
  })
})

describe('Key', () => {
  it('makes keys from seeds as JAX does (high and low words)', () => {
    expect(u32(K.key(42))).toEqual([0, 42])
    expect(u32(K.key(2 ** 40 + 5))).toEqual([256, 5])
    expect(u32(K.key(-1))).toEqual([0xffffffff, 0xffffffff])
    expect(K.keyData(K.key(7))).toEqual([0, 7])
    const k = K.key(0)
    expect(k.dtype).toBe('int32')
    expect(k.shape).toEqual([2])
  })

  it('split and uniform give the values of JAX with partitionable threefry (JAX >= 0.5)', () => {
    const s = K.split(K.key(0))
    expect(s.shape).toEqual([2, 2])
    expect(u32(s)).toEqual([1797259609, 2579123966, 928981903, 3453687069])
    expect(K.uniform(K.key(0), []).item()).toBeCloseTo(0.947667, 6)
    expect(K.normal(K.key(0), []).item()).toBeCloseTo(1.6226422, 5)
  })

  it('property: same key, same bits; split children differ from the parent and each other', () => {
    fc.assert(
      fc.property(seedArb, fc.integer({ min: 2, max: 8 }), (seed, n) => {
        const k = K.key(seed)
        expect(K.bits(k, [3, 2])).toEqual(K.bits(K.key(seed), [3, 2]))
        const kids = K.splitKeys(k, n).map((c) => u32(c).join(','))
        expect(new Set([...kids, u32(k).join(',')]).size).toBe(n + 1)
        expect(u32(K.split(k, n))).toEqual(kids.flatMap((c) => c.split(',').map(Number)))
      }),
      { numRuns: 50 },
    )
  })

  it('property: foldIn differs by data and equals the matching split row', () => {
    fc.assert(
      fc.property(seedArb, fc.integer({ min: 0, max: 2 ** 31 }), (seed, d) => {
        const k = K.key(seed)
        expect(u32(K.foldIn(k, d))).not.toEqual(u32(K.foldIn(k, d + 1)))
        expect(u32(K.foldIn(k, 3))).toEqual(u32(K.splitKeys(k, 4)[3]))
      }),
      { numRuns: 50 },
    )
  })

  it('bits of a prefix shape are a prefix (counter-based)', () => {
    const k = K.key(3)
    expect(Array.from(K.bits(k, [100]).subarray(0, 10))).toEqual(Array.from(K.bits(k, [10])))
    expect(K.bits(k, [2, 0]).length).toBe(0)
  })

  it('uniform is in [minval, maxval) with mean ≈ 0.5', () => {
    const u = K.uniform(K.key(1), [200, 500])
    expect(u.shape).toEqual([200, 500])
    expect(u.dtype).toBe('float32')
    const d = u.dataSync()
    expect(Math.min(...d)).toBeGreaterThanOrEqual(0)
    expect(Math.max(...d)).toBeLessThan(1)
    expect(mean(d)).toBeCloseTo(0.5, 2)
    const r = K.uniform(K.key(2), [10000], { minval: -3, maxval: 5 }).dataSync()
    expect(Math.min(...r)).toBeGreaterThanOrEqual(-3)
    expect(Math.max(...r)).toBeLessThan(5)
    expect(mean(r)).toBeCloseTo(1, 1)
    const narrow = K.uniform(K.key(2), [1000], { minval: 1, maxval: 1 + 3e-7 }).dataSync()
    expect(narrow.every((x) => x >= 1 && x < 1 + 3e-7)).toBe(true)
  })

  it('normal has mean ≈ 0, std ≈ 1 and the normal CDF at 1', () => {
    const d = K.normal(K.key(4), [100000]).dataSync()
    const m = mean(d)
    const v = mean(Array.from(d, (x) => (x - m) ** 2))
    expect(Math.abs(m)).toBeLessThan(0.01)
    expect(Math.abs(Math.sqrt(v) - 1)).toBeLessThan(0.01)
    expect(mean(Array.from(d, (x) => (x < 1 ? 1 : 0)))).toBeCloseTo(0.8413, 2)
    expect(d.every(Number.isFinite)).toBe(true)
  })

  it('randint covers [lo, hi) evenly', () => {
    const r = K.randint(K.key(5), [6000], -2, 4)
    expect(r.dtype).toBe('int32')
    const counts = new Map<number, number>()
    for (const x of r.dataSync()) counts.set(x, (counts.get(x) ?? 0) + 1)
    expect([...counts.keys()].sort((a, b) => a - b)).toEqual([-2, -1, 0, 1, 2, 3])
    for (const c of counts.values()) expect(Math.abs(c - 1000)).toBeLessThan(150)
    const wide = K.randint(K.key(6), [1000], -(2 ** 31), 2 ** 31).dataSync()
    expect(wide.some((x) => x < 0) && wide.some((x) => x > 0)).toBe(true)
  })

  it('property: permutation is a permutation', () => {
    fc.assert(
      fc.property(seedArb, fc.integer({ min: 0, max: 60 }), (seed, n) => {
        const p = K.permutation(K.key(seed), n)
        expect(p.dtype).toBe('int32')
        expect(Array.from(p.dataSync()).sort((a, b) => a - b)).toEqual(Array.from({ length: n }, (_, i) => i))
      }),
      { numRuns: 50 },
    )
  })

  it('permutation is uniform over the 6 orders of 3 items', () => {
    const counts = new Map<string, number>()
    for (const k of K.splitKeys(K.key(8), 3000)) {
      const s = Array.from(K.permutation(k, 3).dataSync()).join('')
      counts.set(s, (counts.get(s) ?? 0) + 1)
    }
    expect(counts.size).toBe(6)
    for (const c of counts.values()) expect(Math.abs(c - 500)).toBeLessThan(100)
  })

  it('bernoulli is true with probability p', () => {
    const b = K.bernoulli(K.key(9), 0.25, [20000])
    expect(b.dtype).toBe('bool')
    expect(mean(b.dataSync())).toBeCloseTo(0.25, 1)
    expect(mean(K.bernoulli(K.key(9), 0, [100]).dataSync())).toBe(0)
    expect(mean(K.bernoulli(K.key(9), 1, [100]).dataSync())).toBe(1)
  })

  it('rejects bad seeds, shapes, counts, ranges and keys with CoreErrors', () => {
    const k = K.key(0)
    expect(() => K.key(1.5)).toThrow('Key.key: seed must be a safe integer, got 1.5')
    expect(() => K.key(2 ** 53)).toThrow(CoreError)
    expect(() => K.split(k, -1)).toThrow('Key.split: the number of keys must be a non-negative integer, got -1')
    expect(() => K.bits(k, [2.5])).toThrow('Key.bits: shape must be a list of non-negative integers, got [2.5]')
    expect(() => K.uniform(k, [2], { minval: 1, maxval: 1 })).toThrow('needs finite minval < maxval')
    expect(() => K.uniform(k, [2], { dtype: 'int32' as 'float32' })).toThrow('dtype must be float32, got int32')
    expect(() => K.randint(k, [2], 3, 3)).toThrow('Key.randint: needs integers -2^31 <= lo < hi <= 2^31, got lo 3, hi 3')
    expect(() => K.bernoulli(k, 2, [2])).toThrow('p must be in [0, 1], got 2')
    expect(() => K.foldIn(k, 0.5)).toThrow('Key.foldIn: data must be a safe integer')
    expect(() => K.split(tensor([1, 2]))).toThrow('Key.split: key must be an int32 tensor of shape [2] (made by key(seed)), got float32[2]')
    expect(() => K.normal(tensor([1, 2, 3], 'int32'), [2])).toThrow('got int32[3]')
  })
})
