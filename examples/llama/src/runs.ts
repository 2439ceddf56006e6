/**
 * Training the planned runs: one run to its end (`trainPlanned`, the same in
 * this thread and in a worker), and a plan of independent runs spread over
 * worker threads (`trainInWorkers`), each worker with its own `cpu` backend
 * on its share of the cores. Runs are deterministic and the wasm kernels give
 * the same bits on any thread count, so a run's result does not depend on
 * how many ran at once.
 */
import { createRequire } from 'node:module'
import { availableParallelism } from 'node:os'
import { dirname, join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { Worker } from 'node:worker_threads'
import { feedValidation, peakCount, stateCount } from './compare'
import type { Corpus } from './data'
import type { RunResult } from './report'
import { resultOf, runName } from './report'
import type { RunOptions, RunState, StepInfo, TrainConfig } from './train'
import { createTrainer, runTraining } from './train'

/**
 * Trains one planned run from `o.resume` (else from its seed) until its last
 * step or `o.stopAfter`. The result is null when the run stopped early (the
 * state is then what to save); the caller releases the state.
 * @example const { result, state } = trainPlanned(config, corpus); disposeRun(state)
 */
export const trainPlanned = (config: TrainConfig, corpus: Corpus, o: RunOptions = {}): { result: RunResult | null; state: RunState } => {
  const trainer = feedValidation(createTrainer(config, corpus))
  const start = o.resume ?? trainer.init()
  const atStart = stateCount(start.opt, start.params, config.optimizer.optimizer === 'adam')
  const { state, msPerStep, cpuMsPerStep } = runTraining(trainer, { ...o, resume: start })
  if (state.position < config.schedule.steps) return { result: null, state }
  return { result: resultOf(runName(config.optimizer), config, state, msPerStep, cpuMsPerStep, peakCount(atStart, state.peakStateBytes)), state }
}

/**
 * How many runs to train at once: `--jobs`, else one per core, never more
 * than there are runs (at least 1).
 * @example jobsFor(undefined, 6, 2) // 2
 */
export const jobsFor = (flag: number | undefined, runs: number, cores = availableParallelism()): number => Math.max(1, Math.min(flag ?? cores, runs))

/**
 * The threads each of `jobs` concurrent runs gets: the cores split evenly, at least 1.
 * @example threadsPerJob(2, 2) // 1
 */
export const threadsPerJob = (jobs: number, cores = availableParallelism()): number => Math.max(1, Math.floor(cores / jobs))

/** What a worker is started with. */
export interface WorkerInit {
  readonly corpus: Corpus
  /** kernel threads of the worker's `cpu` backend */
  readonly threads: number
}

/** Messages from a worker. */
export type FromWorker =
  | { readonly t: 'step'; readonly index: number; readonly info: StepInfo }
  | { readonly t: 'done'; readonly index: number; readonly result: RunResult }
  | { readonly t: 'error'; readonly index: number; readonly message: string }

/** Hooks of `trainInWorkers`. */
export interface WorkerHooks {
  /** a run is handed to a worker */
  readonly onStart?: (index: number) => void
  readonly onStep?: (index: number, info: StepInfo) => void
  /** a run finished (in the order they finish) */
  readonly onDone?: (index: number, result: RunResult) => void
}

/** tsx's ESM API (its `register()` installs the TypeScript hooks on the calling thread) */
const tsxApi = (): string => pathToFileURL(join(dirname(createRequire(import.meta.url).resolve('tsx/package.json')), 'dist/esm/api/index.mjs')).href

/**
 * Trains every configuration on `jobs` worker threads, each with its own
 * `cpu` backend (wasm SIMD, `threads` kernel threads), handing the next run
 * to whichever worker is free. Rejects with the first run's error (naming
 * the run), after stopping the other workers.
 * @returns the results in the order of `configs`, each with `jobs` (its ms/step shared the machine)
 * @example const results = await trainInWorkers(configs, corpus, 2, 1)
 */
export const trainInWorkers = (configs: readonly TrainConfig[], corpus: Corpus, jobs: number, threads: number, hooks: WorkerHooks = {}): Promise<RunResult[]> =>
  new Promise((resolve, reject) => {
    const results: (RunResult | undefined)[] = configs.map(() => undefined)
    const init: WorkerInit = { corpus, threads }
    const workers: Worker[] = []
    const retired = new Set<Worker>() // terminated for want of runs: their exit status 1 is not a failure
    let next = 0
    let finished = 0
    let failed = false
    const fail = (e: Error) => {
      if (failed) return
      failed = true
      for (const w of workers) void w.terminate()
      reject(e)
    }
    const give = (w: Worker) => {
      if (next >= configs.length) {
        retired.add(w)
        return void w.terminate()
      }
      const index = next++
      hooks.onStart?.(index)
      w.postMessage({ index, config: configs[index] })
    }
    // tsx's hooks registered on the worker's thread first, then the TypeScript entry (`--import tsx` does not reach a worker's entry point)
    const entry = `import(${JSON.stringify(tsxApi())}).then((tsx) => { tsx.register(); return import(${JSON.stringify(new URL('./runWorker.ts', import.meta.url).href)}) })`
    for (let j = 0; j < Math.min(jobs, configs.length); j++) {
      const w = new Worker(entry, { eval: true, workerData: init, execArgv: ['--conditions=source'] })
      workers.push(w)
      w.on('message', (m: FromWorker) => {
        if (failed) return
        if (m.t === 'step') return hooks.onStep?.(m.index, m.info)
        if (m.t === 'error') return fail(new Error(`${runName(configs[m.index].optimizer)} (run ${m.index + 1} of ${configs.length}): ${m.message}`))
        const result = { ...m.result, jobs }
        results[m.index] = result
        hooks.onDone?.(m.index, result)
        if (++finished < configs.length) return give(w)
        for (const x of workers) (retired.add(x), void x.terminate())
        resolve(results as RunResult[])
      })
      w.on('error', (e) => fail(e))
      w.on('exit', (code) => {
        if (code !== 0 && !retired.has(w) && !failed && finished < configs.length) fail(new Error(`a training worker exited with status ${code}`))
      })
      give(w)
    }
  })
