import { spawnSync } from 'node:child_process'
import { join } from 'node:path'
import { expect, it } from 'vitest'

// `pnpm start:basics` as a user runs it: the spirals MLP trained by trainStep + sgd for 2,000 steps
it('the basics example separates the spirals (≥ 97% accuracy) with live tensors flat from step 1 to 2,000', () => {
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--conditions=source', join(__dirname, '..', 'train.ts')], {
    cwd: join(__dirname, '..'),
    encoding: 'utf8',
    timeout: 180_000,
  })
  expect(r.status, r.stderr).toBe(0)
  const rows = [...r.stdout.matchAll(/^\s*(\d+)\s+([\d.]+)\s+([\d.]+)%\s+(\d+)$/gm)].map((m) => m.slice(1).map(Number))
  expect(rows.map(([s]) => s)).toEqual([1, ...Array.from({ length: 20 }, (_, i) => 100 * (i + 1))])
  expect(rows.at(-1)![2]).toBeGreaterThanOrEqual(97)
  expect(rows.at(-1)![1]).toBeLessThan(rows[0][1] / 10)
  expect(new Set(rows.map((row) => row[3])).size).toBe(1)
  expect(r.stdout).toMatch(/2000 steps, [\d.]+ ms\/step \(trainStep: forward, backward and update in 1 compiled program, mode fused\)/)
})
