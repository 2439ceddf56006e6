import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { PNG } from 'pngjs'
import { parseCommand } from '../src/args'
import { main } from '../src/cli'
import { Key } from '@frugal-ts/core'
import type { Params } from '@frugal-ts/frugal'
import { loadCheckpoint, saveCheckpoint } from '@frugal-ts/frugal/node'
import { loadRun } from '../src/checkpoint'
import { initParams } from '../src/model'
import { makeOptimizer } from '../src/optimizers'

/** Runs the CLI's main with captured streams. */
const run = async (...argv: string[]) => {
  let stdout = ''
  let stderr = ''
  const code = await main(argv, { stdout: { write: (s: string) => (stdout += s) }, stderr: { write: (s: string) => (stderr += s), isTTY: false } })
  return { code, stdout, stderr }
}

const TINY = ['--layers', '1', '--width', '16', '--heads', '2', '--context', '8', '--batch', '2', '--eval-windows', '4']
const dir = mkdtempSync(join(tmpdir(), 'llama-cli-'))

describe('frugal-train: bad input is one line on stderr and exit status 2', () => {
  const cases: [string, string[], RegExp][] = [
    ['an unknown optimizer', ['--optimizer', 'adagrad'], /unknown optimizer "adagrad" \(expected one of adam, galore, badam, frugal, adafrugal\)/],
    ['a bad --lr-grid entry', ['--compare', '--lr-grid', '1e-3,zero'], /--lr-grid entries must be numbers > 0, got "zero" \(entry 2 of "1e-3,zero"\)/],
    ['a repeated --lr-grid rate', ['--lr-grid', '0.01,1e-2'], /--lr-grid has a repeated learning rate/],
    ['--seeds 0', ['--seeds', '0'], /--seeds must be an integer ≥ 1, got "0"/],
    ['--save with --seeds', ['--seeds', '2', '--save', join(dir, 'x.ckpt')], /--save cannot be used with --seeds or --lr-grid/],
    ['an unknown projection', ['--projection', 'qr'], /unknown projection "qr" \(expected one of blocks, randk, columns, svd\)/],
    ['a density above 1', ['--density', '1.5'], /density must be in \[0, 1\], got "1.5" \(at --density\)/],
    ['a negative density', ['--density=-0.1'], /density must be in \[0, 1\]/],
    ['an unknown flag', ['--learning-rate', '1'], /Unknown option '--learning-rate'/],
    ['a non-integer step count', ['--steps', '2.5'], /--steps must be an integer ≥ 2/],
    ['heads that do not divide the width', ['--width', '30', '--heads', '4'], /--width 30 must split into --heads 4 heads of even width/],
    ['a missing checkpoint', ['--resume', join(dir, 'missing.ckpt')], /--resume .*missing\.ckpt: no such file/],
    ['a missing config file', ['--config', join(dir, 'missing.json')], /--config .*: no such file/],
    ['an unknown command', ['pretrian'], /unknown command "pretrian"/],
    ['--stop-after without --save', ['--stop-after', '3'], /--stop-after needs --save/],
    ['--jobs 0', ['--compare', '--jobs', '0'], /--jobs must be an integer ≥ 1, got "0"/],
  ]
  for (const [what, argv, message] of cases)
    it(`rejects ${what}`, async () => {
      const r = await run(...argv, '--out', join(dir, 'never'))
      expect(r.code).toBe(2)
      expect(r.stderr).toMatch(message)
      expect(r.stderr.trim().split('\n')).toHaveLength(1)
      expect(r.stdout).toBe('')
      expect(existsSync(join(dir, 'never', 'results.json'))).toBe(false)
    })

  it('rejects a corpus shorter than the context, writing nothing', async () => {
    const file = join(dir, 'short.txt')
    writeFileSync(file, 'Fellow-Citizens of the Senate')
    const r = await run('--corpus', file, '--context', '64', '--out', join(dir, 'never'))
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/the training split has 26 bytes, shorter than the context \+ 1 = 65/)
    expect(existsSync(join(dir, 'never', 'results.json'))).toBe(false)
  })

  it('rejects a corrupted checkpoint and overwrites nothing', async () => {
    const ckpt = join(dir, 'run.ckpt')
    expect((await run(...TINY, '--optimizer', 'frugal', '--steps', '6', '--stop-after', '3', '--save', ckpt, '--out', join(dir, 'partial'))).code).toBe(0)
    const bytes = readFileSync(ckpt)
    bytes[bytes.length - 40] ^= 1
    writeFileSync(ckpt, bytes)
    const mtime = statSync(ckpt).mtimeMs
    const r = await run('--resume', ckpt, '--save', ckpt, '--out', join(dir, 'partial'))
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/--resume .*run\.ckpt: checksum mismatch \(stored crc32 [0-9a-f]{8}, the \d+ bytes give [0-9a-f]{8}\): the file is corrupted/)
    expect(readFileSync(ckpt).equals(bytes)).toBe(true)
    expect(statSync(ckpt).mtimeMs).toBe(mtime)
    expect(existsSync(join(dir, 'partial', 'results.json'))).toBe(false)
  })

  it('the bin does the same when spawned', async () => {
    const r = spawnSync(process.execPath, [join(__dirname, '..', 'bin', 'frugal-train.js'), '--optimizer', 'adagrad'], { encoding: 'utf8' })
    expect(r.status).toBe(2)
    expect(r.stderr.trim()).toBe('frugal-train: unknown optimizer "adagrad" (expected one of adam, galore, badam, frugal, adafrugal) (at --optimizer)')
  })
})

