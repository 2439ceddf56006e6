/**
 * The README's commands: the CLI (`pnpm start -- …`, i.e. `node --import tsx
 * --conditions=source src/cli.ts …`) prints the comparison table on
 * tfjs-wasm, and refuses bad flags saying which.
 */
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const root = fileURLToPath(new URL('..', import.meta.url))
const cli = (...args: string[]) =>
  spawnSync(process.execPath, ['--import', 'tsx', '--conditions=source', 'src/cli.ts', ...args], { cwd: root, encoding: 'utf8', timeout: 500_000 })

describe('the CLI', () => {
  it('--backend wasm --epochs 2 --optimizers tf.train.adam,frugal: a table of both', () => {
    const r = cli('--backend', 'wasm', '--epochs', '2', '--optimizers', 'tf.train.adam,frugal')
    expect(r.status, r.stderr).toBe(0)
    const rows = r.stdout.split('\n').filter((l) => /^\| (tf\.train\.adam|frugal) \| wasm \|/.test(l))
    console.info(r.stdout)
    expect(rows).toHaveLength(2)
    expect(rows[1]).toMatch(/\| 68,732 \(0\.253×\) \| \d+\.\d\d \(\d+\.\d\d×\) \|$/)
  }, 600_000)

  it('bad flags exit 2 naming the flag', () => {
    const a = cli('--backend', 'webgl')
    expect(a.status).toBe(2)
    expect(a.stderr).toContain('--backend must be cpu or wasm, got "webgl"')
    const b = cli('--optimizers', 'adam,sgd')
    expect(b.status).toBe(2)
    expect(b.stderr).toContain('--optimizers: unknown optimizer "sgd"')
    expect(cli('--epochs', '0').stderr).toContain('--epochs must be a positive integer')
  })
})
