import type { CodecError, Leaf } from '@frugal-ts/core'
import { Tensor, Tree, decodeCheckpoint, decodeTreeBinary, encodeCheckpoint, encodeTreeBinary } from '@frugal-ts/core'
import type { Either } from 'fp-ts/Either'
import * as E from 'fp-ts/Either'
import { crc32, crc32Hex } from './crc32'
import { FrugalError } from './FrugalError'
import type { Params } from './GradientTransformation'
import { checkLike, checkStateFitsParams } from './internal/stateFits'

/**
 * Optimizer-state checkpoints. A checkpoint holds the state (every tensor
 * bit for bit, the PRNG key and step counters included) and the signature of
 * the parameters it was made for (path, shape, dtype of every leaf), in core's
 * io-ts validated checkpoint format (JSON, or binary for large states), with a
 * CRC-32 over every byte. A state is checked against the parameters before
 * it is encoded and after it is decoded. Saving after k steps, loading and
 * going on gives the same bits as never stopping. This module is pure and
 * browser-safe; `checkpointNode` writes files.
 */

const KIND = 'frugal-ts/optimizer-state'

/** One parameter leaf as a checkpoint records it. */
interface ParamSignature {
  readonly path: string
  readonly shape: readonly number[]
  readonly dtype: string
}

const signature = (params: Params): ParamSignature[] =>
  (Tree.leavesWithPath(params) as [Tree.Path, Tensor][]).map(([p, x]) => {
    if (!(x instanceof Tensor))
      throw new FrugalError(`params must be a tree of tensors, got ${typeof x} at ${Tree.pathString(p) || '<root>'} (at params.${Tree.pathString(p) || '<root>'})`)
    return { path: Tree.pathString(p), shape: [...x.shape], dtype: x.dtype }
  })

const envelope = (state: unknown, params: Params): Tree.Tree<Leaf> => {
  const sig = signature(params)
  checkStateFitsParams(state, params)
  return { kind: KIND, params: sig, state } as unknown as Tree.Tree<Leaf>
}

// ------------------------------------------------------------ checksums

/** The binary trailer: 8 tag bytes and the CRC-32 (u32 LE) of every byte before it. */
const TRAILER = 'FRUGALCK'
const TRAILER_BYTES = 12

/**
 * @internal `blob` with its checksum trailer ("FRUGALCK" and the CRC-32 of all of `blob`).
 * @example sealBinary(encodeTreeBinary(tree))
 */
export const sealBinary = (blob: Uint8Array): Uint8Array => {
  const out = new Uint8Array(blob.length + TRAILER_BYTES)
  out.set(blob)
  out.set(Array.from(TRAILER, (ch) => ch.charCodeAt(0)), blob.length)
  new DataView(out.buffer).setUint32(blob.length + 8, crc32(blob), true)
  return out
}

/**
 * @internal The blob inside a sealed binary checkpoint, its checksum verified.
 * @throws FrugalError for a file without the trailer (truncated, or not written by this package) or a checksum mismatch
 * @example const blob = openBinary(bytes, 'run.ckpt')
 */
export const openBinary = (bytes: Uint8Array, where: string): Uint8Array => {
  const end = bytes.length - TRAILER_BYTES
  if (end < 0 || String.fromCharCode(...bytes.subarray(end, end + 8)) !== TRAILER)
    throw new FrugalError(
      `${where}: no checksum trailer at the end (${bytes.length} bytes): the file is truncated, or was not written by this version of @frugal-ts/frugal (at <root>)`,
    )
  const blob = bytes.subarray(0, end)
  const stored = new DataView(bytes.buffer, bytes.byteOffset + end + 8, 4).getUint32(0, true)
  const actual = crc32(blob)
  if (stored !== actual)
    throw new FrugalError(
      `${where}: checksum mismatch (stored crc32 ${stored.toString(16).padStart(8, '0')}, the ${blob.length} bytes give ${actual.toString(16).padStart(8, '0')}): the file is corrupted (at <root>)`,
    )
  return blob
}

const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s)

/** A JSON checkpoint: core's document with `checksum` (CRC-32 of the document's JSON text without it) as its last key. */
const sealJson = (doc: object): unknown => ({ ...doc, checksum: `crc32:${crc32Hex(utf8(JSON.stringify(doc)))}` })