describe('frugal-train runs', () => {
  it('--compare trains the six runs and writes the table, results.json, loss.svg and loss.png', async () => {
    const out = join(dir, 'compare')
    const r = await run(...TINY, '--compare', '--steps', '4', '--out', out)
    expect(r.code).toBe(0)
    const names = ['adam', 'galore', 'badam', 'frugal-0.25', 'frugal-0', 'frugal-ada']
    for (const n of names) expect(r.stdout).toMatch(new RegExp(`\\| ${n.replace('.', '\\.')} +\\|`))
    const results = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8'))
    expect(results.runs.map((x: { name: string }) => x.name)).toEqual(names)
    for (const x of results.runs) {
      expect(x.valLoss).toBeGreaterThan(0)
      expect(x.perplexity).toBeCloseTo(Math.exp(x.valLoss), 6)
      expect(x.stateBytes).toBeGreaterThan(0)
      expect(x.msPerStep).toBeGreaterThan(0)
      expect(x.trainLoss).toHaveLength(4)
      expect(x.config.model.width).toBe(16)
    }
    const bytes = Object.fromEntries(results.runs.map((x: { name: string; stateBytes: number }) => [x.name, x.stateBytes]))
    expect(bytes['frugal-0']).toBeLessThan(bytes['frugal-0.25'])
    expect(bytes['frugal-0.25']).toBeLessThan(bytes.adam)
    expect(bytes['frugal-ada']).toBeLessThan(bytes.adam)
    for (const x of results.runs) expect(x.projectableStateBytes).toBeLessThanOrEqual(x.adamProjectableStateBytes)
    expect(results.runs[0].projectableStateBytes).toBe(results.runs[0].adamProjectableStateBytes)
    expect(readFileSync(join(out, 'loss.svg'), 'utf8')).toMatch(/^<svg[^>]*>[\s\S]*<polyline[\s\S]*<\/svg>\n$/)
    const png = PNG.sync.read(readFileSync(join(out, 'loss.png')))
    expect([png.width, png.height]).toEqual([900, 540])
    expect(r.stderr).toMatch(/adam +4\/4 +loss/)
  })

  it('--jobs 2 (two runs at a time, each in a worker thread on its own backend) gives every run of --jobs 1 bit for bit', async () => {
    const one = await run(...TINY, '--compare', '--steps', '4', '--jobs', '1', '--out', join(dir, 'jobs1'))
    const two = await run(...TINY, '--compare', '--steps', '4', '--jobs', '2', '--out', join(dir, 'jobs2'))
    expect([one.code, two.code]).toEqual([0, 0])
    expect(two.stderr).toMatch(/training 6 runs 2 at a time, each in a worker thread on 1 kernel thread/)
    expect(two.stdout).toMatch(/2 runs at a time, each on its share of the cores/)
    expect(one.stdout).not.toMatch(/runs at a time/)
    const [a, b] = ['jobs1', 'jobs2'].map((d) => JSON.parse(readFileSync(join(dir, d, 'results.json'), 'utf8')).runs as Record<string, unknown>[])
    expect(b.map((x) => x.name)).toEqual(a.map((x) => x.name)) // plan order, whichever finished first
    for (const [x, y] of a.map((x, i) => [x, b[i]]))
      for (const key of ['valLoss', 'trainLoss', 'valCurve', 'stateBytes', 'projectableStateBytes', 'config']) expect(y[key], `${x.name} ${key}`).toEqual(x[key])
    expect(b.every((x) => x.jobs === 2) && a.every((x) => x.jobs === undefined)).toBe(true)
  })

  it('--stop-after with --save, then --resume, gives the uninterrupted run', async () => {
    const ckpt = join(dir, 'resume.ckpt')
    const args = [...TINY, '--optimizer', 'galore', '--steps', '6', '--eval-every', '2']
    expect((await run(...args, '--out', join(dir, 'whole'))).code).toBe(0)
    const first = await run(...args, '--stop-after', '4', '--save', ckpt, '--out', join(dir, 'halves'))
    expect(first.code).toBe(0)
    expect(first.stderr).toMatch(/stopped after 4\/6 steps/)
    expect(existsSync(join(dir, 'halves', 'results.json'))).toBe(false)
    expect((await run('--resume', ckpt, '--out', join(dir, 'halves'))).code).toBe(0)
    const [a, b] = ['whole', 'halves'].map((d) => JSON.parse(readFileSync(join(dir, d, 'results.json'), 'utf8')).runs[0])
    expect(b.trainLoss).toEqual(a.trainLoss)
    expect(b.valCurve).toEqual(a.valCurve)
    expect(b.config).toEqual(a.config)
    expect((await run('--resume', ckpt, '--width', '32')).stderr).toMatch(/--width cannot be used with --resume/)
  })

  it('--seeds and --lr-grid run every method at every rate and seed; the tables give mean ± sd and the best rate', async () => {
    const out = join(dir, 'sweep')
    const r = await run(...TINY, '--compare', '--steps', '4', '--seeds', '2', '--lr-grid', '0.001,0.02', '--out', out)
    expect(r.code).toBe(0)
    const results = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8'))
    expect(results.seeds).toBe(2)
    expect(results.lrGrid).toEqual([0.001, 0.02])
    const runs = results.runs as { name: string; valLoss: number; config: { seed: number; schedule: { lr: number } } }[]
    expect(runs).toHaveLength(6 * 2 * 2)
    const names = ['adam', 'galore', 'badam', 'frugal-0.25', 'frugal-0', 'frugal-ada']
    for (const n of names) {
      // mean and sample sd recomputed here from the raw final losses
      const stats = [0.001, 0.02].map((lr) => {
        const v = runs.filter((x) => x.name === n && x.config.schedule.lr === lr).map((x) => x.valLoss)
        expect(runs.filter((x) => x.name === n && x.config.schedule.lr === lr).map((x) => x.config.seed)).toEqual([0, 1])
        const m = (v[0] + v[1]) / 2
        return { lr, m, sd: Math.abs(v[0] - v[1]) / Math.SQRT2 }
      })
      const win = stats[0].m <= stats[1].m ? stats[0] : stats[1]
      const cell = `${win.m.toFixed(4)} ± ${win.sd.toFixed(4)} (2)`
      expect(r.stdout).toContain(`**${cell}**`) // the grid marks the winner
      expect(r.stdout).toMatch(new RegExp(`\\| ${n.replace('.', '\\.')} +\\| +${win.lr} \\| +${cell.replace(/[.()]/g, '\\$&')} \\|`))
    }
    expect(r.stdout).toMatch(/orderings \(mean ± sd intervals apart = beyond 1 sd\):\n(  \S+ < \S+: (beyond|within) 1 sd .*\n){5}/)
    const svg = readFileSync(join(out, 'loss.svg'), 'utf8')
    expect(svg).toContain('bars: ±1 sd')
    expect(svg).toContain('mean of 2 seeds at best lr, bars ±1 sd')
  })

  it('--help prints the usage', async () => {
    const r = await run('--help')
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/^frugal-train:/)
  })
})

