/**
 * Child process of checkpointKill.test.ts: writes AdamW-shaped checkpoints of a
 * large parameter (versions `from`, `from + 1`, … : every leaf of version v
 * is filled with v) over `file` in a loop until it is killed, saying on
 * stdout when each write starts, opens its file, renames it and ends. Mode `plain` writes with
 * `writeFileSync` instead (not atomic), so that the test can show it tells
 * the two apart.
 *
 * node --import tsx --conditions=source checkpointWriter.ts <file> <from> <n> [atomic|plain]
 */
import fs, { writeFileSync } from 'node:fs'
import { syncBuiltinESMExports } from 'node:module'
import { full, zeros } from '@frugal-ts/core'
import { encodeOptimizerStateBinary } from '../../src/checkpoint'
import { writeOptimizerState } from '../../src/checkpointNode'

// instrumentation only (the write code is untouched): say when a file is opened for writing
// and when a rename lands, so that the parent can kill inside the I/O rather than the encoding
const { openSync, renameSync } = fs
fs.openSync = ((path: fs.PathLike, flags?: fs.OpenMode, mode?: fs.Mode) => {
  if (flags === 'w') process.stdout.write(`open ${performance.now()}\n`)
  return openSync(path, flags as fs.OpenMode, mode)
}) as typeof fs.openSync
fs.renameSync = (from: fs.PathLike, to: fs.PathLike) => {
  renameSync(from, to)
  process.stdout.write(`renamed ${performance.now()}\n`)
}
syncBuiltinESMExports()

const [file, from, n, mode = 'atomic'] = process.argv.slice(2)
const params = { w: zeros([Number(n)]) }
/** The state of version `v`, shaped as AdamW's (first and second moments, step count), every leaf filled with v. */
const version = (v: number) => ({ mu: { w: full([Number(n)], v) }, nu: { w: full([Number(n)], v) }, count: full([], v, 'int32') })

for (let v = Number(from); ; v++) {
  const s = version(v)
  const t0 = performance.now()
  process.stdout.write(`writing ${v}\n`)
  if (mode === 'plain') {
    const bytes = encodeOptimizerStateBinary(s, params)
    process.stdout.write(`open ${performance.now()}\n`)
    writeFileSync(file, bytes)
    process.stdout.write(`renamed ${performance.now()}\n`)
  }
  else writeOptimizerState(file, s, params)
  process.stdout.write(`done ${v} ${(performance.now() - t0).toFixed(1)}\n`)
}
