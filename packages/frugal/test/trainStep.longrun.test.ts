import { spawnSync } from 'node:child_process'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import type { Sample } from './support/longRun'

/**
 * Thousands of refreshes: 2,000 trainStep steps with the subspace refreshed
 * every 5 steps (400 refreshes) on a model with 12 projectable weight
 * matrices, one child process per optimizer so that its RSS is the run's own.
 * Between step 200 and step 2,000 the live tensors and backend bytes must not
 * change at all, the number of traced (compiled) programs must stay under a
 * bound that does not grow with the refreshes, and RSS must grow by less than
 * 32 MiB.
 */
const child = (name: string, steps: number, at: readonly number[]) => {
  const r = spawnSync(
    process.execPath,
    // --expose-gc: the child collects garbage before each sample. Without it RSS rose 22–34 MiB from step 200 to
    // 2,000 in runs whose live JS heap after a collection grew 0.5 MiB (frugal-random): the old generation's growth
    // before its next major collection, not memory kept
    ['--expose-gc', '--import', 'tsx', '--conditions=source', join(__dirname, 'children', 'longRun.ts'), name, String(steps), at.join(',')],
    { encoding: 'utf8', timeout: 240_000 },
  )
  if (r.status !== 0) throw new Error(`child ${name} failed (${r.status}): ${r.stderr}`)
  const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l))
  return { samples: lines.filter((l) => !l.done) as Sample[], summary: lines.find((l) => l.done) as { mode: string; refreshes: number; cacheSize: number } }
}

/**
 * The programs each may compile, whatever the number of refreshes: forward and
 * backward (1), the fused step and the update of the first subspace (2, dropped
 * when blocks move), applyUpdates (1), the rates (1), the regular leaves (1), and
 * one per leaf shape and role (2 shapes × active/inactive = 4); FRUGAL's rates,
 * regular leaves and empty-subspace updates now share one piece, so 7 are seen.
 */
const BOUND = 10

const cases: [string, string][] = [
  ['frugal-random', 'pieces'],
  ['frugal-descending', 'pieces'],
  ['frugal-mirror', 'pieces'],
  ['badam', 'pieces'],
  ['galore', 'split'],
  ['frugal-randk', 'split'],
  ['frugal-columns', 'split'],
  ['clip-frugal', 'pieces'],
  ['adam', 'fused'],
]

describe('trainStep over 2,000 steps and 400 refreshes', () => {
  for (const [name, mode] of cases) {
    it(`${name}: live tensors, backend bytes and compiled programs flat from step 200 to 2,000; RSS grows < 32 MiB`, () => {
      const { samples, summary } = child(name, 2000, [10, 200, 500, 1000, 1500, 2000])
      const [early, ...later] = samples.slice(1)
      for (const s of later) {
        expect({ step: s.step, tensors: s.tensors, bytes: s.bytes, traces: s.traces }).toEqual({ step: s.step, tensors: early.tensors, bytes: early.bytes, traces: early.traces })
        expect(Number.isFinite(s.loss)).toBe(true)
      }
      expect(early.traces).toBeLessThanOrEqual(BOUND)
      // the traces at step 10 (two refreshes in) are already all there will ever be
      expect(samples[0].traces).toBe(early.traces)
      const growth = (Math.max(...later.map((s) => s.rss)) - early.rss) / 2 ** 20
      expect(growth).toBeLessThan(32)
      // and the JS heap that survives a collection stays flat (a leak of JS objects: plans, closures, cache entries)
      const heapGrowth = (Math.max(...later.map((s) => s.heap)) - early.heap) / 2 ** 20
      expect(heapGrowth).toBeLessThan(4)
      expect(summary.refreshes).toBe(name === 'adam' ? 0 : 400)
      expect(summary.mode).toBe(mode)
    })
  }
})
