import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import {
  Key, add, argmax, dispose, fromArray, matmul, max, mul, reshape, scope, slice, storageOf, sum, tensor, transpose, withBackend,
} from '@frugal-ts/core'
import { jit } from '@frugal-ts/autodiff'
import { describe, expect, it } from 'vitest'
import type { GpujsHandle } from '../src'
import { GpujsError, availableModes, gpujsBackend } from '../src'
import { describeModes, registered, unavailable } from './support'

const ramp = (n: number, shape: number[], scale = 1) =>
  fromArray(Float32Array.from({ length: n }, (_, i) => (((i * 7919) % 101) / 101 - 0.5) * scale), shape)

describe('gpujsBackend modes', () => {
  it('refuses webgpu and async: gpu.js kernels there return Promises', () => {
    for (const mode of ['webgpu', 'async'])
      expect(() => gpujsBackend({ mode: mode as 'gpu' })).toThrow(/return a Promise from every call.*'headlessgl' in Node/)
    expect(() => gpujsBackend({ mode: 'webgpu' as 'gpu' })).toThrow(GpujsError)
  })

  it('refuses webgl2 and webgl in Node, pointing at headlessgl', () => {
    expect(() => gpujsBackend({ mode: 'webgl2' })).toThrow(/needs a browser.*'headlessgl' under xvfb-run -a/)
    expect(() => gpujsBackend({ mode: 'webgl' })).toThrow(/needs a browser/)
  })

  it('names the modes it knows for an unknown one', () => {
    expect(() => gpujsBackend({ mode: 'metal' as 'gpu' })).toThrow(/unknown mode 'metal' \(expected one of gpu, headlessgl/)
  })

  it("'gpu' takes the best available mode and reports it", () => {
    const b = gpujsBackend()
    expect(b.mode).toBe(availableModes()[0])
    expect(['headlessgl', 'webasm']).toContain(b.mode)
  })

  it('without an X display, headlessgl fails fast saying to run under xvfb-run -a', () => {
    const src = fileURLToPath(new URL('../src/index.ts', import.meta.url))
    const code = `import(${JSON.stringify(src)}).then((m) => { try { m.gpujsBackend({ mode: 'headlessgl' }); console.log('AVAILABLE') } catch (e) { console.log(e.name + ': ' + e.message) } })`
    const env = { ...process.env }
    delete env.DISPLAY
    const t0 = Date.now()
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--conditions=source', '-e', code], { env, encoding: 'utf8', timeout: 30_000 })
    expect(Date.now() - t0).toBeLessThan(30_000)
    expect(r.stdout).toMatch(/GpujsError: gpujs: mode 'headlessgl' is not available: .*(xvfb-run -a|not installed or not built)/)
  })

  it('takes its mode from a caller-made GPU', () => {
    const own = gpujsBackend({ mode: 'cpu' })
    const b = gpujsBackend({ gpu: own.gpu, name: 'mine' })
    expect(b.mode).toBe('cpu')
    expect(b.name).toBe('mine')
  })
})

describeModes('gpujs backend', (mode) => {
  const { name, backend } = registered(mode)
  const on = <R>(f: () => R) => withBackend(name, f)

  it('reports its mode and runs every kernel on that gpu.js class', () => {
    expect(backend.mode).toBe(mode)
    on(() => scope(() => sum(mul(ramp(6, [2, 3]), 2)).dataSync()))
    expect(Object.keys(backend.stats().kernelModes)).toEqual([mode])
  })

  it('keeps results on the device: no readback between kernels, handles are textures on WebGL', () => {
    on(() =>
      scope(() => {
        const y = matmul(ramp(12, [3, 4]), ramp(8, [4, 2]))
        const z = add(y, 1)
        const value = (storageOf(z, 'test').handle as GpujsHandle).buffer!.value
        expect(value.constructor.name).toBe(mode === 'headlessgl' ? 'GLTextureMemoryOptimized' : 'Float32Array')
      }),
    )
  })

  it('builds one kernel per primitive and shape signature, once', () => {
    on(() =>
      scope(() => {
        const x = ramp(20, [4, 5])
        mul(x, x).dataSync()
        const built = backend.stats().compiled
        const launched = backend.stats().launches
        for (let i = 0; i < 5; i++) mul(x, x).dataSync()
        expect(backend.stats().compiled).toBe(built)
        expect(backend.stats().launches).toBe(launched + 5)
      }),
    )
  })

  it('accounts live handles, buffers and bytes; dispose releases them; reshape shares its buffer', () => {
    const before = backend.memory()
    const [x, y] = on(() => {
      const x = ramp(1000, [10, 100])
      return [x, reshape(x, [100, 10])]
    })
    const after = backend.memory()
    expect(after.tensors).toBe(before.tensors + 2)
    expect(after.buffers).toBe(before.buffers + 1)
    expect(after.bytes - before.bytes).toBeGreaterThanOrEqual(4000)
    dispose(x)
    expect(backend.memory().buffers).toBe(before.buffers + 1) // y still holds the data
    expect(y.dataSync()[3]).toBeCloseTo((((3 * 7919) % 101) / 101 - 0.5), 6)
    dispose(y)
    expect(backend.memory()).toEqual(before)
  })

  it('reduces long axes in two stages, exactly like the reference', () => {
    const data = Float32Array.from({ length: 3 * 7000 }, (_, i) => (i % 13) - 6)
    const expected = (f: () => Float32Array | Int32Array | Uint8Array) => withBackend('cpu', () => scope(f))
    for (const [shape, axes] of [[[3, 7000], [1]], [[7000, 3], [0]], [[21000], [0]]] as const) {
      const got = on(() => scope(() => [sum(fromArray(data, [...shape]), [...axes]).dataSync(), max(fromArray(data, [...shape]), [...axes]).dataSync()]))
      const ref = [expected(() => sum(fromArray(data, [...shape]), [...axes]).dataSync()), expected(() => max(fromArray(data, [...shape]), [...axes]).dataSync())]
      expect(Array.from(got[0])).toEqual(Array.from(ref[0]))
      expect(Array.from(got[1])).toEqual(Array.from(ref[1]))
    }
  })

  it('runs loops longer than gpu.js loopMaxIterations (1000): matmul with k = 1500, argmax over 3000', () => {
    const k = 1500
    const a = Float32Array.from({ length: 2 * k }, (_, i) => (i % 3) - 1)
    const got = on(() => scope(() => matmul(fromArray(a, [2, k]), fromArray(new Float32Array(k).fill(1), [k, 1])).dataSync()))
    expect(Array.from(got)).toEqual([0, 0].map((_, r) => a.slice(r * k, (r + 1) * k).reduce((s, v) => s + v, 0)))
    const long = Float32Array.from({ length: 3000 }, (_, i) => (i === 2500 ? 5 : i % 4))
    expect(on(() => scope(() => argmax(fromArray(long, [3000]), 0).item()))).toBe(2500)
  })

  it('int32 arithmetic is exact up to 2^24', () => {
    const r = on(() => scope(() => add(tensor([16777215, -16777215, 4096], 'int32'), tensor([1, -1, 4096], 'int32')).dataSync()))
    expect(Array.from(r)).toEqual([16777216, -16777216, 8192])
  })

  it('int32 host data beyond ±2^24 (PRNG keys) round-trips and moves exactly', () => {
    on(() =>
      scope(() => {
        const k = Key.key(-123456789012345)
        const cpuWords = withBackend('cpu', () => Key.keyData(Key.key(-123456789012345)))
        expect(Key.keyData(k)).toEqual(cpuWords)
        const keys = Key.split(k, 3)
        const cpuKeys = withBackend('cpu', () => Array.from(Key.split(Key.key(-123456789012345), 3).dataSync()))
        expect(Array.from(transpose(keys).dataSync())).toEqual(Array.from(withBackend('cpu', () => transpose(fromArray(Int32Array.from(cpuKeys), [3, 2])).dataSync())))
        expect(Array.from(slice(keys, [1, 0], [1, 2]).dataSync())).toEqual(cpuKeys.slice(2, 4))
        const f = jit((x: typeof keys) => reshape(x, [6]))
        expect(Array.from(f(keys).dataSync())).toEqual(cpuKeys)
      }),
    )
  })
})

describe('headlessgl availability', () => {
  it('is reported, not silently replaced', () => {
    const why = unavailable('headlessgl')
    if (why !== null) expect(why).toMatch(/xvfb-run -a|not installed or not built|could not create a context/)
    else expect(availableModes()[0]).toBe('headlessgl')
  })
})
