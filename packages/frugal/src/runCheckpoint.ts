import type { Leaf } from '@frugal-ts/core'
import { Tensor, Tree, decodeTreeBinary, encodeTreeBinary } from '@frugal-ts/core'
import { openBinary, sealBinary, wrap } from './checkpoint'
import { FrugalError } from './FrugalError'
import type { Params } from './GradientTransformation'
import { mismatch, showLeaf } from './internal/treeChecks'
import { checkLike, checkStateFitsParams } from './internal/stateFits'

/**
 * Checkpoints of a whole training run: the parameters, the optimizer state,
 * the step and the user's metadata (data position, PRNG keys, curves, the
 * configuration), as one binary blob with a CRC-32 over every byte. Both ends
 * check the run against the model: the state must belong to the parameters
 * when it is written, and the parameters and state read back must have the
 * structure, shapes and dtypes of `like`. Pure and browser-safe; the files
 * are `saveCheckpoint`/`loadCheckpoint` in `@frugal-ts/frugal/node`.
 */

const KIND = 'frugal-ts/run'
const VERSION = 1

/**
 * What a run checkpoint holds.
 * @example const ckpt: RunCheckpoint<Params, AdamState> = { params, state, step: 100, metadata: { dataKey, lossCurve: JSON.stringify(losses) } }
 */
export interface RunCheckpoint<P extends Params = Params, S = unknown, M = unknown> {
  /** the parameters (a tree of tensors) */
  readonly params: P
  /** the optimizer state that belongs to them */
  readonly state: S
  /** steps done (a non-negative integer) */
  readonly step: number
  /** anything else the run needs to go on: a tree of tensors, numbers, strings, booleans and nulls (default null) */
  readonly metadata?: M
}

/**
 * What a run checkpoint is read against: fresh parameters of the model and
 * `optimizer.init(params)`, or a function of the checkpoint's step and
 * metadata that makes them (when the model's sizes are in the metadata).
 * @example const like: RunCheckpointLike<Params, AdamState> = { params: initParams(config), state: opt.init(initParams(config)) }
 */
export type RunCheckpointLike<P extends Params, S> =
  | { readonly params: P; readonly state: S }
  | ((saved: { readonly step: number; readonly metadata: unknown }) => { readonly params: P; readonly state: S })

const isRecord = (u: unknown): u is Record<string, unknown> => typeof u === 'object' && u !== null && !Array.isArray(u) && !(u instanceof Tensor)

/**
 * A run as checkpoint bytes, checked first: `step` a non-negative integer,
 * `params` a tree of tensors, `state` fitting them.
 * @throws FrugalError naming what does not fit (before anything is encoded)
 * @example const bytes = encodeRunCheckpoint({ params, state, step: 10, metadata: { seed: 1 } })
 */
export const encodeRunCheckpoint = <P extends Params, S, M>(run: RunCheckpoint<P, S, M>): Uint8Array => {
  if (!isRecord(run)) throw new FrugalError(`the run must be an object {params, state, step, metadata}, got ${run === null ? 'null' : typeof run} (at checkpoint)`)
  for (const k of Object.keys(run))
    if (!['params', 'state', 'step', 'metadata'].includes(k))
      throw new FrugalError(`unknown field '${k}' (at checkpoint.${k}); a run checkpoint holds params, state, step and metadata`)
  const { params, state, step, metadata = null } = run
  if (!Number.isSafeInteger(step) || step < 0) throw new FrugalError(`step must be a non-negative integer, got ${String(step)} (at checkpoint.step)`)
  for (const [p, x] of Tree.leavesWithPath(params as Tree.Tree<unknown>))
    if (!(x instanceof Tensor))
      throw new FrugalError(`params must be a tree of tensors, got ${typeof x} at ${Tree.pathString(p) || '<root>'} (at checkpoint.params.${Tree.pathString(p) || '<root>'})`)
  checkStateFitsParams(state, params)
  return sealBinary(wrap(() => encodeTreeBinary({ kind: KIND, version: VERSION, step, metadata, params, state } as unknown as Tree.Tree<Leaf>)))
}

/**
 * The run of checkpoint bytes, checked: the checksum, the format, then the
 * parameters against `like.params` (structure, shapes and dtypes exactly) and
 * the state against `like.state` (structure and dtypes) and the parameters.
 * @param where what to call the bytes in messages (a file name)
 * @throws FrugalError for corrupted bytes, another format, or a run of another model or optimizer, naming the path
 * @example const run = decodeRunCheckpoint(bytes, { params: fresh, state: opt.init(fresh) })
 */
export const decodeRunCheckpoint = <P extends Params, S, M = unknown>(
  bytes: Uint8Array,
  like: RunCheckpointLike<P, S>,
  where = 'the checkpoint',
): Required<RunCheckpoint<P, S, M>> => {
  if (!(bytes instanceof Uint8Array)) throw new FrugalError(`bytes must be a Uint8Array, got ${typeof bytes} (at decodeRunCheckpoint.bytes)`)
  if (like === undefined || like === null || (typeof like !== 'function' && typeof like !== 'object'))
    throw new FrugalError(`like is required: { params: freshParams, state: optimizer.init(freshParams) } (at ${where}.like)`)
  const decoded = decodeTreeBinary(openBinary(bytes, where))
  if (decoded._tag === 'Left') throw new FrugalError(`${where}: not a valid checkpoint: ${decoded.left.message}`)
  const doc = decoded.right
  if (!isRecord(doc)) throw new FrugalError(`${where}: not a run checkpoint: expected a tree {kind: '${KIND}', …} (at <root>)`)
  if (doc.kind === 'frugal-ts/optimizer-state')
    throw new FrugalError(`${where}: an optimizer-state checkpoint (writeOptimizerState), not a run checkpoint: it holds no parameters; read it with readOptimizerState (at kind)`)
  if (doc.kind !== KIND) throw new FrugalError(`${where}: not a run checkpoint: kind ${JSON.stringify(doc.kind)}, expected "${KIND}" (at kind)`)
  if (doc.version !== VERSION) throw new FrugalError(`${where}: unsupported run checkpoint version ${JSON.stringify(doc.version)} (this build reads ${VERSION}) (at version)`)
  const step = doc.step
  if (typeof step !== 'number' || !Number.isSafeInteger(step) || step < 0) throw new FrugalError(`${where}: step must be a non-negative integer, got ${JSON.stringify(step)} (at step)`)
  const metadata = doc.metadata ?? null
  const expected = typeof like === 'function' ? like({ step, metadata }) : like
  if (!isRecord(expected) || !('params' in expected) || !('state' in expected))
    throw new FrugalError(`like must give { params, state }, got ${expected === null ? 'null' : typeof expected} (at ${where}.like)`)
  const d = mismatch(doc.params, expected.params)
  if (d !== null)
    throw new FrugalError(
      `${where}: the parameters do not fit the model: the checkpoint has ${showLeaf(d[1])} at ${d[0] || '<root>'}, the model ${showLeaf(d[2])} (at params${d[0] ? `.${d[0]}` : ''})`,
    )
  checkLike(expected.state, doc.state, 'state')
  checkStateFitsParams(doc.state, doc.params as Params)
  return { params: doc.params as unknown as P, state: doc.state as S, step, metadata: metadata as M }
}
