#!/usr/bin/env node
// Runs the TypeScript CLI through tsx with the `source` export condition (the
// workspace packages export their src/ under it), passing every argument on.
import { spawnSync } from 'node:child_process'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const here = dirname(fileURLToPath(import.meta.url))
const cli = join(here, '..', 'src', 'cli.ts')
const r = spawnSync(process.execPath, ['--import', 'tsx', '--conditions=source', cli, ...process.argv.slice(2)], {
  stdio: 'inherit',
  cwd: process.cwd(),
})
process.exit(r.status ?? 1)
