/**
 * Run checkpoints: parameters, optimizer state, data position, the data PRNG
 * key, the curves so far and the run's configuration, in one
 * `encodeTreeBinary` file written atomically (temporary file, fsync, rename),
 * so a crash leaves the old checkpoint or the new one. Resuming from one gives
 * the same bits as never stopping.
 */
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs'
import { basename, dirname, join } from 'node:path'
import type { Leaf, Tensor } from '@frugal-ts/core'
import { Tree, decodeTreeBinary, encodeTreeBinary, keep } from '@frugal-ts/core'
import { UsageError } from './errors'
import type { LlamaParams } from './model'
import type { RunState, TrainConfig } from './train'

const KIND = 'frugal-ts/llama-run'
const VERSION = 1

/**
 * Writes `bytes` to `file` atomically: a temporary file beside it, flushed, then renamed over it.
 * @example writeAtomic('run.ckpt', bytes)
 */
export const writeAtomic = (file: string, bytes: Uint8Array): void => {
  const tmp = join(dirname(file), `.${basename(file)}.${process.pid}.tmp`)
  const fd = openSync(tmp, 'w')
  try {
    for (let off = 0; off < bytes.length; ) off += writeSync(fd, bytes, off, bytes.length - off)
    fsyncSync(fd)
  } catch (e) {
    closeSync(fd)
    unlinkSync(tmp)
    throw e
  }
  closeSync(fd)
  renameSync(tmp, file)
}

/**
 * A run state and its configuration as checkpoint bytes.
 * @example writeAtomic(file, encodeRun(config, state))
 */
export const encodeRun = (config: TrainConfig, s: RunState): Uint8Array =>
  withChecksum(encodeTreeBinary({
    kind: KIND,
    version: VERSION,
    config: JSON.stringify(config),
    position: s.position,
    peakStateBytes: s.peakStateBytes,
    curves: JSON.stringify({ trainLoss: s.trainLoss, valCurve: s.valCurve }),
    dataKey: s.dataKey,
    params: s.params,
    opt: s.opt,
  } as unknown as Tree.Tree<Leaf>))

/**
 * Saves a checkpoint atomically.
 * @example saveRun('run.ckpt', config, state)
 */
export const saveRun = (file: string, config: TrainConfig, s: RunState): void => writeAtomic(file, encodeRun(config, s))

const bad = (file: string, what: string): UsageError => new UsageError(`--resume ${file}: ${what}`)

/**
 * Reads a checkpoint written by `saveRun`.
 * @returns the run's configuration and state (tensors kept out of any scope)
 * @throws UsageError (one line) for a missing, truncated, corrupted or foreign file
 * @example const { config, state } = loadRun('run.ckpt')
 */
export const loadRun = (file: string): { config: TrainConfig; state: RunState } => {
  let bytes: Uint8Array
  try {
    bytes = new Uint8Array(readFileSync(file))
  } catch (e) {
    throw bad(file, (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : `cannot read it (${(e as Error).message})`)
  }
  if (String.fromCharCode(...bytes.subarray(0, 8)) !== 'FRUGALTS') throw bad(file, 'not a frugal-train checkpoint (no FRUGALTS header)')
  const blob = verified(bytes)
  if (blob === null) throw bad(file, 'truncated or corrupted (checksum mismatch)')
  const decoded = decodeTreeBinary(blob)
  if (decoded._tag === 'Left') throw bad(file, `not a valid checkpoint (${decoded.left.message})`)
  const root = decoded.right as Record<string, unknown>
  if (root === null || typeof root !== 'object' || root.kind !== KIND)
    throw bad(file, `not a frugal-train checkpoint (kind ${JSON.stringify((root as Record<string, unknown>)?.kind)}, expected "${KIND}")`)
  if (root.version !== VERSION) throw bad(file, `unsupported checkpoint version ${String(root.version)} (expected ${VERSION})`)
  let config: TrainConfig
  let curves: { trainLoss: number[]; valCurve: { step: number; loss: number }[] }
  try {
    config = JSON.parse(root.config as string) as TrainConfig
    curves = JSON.parse(root.curves as string)
  } catch (e) {
    throw bad(file, `corrupted run description (${(e as Error).message})`)
  }
  const position = root.position
  if (typeof position !== 'number' || !Number.isSafeInteger(position) || position < 0 || !Array.isArray(curves.trainLoss) || curves.trainLoss.length !== position)
    throw bad(file, `corrupted data position ${JSON.stringify(position)}`)
  const dataKey = root.dataKey as Tensor
  if (!isTensorLike(dataKey) || dataKey.dtype !== 'int32' || dataKey.size !== 2) throw bad(file, 'corrupted data key (expected int32[2])')
  const params = root.params as LlamaParams
  if (!params || typeof params !== 'object' || !isTensorLike(params.embed) || !Array.isArray(params.layers))
    throw bad(file, 'corrupted parameters')
  const state: RunState = {
    params,
    opt: root.opt,
    position,
    dataKey,
    trainLoss: curves.trainLoss,
    valCurve: curves.valCurve ?? [],
    peakStateBytes: Number(root.peakStateBytes) || 0,
  }
  keep([state.params, state.opt, state.dataKey])
  return { config, state }
}

const isTensorLike = (x: unknown): x is Tensor => typeof x === 'object' && x !== null && 'shape' in x && 'dtype' in x

/**
 * Checks that restored parameters have the paths and shapes of `expected`
 * (fresh parameters of the checkpoint's model config).
 * @throws UsageError naming the first path that differs
 * @example checkParams(file, state.params, initParams(config.model, key))
 */
export const checkParams = (file: string, params: LlamaParams, expected: LlamaParams): void => {
  const shapes = (x: LlamaParams) =>
    new Map((Tree.leavesWithPath(x as unknown as Tree.Tree<Tensor>) as [Tree.Path, Tensor][]).map(([p, t]) => [Tree.pathString(p), t.shape.join('x')]))
  const got = shapes(params)
  for (const [path, shape] of shapes(expected))
    if (got.get(path) !== shape) throw bad(file, `the parameters do not fit the model config (${path}: ${got.get(path) ?? 'missing'}, expected ${shape})`)
}

const CRC_TABLE = Uint32Array.from({ length: 256 }, (_, n) => {
  let c = n
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1
  return c >>> 0
})

/** CRC-32 (IEEE) of bytes. @example crc32(new TextEncoder().encode('123456789')) // 0xcbf43926 */
export const crc32 = (bytes: Uint8Array): number => {
  let c = 0xffffffff
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8)
  return (c ^ 0xffffffff) >>> 0
}

const TRAILER = 'LLAMACRC'

/** @internal the blob with a trailer: 'LLAMACRC' and its CRC-32 (u32 LE) */
const withChecksum = (blob: Uint8Array): Uint8Array => {
  const out = new Uint8Array(blob.length + 12)
  out.set(blob)
  out.set(Array.from(TRAILER, (ch) => ch.charCodeAt(0)), blob.length)
  new DataView(out.buffer).setUint32(blob.length + 8, crc32(blob), true)
  return out
}

/** @internal the blob of a checksummed file, or null when the trailer is missing or the checksum differs */
const verified = (bytes: Uint8Array): Uint8Array | null => {
  if (bytes.length < 12) return null
  const end = bytes.length - 12
  if (String.fromCharCode(...bytes.subarray(end, end + 8)) !== TRAILER) return null
  const blob = bytes.subarray(0, end)
  return new DataView(bytes.buffer, bytes.byteOffset).getUint32(end + 8, true) === crc32(blob) ? blob : null
}
