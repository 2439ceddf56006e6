/**
 * Atomic checkpoints, proven by killing: a child process (support/checkpointWriter.ts) writes
 * a large AdamW-shaped checkpoint (two moments of a 2²¹-element parameter: 16 MiB) over the same file in a
 * loop; the test SIGKILLs it at a random moment inside a write, 50 times. After every kill
 * the checkpoint must load, intact, as the last version the child finished or the one it was
 * writing (never a mix, never torn); a leftover temporary file is never at the checkpoint's
 * path, and reading one that was cut short fails with a FrugalError instead of being taken
 * for a checkpoint. The same harness over plain `writeFileSync` finds torn files: it can tell.
 */
import { spawn } from 'node:child_process'
import { mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { basename, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'
import type { Tensor } from '@frugal-ts/core'
import { Tree, full, zeros } from '@frugal-ts/core'
import { FrugalError } from '../src'
import { readOptimizerState } from '../src/node'

const root = fileURLToPath(new URL('../../..', import.meta.url))
const writer = fileURLToPath(new URL('./support/checkpointWriter.ts', import.meta.url))
const N = 2 ** 21
const params = { w: zeros([N]) }
const dir = mkdtempSync(join(tmpdir(), 'frugal-kill-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

/** The version every leaf of the checkpoint at `file` holds, or throws (torn, mixed or unreadable). */
const like = { mu: { w: zeros([N]) }, nu: { w: zeros([N]) }, count: full([], 0, 'int32') }
const versionOf = (file: string): number => {
  const leaves = Tree.leaves(readOptimizerState<unknown>(file, params, { like }) as Tree.Tree<Tensor>).map((t) => t.dataSync())
  const v = leaves[0][0]
  for (const data of leaves) for (let i = 0; i < data.length; i++) if (data[i] !== v) throw new Error(`${file}: element ${i} is ${data[i]}, element 0 of leaf 0 is ${v}: a mixed checkpoint`)
  return v
}

interface Kill {
  /** the version the child last finished, and the one it was writing when killed */
  readonly done: number
  readonly writing: number
  /** what the checkpoint file holds after the kill: a version, or the error reading it */
  readonly found: number | Error
  /** leftover temporary files, each with what reading it gave */
  readonly leftovers: readonly { name: string; read: number | Error }[]
  /** how long the child's last finished write took */
  readonly ms: number
}

/**
 * Starts the writer on `file` at version `from` and kills it with SIGKILL `at()` ms after its
 * first write opens its file; without `at`, after its first write ends. `ms` is how long the
 * I/O of the last finished write took by the child's clock (open to rename, or to the end of a plain write).
 */
const killOnce = (file: string, from: number, mode: 'atomic' | 'plain', at?: () => number): Promise<Kill> =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', '--conditions=source', writer, file, String(from), String(N), mode], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] })
    let done = from - 1
    let writing = from - 1
    let opened = 0
    let ms = 0
    let armed = false
    let buffer = ''
    let stderr = ''
    child.stderr.on('data', (d) => (stderr += d))
    child.stdout.on('data', (d: Buffer) => {
      buffer += d.toString()
      const lines = buffer.split('\n')
      buffer = lines.pop()!
      for (const line of lines) {
        const [what, v] = line.split(' ')
        if (what === 'writing') writing = Number(v)
        // the child's own clock: lines can reach us batched
        if (what === 'open') opened = Number(v)
        if (what === 'renamed') ms = Number(v) - opened
        if (what === 'done') done = Number(v)
        if (!armed && what === 'open' && at) {
          armed = true
          setTimeout(() => child.kill('SIGKILL'), at())
        }
        if (!armed && what === 'done' && !at) {
          armed = true
          child.kill('SIGKILL')
        }
      }
    })
    child.on('error', reject)
    child.on('exit', (code, signal) => {
      if (signal !== 'SIGKILL') return reject(new Error(`writer exited with ${code} ${signal}: ${stderr}`))
      const attempt = (path: string) => {
        try {
          return versionOf(path)
        } catch (e) {
          return e as Error
        }
      }
      const tmp = readdirSync(dir).filter((n) => n.endsWith('.tmp') && n.startsWith(`.${basename(file)}.`))
      const leftovers = tmp.map((name) => ({ name, read: attempt(join(dir, name)) }))
      for (const name of tmp) rmSync(join(dir, name))
      resolve({ done, writing, found: attempt(file), leftovers, ms })
    })
  })

/** Deterministic uniform [0, 1) (mulberry32), so a failure reproduces. */
const rng = (seed: number) => () => {
  seed = (seed + 0x6d2b79f5) >>> 0
  let t = Math.imul(seed ^ (seed >>> 15), seed | 1)
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296
}

describe('writeOptimizerState under SIGKILL', () => {
  it('52 kills at random points inside a write (4 files at a time): the previous checkpoint (or the new one) always loads intact; no partial file is taken for one', async () => {
    const lane = async (j: number) => {
      const file = join(dir, `opt${j}.ckpt`)
      const rand = rng(2411_07837 + j)
      const first = await killOnce(file, 0, 'atomic') // version 0 (or later: lines can come batched), and how long the I/O of one write takes
      if (first.found instanceof Error) throw first.found
      expect(first.found).toBeGreaterThanOrEqual(first.done)
      expect(first.ms).toBeGreaterThan(0)
      let version = first.found + 1
      const seen = { midWrite: 0, partial: 0, ms: first.ms }
      for (let k = 0; k < 13; k++) {
        const kill = await killOnce(file, version, 'atomic', () => rand() * first.ms * 1.2)
        const what = `${file}, kill ${k + 1} (done ${kill.done}, writing ${kill.writing})`
        if (kill.found instanceof Error) throw new Error(`${what}: the checkpoint does not load: ${kill.found.message}`)
        // at least the last write the child finished (the previous checkpoint if none), at most the one it was in
        expect(kill.found, what).toBeGreaterThanOrEqual(kill.done)
        expect(kill.found, what).toBeLessThanOrEqual(kill.writing)
        for (const l of kill.leftovers) {
          expect(l.name, what).toMatch(new RegExp(`^\\.opt${j}\\.ckpt\\..*\\.tmp$`))
          if (l.read instanceof Error) {
            expect(l.read, `${what}: ${l.name}`).toBeInstanceOf(FrugalError)
            seen.partial++
          }
        }
        if (kill.leftovers.length > 0) seen.midWrite++
        version = kill.found + 1
      }
      return seen
    }
    const lanes = await Promise.all([0, 1, 2, 3].map(lane))
    const midWrite = lanes.reduce((a, l) => a + l.midWrite, 0)
    const partial = lanes.reduce((a, l) => a + l.partial, 0)
    console.info(
      `[checkpointKill] ${(2 * 4 * N) / 2 ** 20} MiB checkpoints, I/O of one write ${lanes.map((l) => l.ms.toFixed(0)).join('/')} ms; 52 SIGKILLs within 1.2× of it after the open: ` +
        `${midWrite} left a temporary file (killed between open and rename), ${partial} of those cut short (refused with a FrugalError); the checkpoint loaded intact every time`,
    )
    expect(midWrite).toBeGreaterThan(0) // the kills did land inside writes
  }, 900_000)

  it('meta: the same harness over a plain writeFileSync (not atomic) finds a torn checkpoint', async () => {
    const file = join(dir, 'plain.ckpt')
    const rand = rng(7)
    const { ms } = await killOnce(file, 0, 'plain') // how long the write itself takes
    let torn = 0
    for (let k = 0; k < 10 && torn === 0; k++) {
      const kill = await killOnce(file, 1, 'plain', () => rand() * ms)
      if (kill.found instanceof Error) torn++
    }
    expect(torn).toBeGreaterThan(0)
  }, 600_000)
})
