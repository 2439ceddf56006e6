import { closeSync, fsyncSync, openSync, readFileSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs'
import { basename, dirname, join } from 'node:path'
import type { DecodeOptimizerStateOptions } from './checkpoint'
import { decodeBinaryAt, decodeJsonAt, encodeOptimizerState, encodeOptimizerStateBinary, requireLike } from './checkpoint'
import { FrugalError } from './FrugalError'
import type { Params } from './GradientTransformation'
import type { RunCheckpoint, RunCheckpointLike } from './runCheckpoint'
import { decodeRunCheckpoint, encodeRunCheckpoint } from './runCheckpoint'

/**
 * Node-only checkpoint files (kept apart from `checkpoint`, so that the rest
 * of the package imports in browsers). Every file is written atomically and
 * carries a CRC-32 over all of its bytes.
 */

/**
 * Options of `writeOptimizerState`.
 * @example writeOptimizerState('opt.json', state, params, { format: 'json' })
 * @see https://arxiv.org/abs/2411.07837 (FRUGAL)
 */
export interface WriteOptimizerStateOptions {
  /** `binary` (default: raw buffers, compact) or `json` (readable) */
  readonly format?: 'binary' | 'json'
}

let counter = 0

const errnoOf = (e: unknown): string | undefined => (e as NodeJS.ErrnoException)?.code

/** Refuses a target that is a directory, before anything is written. */
const checkTarget = (file: string, at: string): void => {
  if (typeof file !== 'string' || file === '') throw new FrugalError(`file must be a non-empty path, got ${JSON.stringify(file)} (at ${at}.file)`)
  let isDir = false
  try {
    isDir = statSync(file).isDirectory()
  } catch (e) {
    if (errnoOf(e) !== 'ENOENT') throw e
  }
  if (isDir) throw new FrugalError(`${file} is a directory; give the path of a checkpoint file inside it, e.g. ${join(file, 'run.ckpt')} (at ${at}.file)`)
}

/**
 * Writes `bytes` to `file` atomically: to a temporary file next to it,
 * flushed to disk (fsync), renamed over `file`, then the directory flushed so
 * the rename itself is durable. A crash leaves the old file or the new one,
 * never a torn one; a failure removes the temporary file and leaves `file` as it was.
 * @throws FrugalError when `file` is a directory; Node's error when it cannot be written
 * @example writeFileAtomic('run/results.json', new TextEncoder().encode(text))
 */
export const writeFileAtomic = (file: string, bytes: Uint8Array): void => {
  checkTarget(file, 'writeFileAtomic')
  const dir = dirname(file)
  const tmp = join(dir, `.${basename(file)}.${process.pid}.${counter++}.tmp`)
  let fd: number | null = null
  try {
    fd = openSync(tmp, 'w')
    for (let off = 0; off < bytes.length; ) off += writeSync(fd, bytes, off, bytes.length - off)
    fsyncSync(fd)
    closeSync(fd)
    fd = null
    renameSync(tmp, file)
  } catch (e) {
    if (fd !== null) closeSync(fd)
    try {
      unlinkSync(tmp)
    } catch {
      // the temporary file was never created or is already gone
    }
    throw e
  }
  syncDir(dir)
}

/** fsync of a directory, so a rename in it survives a power loss (platforms that cannot open directories skip it). */
const syncDir = (dir: string): void => {
  let fd: number
  try {
    fd = openSync(dir, 'r')
  } catch {
    return
  }
  try {
    fsyncSync(fd)
  } catch (e) {
    if (!['EISDIR', 'EINVAL', 'EPERM', 'EBADF'].includes(errnoOf(e) ?? '')) throw e
  } finally {
    closeSync(fd)
  }
}

const readBytes = (file: string, at: string): Uint8Array => {
  try {
    return new Uint8Array(readFileSync(file))
  } catch (e) {
    const code = errnoOf(e)
    throw new FrugalError(
      code === 'ENOENT' ? `${file}: no such file (at ${at}.file)` : code === 'EISDIR' ? `${file} is a directory, not a checkpoint file (at ${at}.file)` : `${file}: cannot read it (${(e as Error).message}) (at ${at}.file)`,
    )
  }
}

/**
 * Writes an optimizer checkpoint atomically (`writeFileAtomic`), with a CRC-32
 * over every byte. The state is checked against `params` first: a state that
 * does not belong to them (another model's) is refused before anything is written.
 * @param file the checkpoint's path
 * @param state the optimizer state
 * @param params the parameters it belongs to (their signature is stored)
 * @throws FrugalError when the state cannot be encoded or does not fit `params`, or `file` is a directory; Node's error when the file cannot be written
 * @see https://arxiv.org/abs/2411.07837 (FRUGAL)
 * @example writeOptimizerState('run/opt.ckpt', state, params)
 */
export const writeOptimizerState = (file: string, state: unknown, params: Params, options: WriteOptimizerStateOptions = {}): void => {
  if (options === null || typeof options !== 'object') throw new FrugalError(`options must be an object, got ${options === null ? 'null' : typeof options} (at writeOptimizerState.options)`)
  for (const k of Object.keys(options))
    if (k !== 'format') throw new FrugalError(`unknown option '${k}' (at writeOptimizerState.${k}); expected one of [format]`)
  const { format = 'binary' } = options
  if (format !== 'binary' && format !== 'json')
    throw new FrugalError(`format must be 'binary' or 'json', got ${JSON.stringify(format)} (at writeOptimizerState.format)`)
  checkTarget(file, 'writeOptimizerState')
  const bytes =
    format === 'binary'
      ? encodeOptimizerStateBinary(state, params)
      : new TextEncoder().encode(JSON.stringify(encodeOptimizerState(state, params)))
  writeFileAtomic(file, bytes)
}

const MAGIC = 'FRUGALTS'

/**
 * Reads an optimizer checkpoint written by `writeOptimizerState` (binary or
 * JSON, told apart by the magic bytes): its checksum, then the state against
 * the parameters and `like`.
 * @param options `{ like: optimizer.init(params) }` (required)
 * @throws FrugalError for a missing, truncated or corrupted file, or a checkpoint of other parameters or another optimizer, naming the path
 * @example const state = readOptimizerState('run/opt.ckpt', params, { like: opt.init(params) })
 * @see https://arxiv.org/abs/2411.07837 (FRUGAL)
 */
export const readOptimizerState = <S>(file: string, params: Params, options: DecodeOptimizerStateOptions<S>): S => {
  const like = requireLike(options, 'readOptimizerState')
  const bytes = readBytes(file, 'readOptimizerState')
  if (bytes.length >= 8 && String.fromCharCode(...bytes.subarray(0, 8)) === MAGIC)
    return decodeBinaryAt<S>(bytes, params, like, file)
  let text: string
  let json: unknown
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes)
    json = JSON.parse(text)
  } catch (e) {
    throw new FrugalError(`${file} is neither a binary nor a JSON checkpoint (${(e as Error).message}) (at <root>)`)
  }
  // the file must be the document exactly as written, so that every byte is covered by the checksum
  if (JSON.stringify(json) !== text) throw new FrugalError(`${file}: the JSON is not as writeOptimizerState wrote it (edited or corrupted) (at <root>)`)
  return decodeJsonAt<S>(json, params, like, file)
}

