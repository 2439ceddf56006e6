/**
 * A worker thread of `trainInWorkers`: its own `cpu` backend (wasm SIMD on
 * the threads it was given), then one run per message, its progress and
 * result posted back.
 */
import { parentPort, workerData } from 'node:worker_threads'
import { cpu, registerBackend, setBackend } from '@frugal-ts/core'
import type { FromWorker, WorkerInit } from './runs'
import { trainPlanned } from './runs'
import type { TrainConfig } from './train'
import { disposeRun } from './train'

const init = workerData as WorkerInit
const port = parentPort!
registerBackend('cpu-run', () => cpu({ wasm: true, threads: init.threads }))
setBackend('cpu-run')
const post = (m: FromWorker) => port.postMessage(m)

port.on('message', ({ index, config }: { index: number; config: TrainConfig }) => {
  try {
    const { result, state } = trainPlanned(config, init.corpus, { onStep: (info) => post({ t: 'step', index, info }) })
    disposeRun(state)
    post(result ? { t: 'done', index, result } : { t: 'error', index, message: 'the run stopped before its last step' })
  } catch (e) {
    post({ t: 'error', index, message: (e as Error).message.split('\n')[0] })
  }
})
