import type { CodecError, Leaf } from '@frugal-ts/core'
import { Tensor, Tree, decodeCheckpoint, decodeTreeBinary, encodeCheckpoint, encodeTreeBinary } from '@frugal-ts/core'
import type { Either } from 'fp-ts/Either'
import * as E from 'fp-ts/Either'
import { FrugalError } from './FrugalError'
import type { Params } from './GradientTransformation'

/**
 * Optimizer-state checkpoints. A checkpoint holds the state (every tensor
 * bit for bit, the PRNG key and step counters included) and the signature of
 * the parameters it was made for (path, shape, dtype of every leaf), in core's
 * io-ts validated checkpoint format (JSON, or binary for large states). Saving
 * after k steps, loading and going on gives the same bits as never stopping.
 * This module is pure and browser-safe; `checkpointNode` writes files.
 */

const KIND = 'frugal-ts/optimizer-state'

/** One parameter leaf as a checkpoint records it. */
interface ParamSignature {
  readonly path: string
  readonly shape: readonly number[]
  readonly dtype: string
}

const signature = (params: Params): ParamSignature[] =>
  (Tree.leavesWithPath(params) as [Tree.Path, Tensor][]).map(([p, x]) => ({
    path: Tree.pathString(p),
    shape: [...x.shape],
    dtype: x.dtype,
  }))

const envelope = (state: unknown, params: Params): Tree.Tree<Leaf> =>
  ({ kind: KIND, params: signature(params), state }) as unknown as Tree.Tree<Leaf>

/**
 * An optimizer state and its parameters' signature as a JSON-able checkpoint.
 * @param state the optimizer state (concrete tensors, numbers, strings, booleans, nulls)
 * @param params the parameters the state belongs to (only paths, shapes and dtypes are stored)
 * @throws FrugalError naming the path of a leaf that cannot be stored (a jit tracer, a class instance)
 * @see https://arxiv.org/abs/2411.07837 (FRUGAL: the optimizer state is a pytree)
 * @example const text = JSON.stringify(encodeOptimizerState(state, params))
 */
export const encodeOptimizerState = (state: unknown, params: Params): unknown => wrap(() => encodeCheckpoint(envelope(state, params)))

/**
 * As `encodeOptimizerState`, as one binary blob (raw little-endian buffers).
 * @example fs.writeFileSync('opt.bin', encodeOptimizerStateBinary(state, params))
 * @see https://arxiv.org/abs/2411.07837 (FRUGAL)
 */
export const encodeOptimizerStateBinary = (state: unknown, params: Params): Uint8Array =>
  wrap(() => encodeTreeBinary(envelope(state, params)))

const wrap = <A>(f: () => A): A => {
  try {
    return f()
  } catch (e) {
    throw e instanceof FrugalError ? e : new FrugalError(`cannot encode the optimizer state: ${(e as Error).message}`)
  }
}

/**
 * Options of the decoders.
 * @example decodeOptimizerState(json, params, { like: opt.init(params) })
 * @see https://arxiv.org/abs/2411.07837 (FRUGAL)
 */
export interface DecodeOptimizerStateOptions<S> {
  /**
   * A state of the expected structure (`opt.init(params)`): the checkpoint's
   * state must have the same structure, a `null` on either side matching
   * anything (a subspace that is empty now and filled later).
   */
  readonly like?: S
}

/**
 * The optimizer state of a JSON checkpoint, checked against the parameters it
 * is restored for.
 * @param json the parsed checkpoint
 * @param params the parameters to go on training
 * @returns the state (new tensors on the current backend)
 * @throws FrugalError for a malformed document (naming where), and for a checkpoint of another structure, naming the first parameter path that differs
 * @example const state = decodeOptimizerState(JSON.parse(text), params, { like: opt.init(params) })
 * @see https://arxiv.org/abs/2411.07837 (FRUGAL)
 */
export const decodeOptimizerState = <S>(json: unknown, params: Params, options: DecodeOptimizerStateOptions<S> = {}): S =>
  restore(decodeCheckpoint(json), params, options)

/**
 * As `decodeOptimizerState`, for a binary checkpoint.
 * @example const state = decodeOptimizerStateBinary(new Uint8Array(fs.readFileSync('opt.bin')), params)
 * @see https://arxiv.org/abs/2411.07837 (FRUGAL)
 */
export const decodeOptimizerStateBinary = <S>(bytes: Uint8Array, params: Params, options: DecodeOptimizerStateOptions<S> = {}): S =>
  restore(decodeTreeBinary(bytes), params, options)

const isRecord = (u: unknown): u is Record<string, unknown> => typeof u === 'object' && u !== null && !Array.isArray(u) && !(u instanceof Tensor)

const restore = <S>(decoded: Either<CodecError, Tree.Tree<Leaf>>, params: Params, options: DecodeOptimizerStateOptions<S>): S => {
  if (E.isLeft(decoded)) throw new FrugalError(`not a valid optimizer checkpoint: ${decoded.left.message}`)
  const doc = decoded.right
  if (!isRecord(doc) || doc.kind !== KIND || !Array.isArray(doc.params))
    throw new FrugalError(`not an optimizer-state checkpoint: expected a tree {kind: '${KIND}', params, state} (at <root>)`)
  checkParams(doc.params as unknown[], signature(params))
  if (options.like !== undefined) checkLike(options.like, doc.state, [])
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

const kindOf = (x: unknown): string =>
  x instanceof Tensor ? 'a tensor' : Array.isArray(x) ? `an array of length ${x.length}` : isRecord(x) ? `an object with keys [${Object.keys(x).sort().join(', ')}]` : typeof x

const checkLike = (like: unknown, got: unknown, path: (string | number)[]): void => {
  if (like === null || like === undefined || got === null || got === undefined) return
  const at = () => Tree.pathString(path) || '<root>'
  const fail = () => {
    throw new FrugalError(`the checkpoint's optimizer state has another structure: expected ${kindOf(like)}, got ${kindOf(got)} (at state.${at()})`)
  }
  if (like instanceof Tensor) return void (got instanceof Tensor && got.dtype === like.dtype ? undefined : fail())
  if (Array.isArray(like)) {
    if (!Array.isArray(got) || got.length !== like.length) fail()
    like.forEach((l, i) => checkLike(l, (got as unknown[])[i], [...path, i]))
    return
  }
  if (isRecord(like)) {
    if (!isRecord(got)) fail()
    const a = Object.keys(like).sort().join('\0')
    const b = Object.keys(got as object).sort().join('\0')
    if (a !== b) fail()
    for (const k of Object.keys(like)) checkLike(like[k], (got as Record<string, unknown>)[k], [...path, k])
    return
  }
  if (typeof like !== typeof got) fail()
}