const openJson = (json: unknown, where: string): unknown => {
  if (json === null || typeof json !== 'object' || Array.isArray(json))
    throw new FrugalError(`${where}: expected a JSON checkpoint object, got ${json === null ? 'null' : Array.isArray(json) ? 'an array' : typeof json} (at <root>)`)
  const { checksum, ...doc } = json as Record<string, unknown>
  if (typeof checksum !== 'string' || !/^crc32:[0-9a-f]{8}$/.test(checksum))
    throw new FrugalError(
      `${where}: no checksum (expected "checksum": "crc32:xxxxxxxx", got ${JSON.stringify(checksum) ?? 'none'}): the document is not a checkpoint of this version of @frugal-ts/frugal (at checksum)`,
    )
  const actual = `crc32:${crc32Hex(utf8(JSON.stringify(doc)))}`
  if (actual !== checksum) throw new FrugalError(`${where}: checksum mismatch (stored ${checksum}, the document gives ${actual}): it is corrupted (at <root>)`)
  return doc
}

// ------------------------------------------------------------ encode

/**
 * An optimizer state and its parameters' signature as a JSON-able checkpoint
 * (with a CRC-32 of its content under `checksum`).
 * @param state the optimizer state (concrete tensors, numbers, strings, booleans, nulls)
 * @param params the parameters the state belongs to (only paths, shapes and dtypes are stored)
 * @throws FrugalError naming the path of a leaf that cannot be stored (a jit tracer, a class instance), or where the state does not fit `params`
 * @see https://arxiv.org/abs/2411.07837 (FRUGAL: the optimizer state is a pytree)
 * @example const text = JSON.stringify(encodeOptimizerState(state, params))
 */
export const encodeOptimizerState = (state: unknown, params: Params): unknown => sealJson(wrap(() => encodeCheckpoint(envelope(state, params))))

/**
 * As `encodeOptimizerState`, as one binary blob (raw little-endian buffers, then a CRC-32 trailer).
 * @example fs.writeFileSync('opt.bin', encodeOptimizerStateBinary(state, params))
 * @see https://arxiv.org/abs/2411.07837 (FRUGAL)
 */
export const encodeOptimizerStateBinary = (state: unknown, params: Params): Uint8Array =>
  sealBinary(wrap(() => encodeTreeBinary(envelope(state, params))))

/** @internal runs an encoder, turning core's errors into FrugalErrors. @example wrap(() => encodeTreeBinary(tree)) */
export const wrap = <A>(f: () => A): A => {
  try {
    return f()
  } catch (e) {
    throw e instanceof FrugalError ? e : new FrugalError(`cannot encode the checkpoint: ${(e as Error).message}`)
  }
}

// ------------------------------------------------------------ decode

/**
 * Options of the decoders.
 * @example decodeOptimizerState(json, params, { like: opt.init(params) })
 * @see https://arxiv.org/abs/2411.07837 (FRUGAL)
 */
export interface DecodeOptimizerStateOptions<S> {
  /**
   * A state of the expected structure (`opt.init(params)`), required: the
   * checkpoint's state must have the same structure and tensor dtypes, a
   * `null` on either side matching anything (a subspace that is empty now and
   * filled later), so a state of another optimizer is refused on read.
   */
  readonly like: S
}

/**
 * The optimizer state of a JSON checkpoint, checked (checksum, then against
 * the parameters and `like`).
 * @param json the parsed checkpoint
 * @param params the parameters to go on training
 * @param options `{ like: opt.init(params) }`
 * @returns the state (new tensors on the current backend)
 * @throws FrugalError for a corrupted or malformed document (naming where), and for a checkpoint of another structure, naming the first path that differs
 * @example const state = decodeOptimizerState(JSON.parse(text), params, { like: opt.init(params) })
 * @see https://arxiv.org/abs/2411.07837 (FRUGAL)
 */
export const decodeOptimizerState = <S>(json: unknown, params: Params, options: DecodeOptimizerStateOptions<S>): S =>
  decodeJsonAt(json, params, requireLike(options, 'decodeOptimizerState'), 'the checkpoint')

