/**
 * `@frugal-ts/frugal/node`: checkpoint files for Node (atomic writes: temp file + rename).
 * @example
 * import { readOptimizerState, writeOptimizerState } from '@frugal-ts/frugal/node'
 * writeOptimizerState('optimizer.json', state, params)
 * const restored = readOptimizerState<typeof state>('optimizer.json', params)
 * @packageDocumentation
 * @module @frugal-ts/frugal/node
 */
export type { WriteOptimizerStateOptions } from './checkpointNode'
export { readOptimizerState, writeOptimizerState } from './checkpointNode'
