/**
 * The browser page: the comparison on tfjs-webgl. Results go to a table and,
 * for the end-to-end test, to `document.body.dataset` (`ready`, `done`,
 * `results` as JSON, `error`).
 */
import '@tensorflow/tfjs-backend-webgl'
import * as tf from '@tensorflow/tfjs-core'
import amazon from 'sentiment/test/fixtures/amazon.json'
import imdb from 'sentiment/test/fixtures/imdb.json'
import yelp from 'sentiment/test/fixtures/yelp.json'
import { compare } from './compare'
import type { Result } from './compare'
import { dataset } from './data'
import type { Row } from './data'

const $ = (id: string) => document.getElementById(id)!
const status = (s: string) => void ($('status').textContent = s)

const render = (rows: readonly Result[]) => {
  const base = rows[0]
  $('results').innerHTML =
    '<table><tr><th>optimizer</th><th>tfjs backend</th><th>test accuracy</th><th>loss (epoch 1 → last)</th><th>state bytes</th><th>ms per fit batch</th></tr>' +
    rows
      .map(
        (r) =>
          `<tr data-optimizer="${r.optimizer}"><td>${r.optimizer}</td><td>${r.backend}</td><td>${(100 * r.accuracy).toFixed(1)} %</td>` +
          `<td>${r.firstLoss.toFixed(3)} → ${r.lastLoss.toFixed(3)}</td><td>${r.stateBytes.toLocaleString('en-US')} (${(r.stateBytes / base.stateBytes).toFixed(3)}×)</td>` +
          `<td>${r.msPerBatch.toFixed(2)} (${(r.msPerBatch / base.msPerBatch).toFixed(2)}×)</td></tr>`,
      )
      .join('') +
    '</table>'
}

const run = async () => {
  const epochs = Number(($('epochs') as HTMLInputElement).value)
  if (!Number.isInteger(epochs) || epochs < 1 || epochs > 20) {
    $('error').textContent = `epochs must be an integer from 1 to 20, got ${($('epochs') as HTMLInputElement).value}`
    return
  }
  document.body.dataset.done = 'false'
  $('error').textContent = ''
  const data = dataset([amazon, imdb, yelp] as Row[][])
  status(`training on tfjs-${tf.getBackend()}: ${data.train.rows} training, ${data.test.rows} test sentences…`)
  const rows: Result[] = []
  await compare(data, {
    optimizers: ['tf.train.adam', 'frugal'],
    epochs,
    onResult: (r) => {
      rows.push(r)
      render(rows)
    },
  })
  document.body.dataset.results = JSON.stringify(rows)
  document.body.dataset.done = 'true'
  status(`done on tfjs-${tf.getBackend()}`)
}

const main = async () => {
  if (!(await tf.setBackend('webgl'))) throw new Error('tfjs-webgl could not start: this browser has no WebGL')
  await tf.ready()
  $('start').addEventListener('click', () => run().catch(fail))
  document.body.dataset.ready = 'true'
  status(`ready (tfjs-${tf.getBackend()})`)
  if (new URLSearchParams(location.search).has('autostart')) await run()
}

const fail = (e: unknown) => {
  $('error').textContent = String((e as Error)?.message ?? e)
  document.body.dataset.error = String((e as Error)?.message ?? e)
  document.body.dataset.done = 'true'
}

main().catch(fail)
