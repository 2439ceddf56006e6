import { closeSync, fsyncSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs'
import { basename, dirname, join } from 'node:path'
import type { DecodeOptimizerStateOptions } from './checkpoint'
import {
  decodeOptimizerState, decodeOptimizerStateBinary, encodeOptimizerState, encodeOptimizerStateBinary,
} from './checkpoint'
import { FrugalError } from './FrugalError'
import type { Params } from './GradientTransformation'

/**
 * Node-only checkpoint files (kept apart from `checkpoint`, so that the rest
 * of the package imports in browsers).
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

/** fsyncs directory `dir`, so that a rename in it survives a crash (where directories cannot be opened, as on Windows, there is nothing to do). */
const syncDirectory = (dir: string): void => {
  let fd: number
  try {
    fd = openSync(dir, 'r')
  } catch {
    return
  }
  try {
    fsyncSync(fd)
  } catch (e) {
    if (!['EINVAL', 'EPERM', 'EISDIR', 'ENOTSUP'].includes((e as NodeJS.ErrnoException).code ?? '')) throw e
  } finally {
    closeSync(fd)
  }
}

/**
 * Writes an optimizer checkpoint atomically: to a temporary file next to
 * `file`, flushed to disk, then renamed over `file` and the directory flushed,
 * so a crash leaves the old checkpoint or the new one, never a torn file.
 * @param file the checkpoint's path
 * @param state the optimizer state
 * @param params the parameters it belongs to (their signature is stored)
 * @throws FrugalError when the state cannot be encoded; Node's error when the file cannot be written
 * @see https://arxiv.org/abs/2411.07837 (FRUGAL)
 * @example writeOptimizerState('run/opt.ckpt', state, params)
 */
export const writeOptimizerState = (file: string, state: unknown, params: Params, options: WriteOptimizerStateOptions = {}): void => {
  const { format = 'binary' } = options
  if (format !== 'binary' && format !== 'json')
    throw new FrugalError(`format must be 'binary' or 'json', got ${JSON.stringify(format)} (at writeOptimizerState.format)`)
  const bytes =
    format === 'binary'
      ? encodeOptimizerStateBinary(state, params)
      : new TextEncoder().encode(JSON.stringify(encodeOptimizerState(state, params)))
  const tmp = join(dirname(file), `.${basename(file)}.${process.pid}.${counter++}.tmp`)
  let fd: number | null = null
  try {
    fd = openSync(tmp, 'w')
    for (let off = 0; off < bytes.length; ) off += writeSync(fd, bytes, off, bytes.length - off)
    fsyncSync(fd)
    closeSync(fd)
    fd = null
    renameSync(tmp, file)
    syncDirectory(dirname(file))
  } catch (e) {
    if (fd !== null) closeSync(fd)
    try {
      unlinkSync(tmp)
    } catch {
      // the temporary file was never created or is already gone
    }
    throw e
  }
}

const MAGIC = 'FRUGALTS'

/**
 * Reads an optimizer checkpoint written by `writeOptimizerState` (binary or
 * JSON, told apart by the magic bytes) and checks it against the parameters.
 * @throws FrugalError for a malformed file or a checkpoint of other parameters, naming the path
 * @example const state = readOptimizerState('run/opt.ckpt', params, { like: opt.init(params) })
 * @see https://arxiv.org/abs/2411.07837 (FRUGAL)
 */
export const readOptimizerState = <S>(file: string, params: Params, options: DecodeOptimizerStateOptions<S> = {}): S => {
  const bytes = new Uint8Array(readFileSync(file))
  if (bytes.length >= 8 && String.fromCharCode(...bytes.subarray(0, 8)) === MAGIC)
    return decodeOptimizerStateBinary<S>(bytes, params, options)
  let json: unknown
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes))
  } catch (e) {
    throw new FrugalError(`${file} is neither a binary nor a JSON checkpoint (${(e as Error).message}) (at <root>)`)
  }
  return decodeOptimizerState<S>(json, params, options)
}