/**
 * Saves a whole training run (parameters, optimizer state, step, metadata)
 * to one file, atomically (`writeFileAtomic`) and with a CRC-32 over every
 * byte. The run is checked first (the state must belong to the parameters,
 * the step be a non-negative integer), so nothing is written for a bad one.
 * @param file the checkpoint's path (not a directory)
 * @param run `{ params, state, step, metadata }`; `metadata` is any tree of tensors, numbers, strings, booleans and nulls
 * @throws FrugalError naming what does not fit, or when `file` is a directory; Node's error when it cannot be written
 * @example
 * import { loadCheckpoint, saveCheckpoint } from '@frugal-ts/frugal/node'
 * saveCheckpoint('run/step-1000.ckpt', { params, state, step: 1000, metadata: { dataKey, config: JSON.stringify(config) } })
 * // later, or in another process:
 * const fresh = initParams(config)
 * const run = loadCheckpoint('run/step-1000.ckpt', { params: fresh, state: opt.init(fresh) })
 * let [params, state, step] = [run.params, run.state, run.step]
 */
export const saveCheckpoint = <P extends Params, S, M>(file: string, run: RunCheckpoint<P, S, M>): void => {
  checkTarget(file, 'saveCheckpoint')
  writeFileAtomic(file, encodeRunCheckpoint(run))
}

/**
 * Reads a run saved by `saveCheckpoint`, checked against the model: the
 * checksum, then the parameters against `like.params` (structure, shapes and
 * dtypes exactly) and the state against `like.state` (`optimizer.init(params)`).
 * `like` may be a function of the saved step and metadata (when the model's
 * sizes are stored there).
 * @throws FrugalError for a missing, truncated or corrupted file, another format, or a run of another model or optimizer, naming the path
 * @example const { params, state, step, metadata } = loadCheckpoint('run.ckpt', { params: fresh, state: opt.init(fresh) })
 */
export const loadCheckpoint = <P extends Params, S, M = unknown>(file: string, like: RunCheckpointLike<P, S>): Required<RunCheckpoint<P, S, M>> => {
  if (like === undefined || like === null)
    throw new FrugalError(`like is required: { params: freshParams, state: optimizer.init(freshParams) } (at loadCheckpoint.like)`)
  return decodeRunCheckpoint<P, S, M>(readBytes(file, 'loadCheckpoint'), like, file)
}
