/**
 * Every ```ts block of the README, run as written (as a program, with tsx and
 * the workspace sources), and what it prints checked against the comments.
 */
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'

const here = dirname(fileURLToPath(import.meta.url))
const pkg = join(here, '..')
const blocks = [...readFileSync(join(pkg, 'README.md'), 'utf8').matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1])
// inside the package, so its imports resolve like a user's
const dir = mkdtempSync(join(pkg, 'test', '.readme-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const runBlock = (i: number): string[] => {
  const file = join(dir, `block${i}.ts`)
  writeFileSync(file, blocks[i])
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--conditions=source', file], { cwd: pkg, encoding: 'utf8', timeout: 300_000 })
  expect(r.status, `README block ${i} failed:\n${r.stdout}\n${r.stderr}`).toBe(0)
  return r.stdout.trim().split('\n')
}

describe('README', () => {
  it('has the three examples', () => expect(blocks).toHaveLength(3))

  it('example: FRUGAL trains the classifier with under a third of the state of Adam', () => {
    const [acc, bytes] = runBlock(0)
    expect(Number(acc)).toBeGreaterThan(0.9)
    const [ours, adam] = bytes.split(' ').map(Number)
    expect(adam).toBe(2 * 4 * (32 * 64 + 64 + 64 * 64 + 64 + 64 * 2 + 2))
    // FRUGAL: the moments of 16 of the 64 columns of both hidden kernels, Adam on the rest, 32 column indices, 11 counters and keys
    expect(ours).toBe(2 * 4 * (32 * 16 + 64 * 16) + 2 * 4 * (64 + 64 + 2 + 128) + 4 * 32 + 44)
    expect(ours).toBeLessThan(adam / 3)
  })

  it('save and resume: the optimizer comes back with its recipe and step count', () => {
    expect(runBlock(1)).toEqual(['galore 12'])
  })

  it('any chain: it trains, and the named recipe saves by config', () => {
    const [w, config] = runBlock(2)
    for (const v of w.split(' ').map(Number)) expect(Math.abs(v - 1)).toBeLessThan(0.05)
    expect(JSON.parse(config)).toEqual({ recipe: 'clipped-adamw', options: '{"learningRate":0.1,"weightDecay":0.01}' })
  })
})
