/**
 * `@frugal-ts/frugal/node`: checkpoint files for Node. Every file is written
 * atomically (temporary file, fsync, rename, fsync of the directory), carries
 * a CRC-32 over all of its bytes, and is checked against the model on both
 * write and read.
 * @example
 * import { loadCheckpoint, saveCheckpoint } from '@frugal-ts/frugal/node'
 * saveCheckpoint('run.ckpt', { params, state, step: 100, metadata: { seed: 1 } })
 * const run = loadCheckpoint('run.ckpt', { params: freshParams, state: optimizer.init(freshParams) })
 * @example
 * import { readOptimizerState, writeOptimizerState } from '@frugal-ts/frugal/node'
 * writeOptimizerState('optimizer.ckpt', state, params)
 * const restored = readOptimizerState('optimizer.ckpt', params, { like: optimizer.init(params) })
 * @packageDocumentation
 * @module @frugal-ts/frugal/node
 */
export type { WriteOptimizerStateOptions } from './checkpointNode'
export { loadCheckpoint, readOptimizerState, saveCheckpoint, writeFileAtomic, writeOptimizerState } from './checkpointNode'
export type { RunCheckpoint, RunCheckpointLike } from './runCheckpoint'
