/**
 * Every training loop shown in a README, run as it is written (from the
 * TypeScript sources, in a child process under the package whose README it
 * is), for its 200 steps: the loop prints its live tensors at steps 100 and
 * 200, and they must be equal (nothing leaks per step) and the loop must have
 * run to step 200. A README `ts` block is a loop when it prints `live tensors`.
 */
import { spawnSync } from 'node:child_process'
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..')

/** where each README's blocks run: a package folder whose dependencies resolve their imports */
const readmes: [string, string][] = [
  ['README.md', 'packages/frugal'],
  ['packages/frugal/README.md', 'packages/frugal'],
  ['packages/autodiff/README.md', 'packages/autodiff'],
  ['packages/backend-tfjs/README.md', 'packages/backend-tfjs'],
  ['packages/backend-gpujs/README.md', 'packages/backend-gpujs'],
]

const loops = readmes.flatMap(([readme, dir]) => {
  const md = readFileSync(join(root, readme), 'utf8')
  return [...md.matchAll(/```ts\n([\s\S]*?)```/g)]
    .filter((m) => m[1].includes('live tensors'))
    .map((m) => ({ readme, dir, line: md.slice(0, m.index).split('\n').length + 1, code: m[1] }))
})
const made: string[] = []
afterAll(() => made.forEach((d) => rmSync(d, { recursive: true, force: true })))

describe('README training loops', () => {
  it('finds the loops of the root, frugal, autodiff, tfjs and gpu.js READMEs', () => {
    expect(loops.map((l) => l.readme)).toEqual(readmes.map(([r]) => r))
  })
  for (const l of loops) {
    it(`${l.readme} (line ${l.line}): 200 steps with the live tensors of steps 100 and 200 equal`, () => {
      const dir = join(root, l.dir, '.readme-run')
      mkdirSync(dir, { recursive: true })
      made.push(dir)
      const file = join(dir, `${l.readme.replace(/\W+/g, '-')}-${l.line}.mts`)
      writeFileSync(file, `// ${l.readme}, line ${l.line}\n${l.code}`)
      const r = spawnSync(process.execPath, ['--import', 'tsx', '--conditions=source', file], { cwd: join(root, l.dir), encoding: 'utf8', timeout: 120_000 })
      expect(r.status, r.stderr).toBe(0)
      const counts = [...r.stdout.matchAll(/step (\d+):.*live tensors (\d+)/g)].map((m) => [Number(m[1]), Number(m[2])])
      expect(counts.map(([s]) => s)).toEqual([100, 200])
      expect(counts[1][1]).toBe(counts[0][1])
    })
  }
})
