/**
 * The kernels where tfjs's own ops differ from the reference semantics, on
 * tfjs-cpu and tfjs-wasm, plus handle ownership and memory accounting.
 */
import * as tf from '@tensorflow/tfjs-core'
import fc from 'fast-check'
import {
  add, bind, broadcastTo, cast, dispose, fromArray, getBackend, matmul, mul, neg, reshape, scatterAdd, scope, sign, storageOf, sum,
  take, tensor, where, withBackend,
} from '@frugal-ts/core'
import type { Primitive, Tensor } from '@frugal-ts/core'
import { cases, toTensor } from '@frugal-ts/core/testing'
import type { Case } from '@frugal-ts/core/testing'
import { beforeAll, describe, expect, it } from 'vitest'
import type { TfTensor } from '../src/index'
import { expectClose, expectSame, names, startBoth, tfTensors } from './setup'

beforeAll(async () => {
  await startBoth()
})

const f32 = (xs: number[], shape = [xs.length]) => fromArray(Float32Array.from(xs), shape)
const i32 = (xs: number[], shape = [xs.length]) => fromArray(Int32Array.from(xs), shape)
const bools = (xs: boolean[], shape = [xs.length]) => fromArray(Uint8Array.from(xs, Number), shape, 'bool')

describe.each(names)('%s', (name) => {
  describe('cast', () => {
    it('float32 -> int32 truncates toward zero, saturates at ±2³¹ and maps NaN to 0, like the reference', () => {
      const xs = [2e9, -3e9, 3.7, -3.7, -0.5, NaN, Infinity, -Infinity, 2147483648, 2147483520, -2147483648, 1e10]
      const got = expectSame(name, () => cast(f32(xs), 'int32'))
      expect(got.data).toEqual([2000000000, -2147483648, 3, -3, 0, 0, 2147483647, -2147483648, 2147483647, 2147483520, -2147483648, 2147483647])
    })
    it('anything -> bool is x ≠ 0 (NaN is true, -0 is false; no byte truncation)', () => {
      expect(expectSame(name, () => cast(f32([0, -0, NaN, 256, 0.5, -1]), 'bool')).data).toEqual([0, 0, 1, 1, 1, 1])
      expect(expectSame(name, () => cast(i32([0, 256, -1, 2147483647]), 'bool')).data).toEqual([0, 1, 1, 1])
    })
    it('int32 and bool -> float32 and bool -> int32', () => {
      expectSame(name, () => cast(i32([16777217, -3, 0]), 'float32'))
      expectSame(name, () => cast(bools([true, false]), 'float32'))
      expectSame(name, () => cast(bools([true, false]), 'int32'))
    })
  })

  describe('int32 arithmetic wraps like the reference', () => {
    it('mul wraps exactly like Math.imul, even where the product exceeds 2⁵³', () => {
      const a = [123456789, 2147483647, -2147483648, 65536, -7, 99991]
      const b = [987654321, 2147483647, -1, 65536, 3, -77773]
      const got = expectSame(name, () => mul(i32(a), i32(b)))
      expect(got.data).toEqual(a.map((x, i) => Math.imul(x, b[i])))
    })
    it('add and neg wrap', () => {
      expectSame(name, () => add(i32([2147483647, -2147483648]), i32([1, -1])))
      expectSame(name, () => neg(i32([-2147483648, 5])))
    })
  })

  it('sign of tiny and subnormal floats is ±1 (tfjs-wasm Sign rounds |x| < 1.2e-7 to 0)', () => {
    const got = expectSame(name, () => sign(f32([1e-8, -1e-30, 1.4e-45, -1.4e-45, 0, 3, -2])))
    expect(got.data).toEqual([1, -1, 1, -1, 0, 1, -1])
  })

  it('where on bool branches, broadcasting all three operands', () => {
    expectSame(name, () => where(bools([true, false], [2, 1]), bools([true, true, false]), bools([false])))
    expectSame(name, () => where(bools([true, false, true]), i32([1, 2, 3]), i32([9])))
  })

  it('empty shapes: a sum over an empty axis is zeros, broadcasting to an empty shape is empty', () => {
    expect(expectSame(name, () => sum(f32([], [2, 0]), 1)).data).toEqual([0, 0])
    expect(expectSame(name, () => sum(i32([], [0, 3]), 0)).data).toEqual([0, 0, 0])
    expectSame(name, () => broadcastTo(f32([3]), [0, 1]))
  })

  it('scatterAdd adds duplicates, with axes before and after the indices, for float32, int32 and bool', () => {
    const idx = i32([2, 0, 2, 2], [2, 2])
    const u = f32(Array.from({ length: 24 }, (_, i) => i - 5), [3, 2, 2, 2])
    expectClose(name, () => scatterAdd(idx, u, 1, 4))
    expectSame(name, () => scatterAdd(idx, cast(u, 'int32'), 1, 3))
    expectSame(name, () => scatterAdd(i32([1, 1, 0]), bools([true, false, false], [3, 1]), 0, 3))
  })

  it('out-of-range indices throw in gather and scatterAdd (tfjs-wasm alone would drop them in scatterAdd)', () => {
    expect(() => withBackend(name, () => scope(() => scatterAdd(i32([0, 3]), f32([1, 2]), 0, 3).dataSync()))).toThrow(/out of range|Invalid indices/)
    expect(() => withBackend(name, () => scope(() => scatterAdd(i32([-1]), f32([1]), 0, 3).dataSync()))).toThrow(/out of range|Invalid indices/)
    expect(() => withBackend(name, () => scope(() => take(f32([1, 2, 3]), i32([3])).dataSync()))).toThrow(/not in \[0, 2\]/)
  })

  it('matmul broadcasts batch axes that tfjs alone gets wrong ([2,1] with [3])', () => {
    const a = () => f32(Array.from({ length: 2 * 1 * 2 * 3 }, (_, i) => Math.sin(i)), [2, 1, 2, 3])
    const b = () => f32(Array.from({ length: 3 * 3 * 4 }, (_, i) => Math.cos(i)), [3, 3, 4])
    expectClose(name, () => matmul(a(), b()))
    expectClose(name, () => matmul(reshape(a(), [4, 3]), b()))
    expectClose(name, () => matmul(b(), f32(Array.from({ length: 8 }, (_, i) => i), [4, 2])))
  })

  it('no kernel leaves a tfjs intermediate behind: each call adds exactly its result', () => {
    for (const prim of Object.keys(cases) as Primitive[])
      for (const variant of cases[prim] as Case<Primitive>)
        for (const input of fc.sample(variant.arb, { numRuns: 4, seed: 7 }))
          withBackend(name, () =>
            scope(() => {
              const xs = input.args.map(toTensor)
              const before = tfTensors()
              bind(prim, xs, input.params)
              expect(tfTensors(), `${prim} (${variant.name})`).toBe(before + 1)
            }),
          )
  })

  describe('handles', () => {
    const backend = () => getBackend(name)
    const handleOf = (t: Tensor) => storageOf(t, 'test').handle as TfTensor

    it('each kernel call leaves exactly its result behind, in tfjs and in memory()', () => {
      const x = withBackend(name, () => f32([1, 2, 3]))
      const [t0, m0] = [tfTensors(), backend().memory()]
      const y = withBackend(name, () => cast(mul(add(x, x), x), 'int32'))
      expect(tfTensors()).toBe(t0 + 3)
      expect(backend().memory()).toEqual({ tensors: m0.tensors + 3, bytes: m0.bytes + 36 })
      dispose(y)
      expect(tfTensors()).toBe(t0 + 2)
      withBackend(name, () => scope(() => void mul(add(x, x), x).dataSync()))
      expect(tfTensors()).toBe(t0 + 2)
      dispose(x)
    })

    it('memory() counts bool as 1 byte, and dispose twice is harmless', () => {
      const m0 = backend().memory()
      const b = withBackend(name, () => bools([true, false, true]))
      expect(backend().memory()).toEqual({ tensors: m0.tensors + 1, bytes: m0.bytes + 3 })
      dispose(b)
      dispose(b)
      expect(backend().memory()).toEqual(m0)
    })

    it('handles survive an enclosing tf.tidy: frugal-ts owns them, not tfjs scopes', () => {
      let y: Tensor | undefined
      tf.tidy(() => {
        y = withBackend(name, () => add(f32([1, 2]), 1))
      })
      const h = handleOf(y!)
      expect(Array.from(y!.dataSync())).toEqual([2, 3])
      expect(h.isDisposed).toBe(false)
      dispose(y)
      expect(h.isDisposed).toBe(true)
    })

    it('fromHost copies the host array and readSync returns a copy', () => {
      const data = Float32Array.from([1, 2, 3])
      const x = withBackend(name, () => fromArray(data, [3]))
      data[0] = 99
      const read = x.dataSync()
      read[1] = 99
      expect(Array.from(x.dataSync())).toEqual([1, 2, 3])
      dispose(x)
    })

    it('runs on its pinned tfjs backend whichever one is active', async () => {
      const pinned = name.slice('tfjs-'.length)
      const other = pinned === 'cpu' ? 'wasm' : 'cpu'
      await tf.setBackend(other)
      const y = withBackend(name, () => tensor([1, 2, 3]))
      const z = withBackend(name, () => mul(y, 2))
      expect(tf.getBackend()).toBe(pinned)
      const info = (tf.engine() as unknown as { state: { tensorInfo: { get(id: object): { backend: unknown } } } }).state.tensorInfo
      expect(info.get(handleOf(z).dataId).backend).toBe(tf.engine().registry[pinned])
      expect(Array.from(z.dataSync())).toEqual([2, 4, 6])
      dispose([y, z])
    })
  })
})
