/**
 * Run checkpoints of `frugal-train`: the library's run checkpoint
 * (`saveCheckpoint`/`loadCheckpoint` of `@frugal-ts/frugal/node`: atomic,
 * a CRC-32 over every byte, checked against the model on write and read)
 * with the parameters, the optimizer state, the step (the data position) and,
 * as metadata, the data PRNG key, the curves so far and the run's
 * configuration. Resuming from one gives the same bits as never stopping.
 */
import { statSync } from 'node:fs'
import { Key, keep, scope } from '@frugal-ts/core'
import type { Params } from '@frugal-ts/frugal'
import { FrugalError } from '@frugal-ts/frugal'
import { loadCheckpoint, saveCheckpoint, writeFileAtomic } from '@frugal-ts/frugal/node'
import { UsageError } from './errors'
import type { LlamaParams } from './model'
import { initParams } from './model'
import { makeOptimizer } from './optimizers'
import type { RunState, TrainConfig } from './train'

const KIND = 'frugal-ts/llama-run'
const VERSION = 2

/**
 * Writes `bytes` to `file` atomically (the library's `writeFileAtomic`: temporary file, fsync, rename, fsync of the directory).
 * @example writeAtomic('out/finetune.json', bytes)
 */
export const writeAtomic = (file: string, bytes: Uint8Array): void => writeFileAtomic(file, bytes)

/** What a frugal-train checkpoint keeps beside parameters, state and step. */
interface RunMetadata {
  readonly kind: typeof KIND
  readonly version: typeof VERSION
  readonly config: string
  readonly curves: string
  readonly peakStateBytes: number
  readonly dataKey: RunState['dataKey']
}

/**
 * Refuses a `--save` target that is a directory, up front (before any training).
 * @throws UsageError `--save out: is a directory; give a file path, e.g. out/run.ckpt`
 * @example checkSaveTarget('run.ckpt')
 */
export const checkSaveTarget = (file: string): void => {
  let dir = false
  try {
    dir = statSync(file).isDirectory()
  } catch {
    // a new file
  }
  if (dir) throw new UsageError(`--save ${file}: is a directory; give a file path, e.g. ${file.replace(/\/$/, '')}/run.ckpt`)
}

/**
 * Saves a checkpoint atomically.
 * @throws UsageError for a state that does not fit the parameters or a directory (nothing is written)
 * @example saveRun('run.ckpt', config, state)
 */
export const saveRun = (file: string, config: TrainConfig, s: RunState): void => {
  const metadata: RunMetadata = {
    kind: KIND,
    version: VERSION,
    config: JSON.stringify(config),
    curves: JSON.stringify({ trainLoss: s.trainLoss, valCurve: s.valCurve }),
    peakStateBytes: s.peakStateBytes,
    dataKey: s.dataKey,
  }
  try {
    saveCheckpoint(file, { params: s.params as unknown as Params, state: s.opt, step: s.position, metadata })
  } catch (e) {
    if (e instanceof FrugalError) throw new UsageError(`--save ${file}: ${e.message}`)
    throw e
  }
}

const bad = (file: string, what: string): UsageError => new UsageError(`--resume ${file}: ${what}`)
const isRecord = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x)

/** The run's configuration from a checkpoint's metadata, checked. */
const configOf = (file: string, metadata: unknown): TrainConfig => {
  if (!isRecord(metadata) || metadata.kind !== KIND)
    throw bad(file, `not a frugal-train checkpoint: a run checkpoint without frugal-train's metadata (kind ${JSON.stringify(isRecord(metadata) ? metadata.kind : undefined)}, expected "${KIND}")`)
  if (metadata.version !== VERSION) throw bad(file, `unsupported checkpoint version ${String(metadata.version)} (expected ${VERSION})`)
  try {
    return JSON.parse(metadata.config as string) as TrainConfig
  } catch (e) {
    throw bad(file, `corrupted run description (${(e as Error).message})`)
  }
}

/**
 * Reads a checkpoint written by `saveRun` (or any library run checkpoint with
 * frugal-train's metadata), checked against the model and optimizer of the
 * configuration it holds.
 * @returns the run's configuration and state (tensors kept out of any scope)
 * @throws UsageError (one line) for a missing, truncated, corrupted or foreign file
 * @example const { config, state } = loadRun('run.ckpt')
 */
export const loadRun = (file: string): { config: TrainConfig; state: RunState } => {
  let config: TrainConfig | undefined
  let run
  try {
    // the model and optimizer the checkpoint must fit, made from its own configuration (released again by the scope)
    run = scope(() =>
      loadCheckpoint<Params, unknown, RunMetadata>(file, ({ metadata }) => {
        config = configOf(file, metadata)
        const fresh = initParams(config.model, Key.key(0)) as unknown as Params
        return { params: fresh, state: makeOptimizer(config.optimizer, config.schedule).init(fresh) }
      }),
    )
  } catch (e) {
    if (e instanceof UsageError) throw e
    if (e instanceof FrugalError) throw bad(file, e.message.startsWith(`${file}: `) ? e.message.slice(file.length + 2) : e.message)
    throw e
  }
  const m = run.metadata
  let curves: { trainLoss: number[]; valCurve: { step: number; loss: number }[] }
  try {
    curves = JSON.parse(m.curves)
  } catch (e) {
    throw bad(file, `corrupted run description (${(e as Error).message})`)
  }
  if (!Array.isArray(curves.trainLoss) || curves.trainLoss.length !== run.step) throw bad(file, `corrupted data position ${run.step}`)
  const dataKey = m.dataKey
  if (!isRecord(dataKey) || dataKey.dtype !== 'int32' || dataKey.size !== 2) throw bad(file, 'corrupted data key (expected int32[2])')
  const state: RunState = {
    params: run.params as unknown as LlamaParams,
    opt: run.state,
    position: run.step,
    dataKey,
    trainLoss: curves.trainLoss,
    valCurve: curves.valCurve ?? [],
    peakStateBytes: Number(m.peakStateBytes) || 0,
  }
  keep([state.params, state.opt, state.dataKey])
  return { config: config as TrainConfig, state }
}
