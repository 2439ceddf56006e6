import { describe, expect, it } from 'vitest'
import { CoreError, full, ones, zeros, zerosLike } from '../src'

describe('full/zeros/ones: an allocation the backend cannot make fails before a host array is made (issue 13, item 8)', () => {
  it('zeros([1.1e9]) is a CoreError naming the size, and no 1.1e9-element host array is ever constructed', () => {
    const Real = globalThis.Float32Array
    const big: number[] = []
    // every `new Float32Array(n)` with a large n is recorded (views over the wasm heap pass a buffer, not a length)
    globalThis.Float32Array = new Proxy(Real, {
      construct(target, args, newTarget) {
        if (typeof args[0] === 'number' && args[0] > 1e7) big.push(args[0])
        return Reflect.construct(target, args, newTarget)
      },
    })
    let caught: unknown
    try {
      zeros([1.1e9])
    } catch (e) {
      caught = e
    } finally {
      globalThis.Float32Array = Real
    }
    expect(caught).toBeInstanceOf(CoreError)
    expect((caught as Error).message).toMatch(/^full: float32\[1100000000\] needs 4,400,000,000 bytes: wasm heap: out of memory \(\d+ bytes in use, \d+ more needed, limit \d+\)$/)
    expect(big).toEqual([])
  })

  it('full still fills every dtype as before (float32 rounding, int32 truncation, bool)', () => {
    expect(Array.from(full([3], 0.1).dataSync())).toEqual(Array.from(Float32Array.of(0.1, 0.1, 0.1)))
    expect(Array.from(full([2], 2.7, 'int32').dataSync())).toEqual([2, 2])
    expect(Array.from(full([2], -2.7, 'int32').dataSync())).toEqual([-2, -2])
    expect(Array.from(full([2], true).dataSync())).toEqual([1, 1])
    expect(Array.from(ones([2, 2], 'int32').dataSync())).toEqual([1, 1, 1, 1])
    expect(zerosLike(ones([0, 3])).shape).toEqual([0, 3])
    expect(full([], 5).item()).toBe(5)
  })
})
