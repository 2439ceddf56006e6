import { spawnSync } from 'node:child_process'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import type { Tensor } from '@frugal-ts/core'
import { currentBackend, dispose, memory, neg, scope, tensor, withBackend } from '@frugal-ts/core'
import { jit } from '../src'

/**
 * A jit whose cache keeps dropping programs must give their memory back: 100
 * distinct signatures through `cacheLimit: 4`, measured in a child process
 * (RSS is the whole process's, so nothing else may run in it).
 */
const child = (backend: string, calls: number) => {
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--conditions=source', join(__dirname, 'children', 'evict.ts'), backend, String(calls)], {
    encoding: 'utf8',
    timeout: 120_000,
  })
  if (r.status !== 0) throw new Error(`child failed (${r.status}): ${r.stderr}`)
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as {
    traces: number
    cached: number
    samples: { call: number; rss: number; bytes: number; tensors: number }[]
  }
}

describe('jit cache eviction frees what it drops', () => {
  for (const backend of ['cpu', 'cpu-js']) {
    it(`${backend}: 100 signatures with cacheLimit 4 keep backend bytes and RSS flat after the first few`, () => {
      const { traces, cached, samples } = child(backend, 100)
      expect(traces).toBe(100)
      expect(cached).toBe(4)
      const after = samples.slice(10)
      // only the weight is alive between calls
      for (const s of after) expect([s.tensors, s.bytes]).toEqual([1, 512 * 512 * 4])
      // each program's workspace is ~ 2 × 266·512·4 bytes (≈ 1 MiB) plus its code: 90 leaked ones would be ≈ 100 MiB
      const growth = (Math.max(...after.map((s) => s.rss)) - after[0].rss) / 2 ** 20
      expect(growth).toBeLessThan(32)
    })
  }
})

describe('a computed output returned more than once', () => {
  for (const backend of ['cpu', 'cpu-js']) {
    it(`${backend}: is one tensor, released by one dispose (it used to be counted, and kept, once per position)`, () => {
      withBackend(backend, () => {
        const x = tensor([1, 2, 3])
        const f = jit((x: Tensor) => {
          const y = neg(x)
          return { a: y, b: y, c: [y] }
        })
        scope(() => f(x)) // compiled
        const before = memory(currentBackend())
        for (let i = 0; i < 10; i++) {
          const out = f(x)
          expect(out.b).toBe(out.a)
          expect(out.a.toArray()).toEqual([-1, -2, -3])
          dispose(out)
        }
        expect(memory(currentBackend())).toEqual(before)
        dispose(x)
      })
    })
  }
})
