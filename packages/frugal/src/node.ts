/**
 * `@frugal-ts/frugal/node`: checkpoint files for Node (atomic writes: temp file + rename).
 * @packageDocumentation
 */
export type { WriteOptimizerStateOptions } from './checkpointNode'
export { readOptimizerState, writeOptimizerState } from './checkpointNode'
