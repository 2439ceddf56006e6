/**
 * `pnpm --filter @frugal-ts/example-tfjs-layers start [--backend cpu|wasm]
 * [--epochs N] [--optimizers tf.train.adam,adam,frugal]`: trains the
 * sentiment classifier with `model.fit` under each optimizer on tfjs-cpu or
 * tfjs-wasm and prints accuracy, optimizer-state bytes and ms per batch.
 */
import '@tensorflow/tfjs-backend-cpu'
import { createRequire } from 'node:module'
import { dirname } from 'node:path'
import { parseArgs } from 'node:util'
import * as tf from '@tensorflow/tfjs-core'
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm'
import { compare, contenders, table } from './compare'
import type { Contender } from './compare'
import { dataset } from './data'
import { sentimentFiles } from './node'

const { values } = parseArgs({
  options: {
    backend: { type: 'string', default: 'cpu' },
    epochs: { type: 'string', default: '6' },
    optimizers: { type: 'string', default: 'tf.train.adam,adam,frugal' },
  },
})
const fail = (msg: string): never => {
  process.stderr.write(`${msg}\n`)
  process.exit(2)
}
const backend = values.backend!
if (backend !== 'cpu' && backend !== 'wasm') fail(`--backend must be cpu or wasm, got ${JSON.stringify(backend)}`)
const epochs = Number(values.epochs)
if (!Number.isInteger(epochs) || epochs < 1) fail(`--epochs must be a positive integer, got ${JSON.stringify(values.epochs)}`)
const optimizers = values.optimizers!.split(',').map((s) => s.trim()) as Contender[]
for (const o of optimizers) if (!(o in contenders)) fail(`--optimizers: unknown optimizer ${JSON.stringify(o)} (known: ${Object.keys(contenders).join(', ')})`)

if (backend === 'wasm') setWasmPaths(`${dirname(createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm'))}/`)
await tf.setBackend(backend)
await tf.ready()
const data = dataset(sentimentFiles())
process.stderr.write(`sentiment@5.0.2: ${data.train.rows} training and ${data.test.rows} test sentences, ${data.features} hashed word features; tfjs ${backend}, ${epochs} epochs\n`)
const rows = await compare(data, { optimizers, epochs, onResult: (r) => process.stderr.write(`  ${r.optimizer}: ${(100 * r.accuracy).toFixed(1)} %\n`) })
process.stdout.write(`${table(rows)}\n`)
