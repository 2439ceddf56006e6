/**
 * `pnpm readme-tables`: regenerates every marked results table in the READMEs
 * (and bench/results/**.md) from the committed results.json files;
 * `--check` only lists the files that differ and exits 1 if any do.
 */
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { staleFiles } from '../examples/llama/src/readmeTables'

const root = fileURLToPath(new URL('..', import.meta.url))
const stale = staleFiles(root)
if (process.argv.includes('--check')) {
  for (const s of stale) console.error(`${s.file}: a results table differs from its committed results (run pnpm readme-tables)`)
  process.exit(stale.length ? 1 : 0)
}
for (const s of stale) writeFileSync(join(root, s.file), s.rendered)
console.log(stale.length ? `regenerated ${stale.map((s) => s.file).join(', ')}` : 'every results table is current')