/** @internal `decodeOptimizerState` with `where` (a file name) in the messages. @example decodeJsonAt(json, params, like, 'opt.json') */
export const decodeJsonAt = <S>(json: unknown, params: Params, like: S, where: string): S => restore(decodeCheckpoint(openJson(json, where)), params, like)

/**
 * As `decodeOptimizerState`, for a binary checkpoint.
 * @example const state = decodeOptimizerStateBinary(new Uint8Array(fs.readFileSync('opt.bin')), params, { like: opt.init(params) })
 * @see https://arxiv.org/abs/2411.07837 (FRUGAL)
 */
export const decodeOptimizerStateBinary = <S>(bytes: Uint8Array, params: Params, options: DecodeOptimizerStateOptions<S>): S => {
  const like = requireLike(options, 'decodeOptimizerStateBinary')
  if (!(bytes instanceof Uint8Array)) throw new FrugalError(`bytes must be a Uint8Array, got ${typeof bytes} (at decodeOptimizerStateBinary.bytes)`)
  return decodeBinaryAt(bytes, params, like, 'the checkpoint')
}

/** @internal `decodeOptimizerStateBinary` with `where` (a file name) in the messages. @example decodeBinaryAt(bytes, params, like, 'opt.ckpt') */
export const decodeBinaryAt = <S>(bytes: Uint8Array, params: Params, like: S, where: string): S => restore(decodeTreeBinary(openBinary(bytes, where)), params, like)

/** @internal `options.like`, or a FrugalError saying it is needed. @example const like = requireLike(options, 'readOptimizerState') */
export const requireLike = <S>(options: DecodeOptimizerStateOptions<S> | undefined, at: string): S => {
  if (options === null || typeof options !== 'object' || !('like' in options) || options.like === undefined)
    throw new FrugalError(
      `like is required: pass { like: optimizer.init(params) } so that the checkpoint's state is checked against the optimizer that will use it (at ${at}.like)`,
    )
  return options.like
}

const isRecord = (u: unknown): u is Record<string, unknown> => typeof u === 'object' && u !== null && !Array.isArray(u) && !(u instanceof Tensor)

const restore = <S>(decoded: Either<CodecError, Tree.Tree<Leaf>>, params: Params, like: S): S => {
  if (E.isLeft(decoded)) throw new FrugalError(`not a valid optimizer checkpoint: ${decoded.left.message}`)
  const doc = decoded.right
  if (!isRecord(doc) || doc.kind !== KIND || !Array.isArray(doc.params))
    throw new FrugalError(`not an optimizer-state checkpoint: expected a tree {kind: '${KIND}', params, state} (at <root>)`)
  checkParams(doc.params as unknown[], signature(params))
  checkLike(like, doc.state, 'state')
  checkStateFitsParams(doc.state, params)
  return doc.state as S
}

const showShape = (s: readonly number[]) => `[${s.join(', ')}]`

const checkParams = (saved: unknown[], now: ParamSignature[]): void => {
  const savedSigs = saved.map((s, i) => {
    if (!isRecord(s) || typeof s.path !== 'string' || !Array.isArray(s.shape) || typeof s.dtype !== 'string')
      throw new FrugalError(`malformed parameter signature in the checkpoint (at params.${i})`)
    return s as unknown as ParamSignature
  })
  const byPath = new Map(savedSigs.map((s) => [s.path, s]))
  for (const p of now) {
    const s = byPath.get(p.path)
    const at = p.path || '<root>'
    if (!s) throw new FrugalError(`the checkpoint was saved for other parameters: it has no state for ${at} (at ${at})`)
    if (s.shape.length !== p.shape.length || s.shape.some((d, i) => d !== p.shape[i]) || s.dtype !== p.dtype)
      throw new FrugalError(
        `the checkpoint was saved for other parameters: ${at} was ${s.dtype}${showShape(s.shape)}, the parameters have ${p.dtype}${showShape(p.shape)} (at ${at})`,
      )
  }
  const known = new Set(now.map((p) => p.path))
  const extra = savedSigs.find((s) => !known.has(s.path))
  if (extra) throw new FrugalError(`the checkpoint was saved for other parameters: it has state for ${extra.path || '<root>'}, which these parameters lack (at ${extra.path || '<root>'})`)
}
