/**
 * The pre-training loop: the library's `trainStep` (`valueAndGrad` of the
 * language-model loss, the optimizer's `update`, `applyUpdates`, compiled with
 * params and state donated, FRUGAL's refresh run on the host when due, old
 * tensors released), batches drawn from the run's key, evaluation on fixed
 * validation windows.
 */
import type { Tensor } from '@frugal-ts/core'
import { Key, dispose, fromArray, keep, scope } from '@frugal-ts/core'
import { jit, valueAndGrad } from '@frugal-ts/autodiff'
import type { GradientTransformation, Params } from '@frugal-ts/frugal'
import { stateBytes, trainStep } from '@frugal-ts/frugal'
import type { Corpus } from './data'
import { sampleBatch, validationWindows } from './data'
import type { LlamaParams, ModelConfig } from './model'
import { initParams, lmLoss } from './model'
import type { OptimizerConfig, ScheduleConfig } from './optimizers'
import { makeOptimizer } from './optimizers'

/** Everything that determines a pre-training run. */
export interface TrainConfig {
  /** `sotu`, a text file or a folder of .txt files (see `loadCorpus`) */
  readonly corpus: string
  readonly model: ModelConfig
  readonly batch: number
  readonly seed: number
  readonly schedule: ScheduleConfig
  readonly optimizer: OptimizerConfig
  /** steps between validation evaluations (the last step is always evaluated) */
  readonly evalEvery: number
  /** fixed validation windows of context + 1 tokens */
  readonly evalWindows: number
}

/** A run in progress: what a checkpoint holds. */
export interface RunState {
  readonly params: LlamaParams
  readonly opt: unknown
  /** steps done: the position of the next batch in the run's batch sequence */
  readonly position: number
  /** the PRNG key batches are drawn from */
  readonly dataKey: Tensor
  /** training loss of every step done */
  readonly trainLoss: readonly number[]
  /** validation loss at the evaluated steps */
  readonly valCurve: readonly { readonly step: number; readonly loss: number }[]
  /** the largest optimizer state seen so far, in bytes */
  readonly peakStateBytes: number
}

/** What the loop reports after each step. */
export interface StepInfo {
  readonly step: number
  readonly steps: number
  readonly loss: number
  readonly ms: number
  readonly valLoss?: number
}

/** The trainer of one configuration on one corpus. */
export interface Trainer {
  readonly config: TrainConfig
  /** a fresh run: parameters and data key from the seed, the optimizer's initial state */
  init(): RunState
  /** one step; the input state's tensors are consumed (donated or disposed) */
  step(s: RunState): { state: RunState; loss: number; ms: number; cpuMs: number }
  /** mean validation loss of parameters over the fixed validation windows */
  evaluate(params: LlamaParams): number
}

/**
 * Builds the jitted step, refresh path and evaluation of a configuration.
 * @param config the run's configuration
 * @param corpus byte tokens (already checked against the context)
 * @returns a `Trainer`
 * @example const t = createTrainer(config, corpus); let s = t.init(); s = t.step(s).state
 */
export const createTrainer = (config: TrainConfig, corpus: Corpus): Trainer => {
  const { model, batch } = config
  const heads = model.heads
  const opt: GradientTransformation<any> = makeOptimizer(config.optimizer, config.schedule)
  const loss = (p: LlamaParams, tokens: Tensor) => lmLoss(p, tokens, heads)
  const train = trainStep(loss, opt)
  const evalLoss = jit(loss)
  const windows = validationWindows(corpus.validation, model.context, config.evalWindows)

  const init = (): RunState => {
    const root = Key.key(config.seed)
    const [paramKey, dataKey] = Key.splitKeys(root, 2)
    const params = keep(initParams(model, paramKey))
    const state = keep(scope(() => opt.init(params as unknown as Params)))
    return { params, opt: state, position: 0, dataKey: keep(dataKey), trainLoss: [], valCurve: [], peakStateBytes: stateBytes(state) }
  }

  const step = (s: RunState): { state: RunState; loss: number; ms: number; cpuMs: number } => {
    const t0 = performance.now()
    const c0 = process.cpuUsage()
    const tokens = sampleBatch(corpus.train, s.dataKey, s.position, batch, model.context)
    const input = fromArray(tokens, [batch, model.context + 1], 'int32')
    const r = train(s.params, s.opt, input)
    dispose(input)
    const ms = performance.now() - t0
    const c = process.cpuUsage(c0)
    const peak = r.refreshed || s.position === 0 ? Math.max(s.peakStateBytes, stateBytes(r.state)) : s.peakStateBytes
    const state: RunState = { ...s, params: r.params, opt: r.state, position: s.position + 1, trainLoss: [...s.trainLoss, r.loss], peakStateBytes: peak }
    return { state, loss: r.loss, ms, cpuMs: (c.user + c.system) / 1000 }
  }

  const evaluate = (params: LlamaParams): number => {
    const n = config.evalWindows
    const w = model.context + 1
    let total = 0
    for (let i = 0; i < n; i += batch) {
      const b = Math.min(batch, n - i)
      total += b * scope(() => evalLoss(params, fromArray(windows.subarray(i * w, (i + b) * w), [b, w], 'int32')).item())
    }
    return total / n
  }

  return { config, init, step, evaluate }
}

/** Options of `runTraining`. */
export interface RunOptions {
  /** continue this run instead of starting one */
  readonly resume?: RunState
  /** stop once this many steps are done (default: the schedule's steps) */
  readonly stopAfter?: number
  /** called after every step */
  readonly onStep?: (info: StepInfo) => void
  /** called with the run state every `saveEvery` steps and at the end */
  readonly onSave?: (s: RunState) => void
  readonly saveEvery?: number
}

/**
 * Trains until the schedule's last step (or `stopAfter`), evaluating every
 * `evalEvery` steps and at the end.
 * @returns the final run state, and the wall-clock and CPU ms per step of the steps after the first (which traces and compiles)
 * @example const { state } = runTraining(createTrainer(config, corpus))
 */
export const runTraining = (t: Trainer, o: RunOptions = {}): { state: RunState; msPerStep: number; cpuMsPerStep: number } => {
  const steps = t.config.schedule.steps
  const stop = Math.min(o.stopAfter ?? steps, steps)
  let s = o.resume ?? t.init()
  let timed = 0
  let cpu = 0
  let timedSteps = 0
  while (s.position < stop) {
    const r = t.step(s)
    s = r.state
    if (s.position > 1) (timed += r.ms), (cpu += r.cpuMs), timedSteps++
    let valLoss: number | undefined
    if (s.position % t.config.evalEvery === 0 || s.position === steps) {
      valLoss = t.evaluate(s.params)
      s = { ...s, valCurve: [...s.valCurve, { step: s.position, loss: valLoss }] }
    }
    o.onStep?.({ step: s.position, steps, loss: r.loss, ms: r.ms, valLoss })
    if (o.onSave && o.saveEvery && s.position % o.saveEvery === 0 && s.position < stop) o.onSave(s)
  }
  if (o.onSave) o.onSave(s)
  return { state: s, msPerStep: timedSteps > 0 ? timed / timedSteps : NaN, cpuMsPerStep: timedSteps > 0 ? cpu / timedSteps : NaN }
}

/**
 * Releases a run state's tensors.
 * @example disposeRun(state)
 */
export const disposeRun = (s: RunState): void => dispose([s.params, s.opt, s.dataKey])