describe('--config', () => {
  it('reads the README benchmark configuration (comment keys allowed); flags override it', async () => {
    const file = join(__dirname, '..', 'bench.config.json')
    const c = parseCommand(['--config', file, '--steps', '7'])
    expect(c.flags.width).toBe(128)
    expect(c.flags.layers).toBe(4)
    expect(c.flags.steps).toBe(7)
    expect(c.flags.config).toBe(file)
  })
})

describe('issue 13, item 7: the command line as the README gives it', () => {
  it("the README's `pnpm --filter @frugal-ts/example-llama train -- <flags>` reaches the flags", async () => {
    expect(parseCommand(['--', '--steps', '10']).flags.steps).toBe(10)
    expect(parseCommand(['--compare', '--', '--steps', '300']).flags).toEqual({ compare: true, steps: 300 })
    expect(parseCommand(['--', 'finetune', '--steps', '3']).command).toBe('finetune')
    // for real, through pnpm (which passes the `--` on to the script)
    const r = spawnSync('pnpm', ['--filter', '@frugal-ts/example-llama', 'train', '--', '--help'], { encoding: 'utf8', cwd: join(__dirname, '..') })
    expect(r.status, r.stderr).toBe(0)
    expect(r.stdout).toMatch(/frugal-train: pre-train a tiny LLaMA/)
  })

  const numbers: [string, string[], string][] = [
    ['a negative step count', ['--steps', '-5'], 'frugal-train: --steps must be an integer ≥ 2, got "-5"'],
    ['a negative learning rate', ['--lr', '-1'], 'frugal-train: lr must be > 0, got "-1" (at --lr)'],
    ['a negative density', ['--density', '-0.5'], 'frugal-train: density must be in [0, 1], got "-0.5" (at --density)'],
    ['a hexadecimal step count', ['--steps', '0x10'], 'frugal-train: --steps must be an integer ≥ 2, got "0x10"'],
    ['a binary step count', ['--steps', '0b11'], 'frugal-train: --steps must be an integer ≥ 2, got "0b11"'],
    ['a hexadecimal learning rate', ['--lr', '0x1'], 'frugal-train: lr must be > 0, got "0x1" (at --lr)'],
    ['an empty learning rate', ['--lr', ' '], 'frugal-train: lr must be > 0, got " " (at --lr)'],
  ]
  for (const [name, argv, message] of numbers)
    it(`${name} is a clear one-line error (exit status 2)`, async () => {
      const r = await run(...argv, '--out', join(dir, 'never'))
      expect(r.code).toBe(2)
      expect(r.stderr.trim()).toBe(message)
      expect(existsSync(join(dir, 'never'))).toBe(false)
    })

  it('decimal numbers with exponents still parse', async () => {
    expect(parseCommand(['--lr', '3e-3', '--density', '.25', '--steps', '+10']).flags).toEqual({ lr: 3e-3, density: 0.25, steps: 10 })
  })

  it('--save onto a directory is refused up front: no training, no temporary file', async () => {
    const target = join(dir, 'a-dir')
    mkdirSync(target, { recursive: true })
    const r = await run(...TINY, '--steps', '4', '--save', target, '--out', join(dir, 'dir-out'))
    expect(r.code).toBe(2)
    expect(r.stderr.trim()).toBe(`frugal-train: --save ${target}: is a directory; give a file path, e.g. ${target}/run.ckpt`)
    expect(r.stderr).not.toMatch(/corpus:/)
    expect(readdirSync(target)).toEqual([])
    expect(readdirSync(dir).filter((n) => n.endsWith('.tmp'))).toEqual([])
    expect(existsSync(join(dir, 'dir-out'))).toBe(false)
  })

  it('--resume reads a library run checkpoint (saveCheckpoint), and says what is missing from one without the run metadata', async () => {
    const ckpt = join(dir, 'lib.ckpt')
    const args = [...TINY, '--optimizer', 'frugal', '--steps', '6', '--eval-every', '3']
    expect((await run(...args, '--out', join(dir, 'lib-whole'))).code).toBe(0)
    expect((await run(...args, '--stop-after', '3', '--save', ckpt, '--out', join(dir, 'lib-halves'))).code).toBe(0)
    // the file is a library run checkpoint: read it with the library, write it again with the library
    const { config } = loadRun(ckpt)
    const fresh = initParams(config.model, Key.key(0)) as unknown as Params
    const back = loadCheckpoint(ckpt, { params: fresh, state: makeOptimizer(config.optimizer, config.schedule).init(fresh) })
    expect(back.step).toBe(3)
    const again = join(dir, 'lib-again.ckpt')
    saveCheckpoint(again, back)
    expect((await run('--resume', again, '--out', join(dir, 'lib-halves'))).code).toBe(0)
    const [a, b] = ['lib-whole', 'lib-halves'].map((d) => JSON.parse(readFileSync(join(dir, d, 'results.json'), 'utf8')).runs[0])
    expect(b.trainLoss).toEqual(a.trainLoss)
    expect(b.valCurve).toEqual(a.valCurve)
    // a run checkpoint of someone else's loop: a clear message, not "checksum mismatch"
    const foreign = join(dir, 'foreign.ckpt')
    saveCheckpoint(foreign, { params: back.params, state: back.state, step: 3, metadata: { mine: true } })
    const r = await run('--resume', foreign)
    expect(r.code).toBe(2)
    expect(r.stderr.trim()).toBe(`frugal-train: --resume ${foreign}: not a frugal-train checkpoint: a run checkpoint without frugal-train's metadata (kind undefined, expected "frugal-ts/llama-run")`)
  })
})
