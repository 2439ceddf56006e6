import * as E from 'fp-ts/Either'
import type { Either } from 'fp-ts/Either'
import { pipe } from 'fp-ts/function'
import * as t from 'io-ts'
import { CoreError } from './CoreError'
import { fromArray } from './creation'
import { scope } from './Memory'
import { isDType } from './DType'
import type { DType } from './DType'
import { checkData, fromBase64, fromLeBytes, leBytes, toBase64 } from './internal/codec/bytes'
import * as S from './Shape'
import { Tensor } from './Tensor'
import { isLeafDefault, pathString } from './Tree'
import type { Tree } from './Tree'

/**
 * io-ts codecs for checkpoints. A tensor is JSON `{ dtype, shape, data }` with
 * `data` the base64 of its little-endian bytes; a pytree is nested JSON with
 * tensor leaves tagged `{"__tensor__": …}` and numbers that JSON cannot hold
 * (NaN, ±Infinity, −0) tagged `{"__number__": "NaN"}`. A binary format holds
 * the same tree with raw aligned buffers for large checkpoints. Decoders return
 * `Either<CodecError, …>` whose message names the path inside the document.
 */

/** What a checkpoint tree may hold as leaves. @example encodeTree({ w: tensor([1]), step: 3, name: 'mlp', frozen: false }) // every kind of Leaf */
export type Leaf = Tensor | number | string | boolean

/**
 * A tensor as JSON.
 * @example
 * TensorCodec.encode(tensor([1, 2])) // { dtype: 'float32', shape: [2], data: 'AACAPwAAAEA=' } (little-endian bytes, base64)
 */
export interface TensorJson {
  readonly dtype: DType
  readonly shape: readonly number[]
  readonly data: string
}

/**
 * Why a document did not decode: `message` is `at <path>: <what was wrong and what was expected>`.
 * @example
 * const r = decodeTree({ w: { __tensor__: { dtype: 'float32', shape: [2], data: 'AACAPw==' } } })
 * if (r._tag === 'Left') r.left.message // 'at w.data: base64 has 4 bytes, shape [2] float32 needs 8'
 */
export interface CodecError {
  readonly _tag: 'CodecError'
  /** the path of the first error inside the document ('' for the root) */
  readonly path: string
  /** every error, one per line */
  readonly message: string
}

const TENSOR = '__tensor__'
const NUMBER = '__number__'
const TAGS = new Set([TENSOR, NUMBER])
const SPECIAL: Record<string, number> = { NaN: NaN, Infinity: Infinity, '-Infinity': -Infinity, '-0': -0 }

// ---------------------------------------------------------------- io-ts codecs

const show = (u: unknown): string => {
  const s = u === undefined ? 'undefined' : typeof u === 'number' && !Number.isFinite(u) ? String(u) : JSON.stringify(u)
  return s === undefined ? typeof u : s.length > 60 ? `${s.slice(0, 57)}...` : s
}

const named = <A>(name: string, is: (u: unknown) => u is A): t.Type<A, A, unknown> =>
  new t.Type(name, is, (u, c) => (is(u) ? t.success(u) : t.failure(u, c)), t.identity)

const DTypeCodec = named('one of float32, int32, bool', isDType)
const ShapeCodec = named('a list of non-negative integers', (u): u is number[] => S.isShape(u))
const Base64Codec = named('a base64 string', (u): u is string => typeof u === 'string')
const TensorJsonCodec = t.type({ dtype: DTypeCodec, shape: ShapeCodec, data: Base64Codec }, 'a tensor {dtype, shape, data}')

/**
 * A tensor ⇄ `{ dtype, shape, data }` (data: base64 of the little-endian bytes).
 * Decoding creates the tensor on the current backend; encoding reads a concrete tensor.
 * @example TensorCodec.encode(tensor([1, 2], 'int32')) // { dtype: 'int32', shape: [2], data: 'AQAAAAIAAAA=' }
 */
export const TensorCodec = new t.Type<Tensor, TensorJson, unknown>(
  TensorJsonCodec.name,
  (u): u is Tensor => u instanceof Tensor,
  (u, c) =>
    pipe(
      TensorJsonCodec.validate(u, c),
      E.chain((j) => {
        const at = t.appendContext(c, 'data', Base64Codec, j.data)
        const bytes = fromBase64(j.data)
        if (typeof bytes === 'string') return t.failure(j.data, at, bytes)
        const bad = checkData(bytes, j.dtype, j.shape, 'base64')
        return bad ? t.failure(j.data, at, bad) : t.success(fromArray(fromLeBytes(bytes, j.dtype), j.shape, j.dtype))
      }),
    ),
  (x) => ({ dtype: x.dtype, shape: [...x.shape], data: toBase64(leBytes(x.dataSync())) }),
)

const isRecord = (u: unknown): u is Record<string, unknown> => typeof u === 'object' && u !== null && !Array.isArray(u)

type Validation = t.Validation<Tree<Leaf>>

/** True for a pytree whose leaves are tensors, numbers, strings and booleans. */
const isTree = (u: unknown): u is Tree<Leaf> =>
  u === null ||
  u === undefined ||
  u instanceof Tensor ||
  ['number', 'string', 'boolean'].includes(typeof u) ||
  (Array.isArray(u) && u.every(isTree)) ||
  (isRecord(u) && !isLeafDefault(u) && Object.values(u).every(isTree))

/** The tree walker shared by the JSON and binary formats; `tensor` decodes a tagged tensor's payload. */
const treeCodec = (name: string, tensor: t.Decoder<unknown, Tensor>): t.Type<Tree<Leaf>, unknown, unknown> => {
  const validate = (u: unknown, c: t.Context): Validation => {
    if (u === null || u === undefined || typeof u === 'string' || typeof u === 'boolean') return t.success(u)
    if (typeof u === 'number') return Number.isFinite(u) ? t.success(u) : t.failure(u, c, `non-finite number ${u} (write it as {"${NUMBER}": "${u}"})`)
    const children = (entries: [string, unknown][]): t.Validation<[string, Tree<Leaf>][]> => {
      const errors: t.ValidationError[] = []
      const out: [string, Tree<Leaf>][] = []
      for (const [k, v] of entries) {
        const r = validate(v, t.appendContext(c, k, codec, v))
        if (E.isLeft(r)) errors.push(...r.left)
        else out.push([k, r.right])
      }
      return errors.length ? E.left(errors) : t.success(out)
    }
    if (Array.isArray(u))
      return pipe(
        children(u.map((v, i) => [String(i), v])),
        E.map((kv) => kv.map(([, v]) => v)),
      )
    if (!isRecord(u) || (Object.getPrototypeOf(u) !== Object.prototype && Object.getPrototypeOf(u) !== null))
      return t.failure(u, c, `expected a JSON value (null, boolean, number, string, array or object), got ${typeof u}`)
    const keys = Object.keys(u)
    const tag = keys.find((k) => TAGS.has(k))
    if (tag !== undefined && keys.length !== 1)
      return t.failure(u, c, `a tagged ${tag} object must have that single key, got keys [${keys.join(', ')}]`)
    if (tag === TENSOR) return tensor.validate(u[TENSOR], t.appendContext(c, TENSOR, tensor, u[TENSOR]))
    if (tag === NUMBER) {
      const v = u[NUMBER]
      return typeof v === 'string' && Object.hasOwn(SPECIAL, v)
        ? t.success(SPECIAL[v])
        : t.failure(v, t.appendContext(c, NUMBER, codec, v), `expected one of "NaN", "Infinity", "-Infinity", "-0", got ${show(v)}`)
    }
    return pipe(
      children(keys.map((k) => [k, u[k]])),
      E.map((kv) => Object.fromEntries(kv)),
    )
  }
  const codec: t.Type<Tree<Leaf>, unknown, unknown> = new t.Type(name, isTree, validate, (x) => encodeTree(x))
  return codec
}

/** Turns io-ts errors into a CodecError: `at layers.0.w.data: <message>`, one line per error. */
const toCodecError = (errors: t.Errors): CodecError => {
  const lines = errors.slice(0, 10).map((e) => {
    const path = e.context.map((x) => x.key).filter((k) => k !== '' && !TAGS.has(k))
    const last = e.context[e.context.length - 1]
    return { path: path.join('.'), text: e.message ?? `expected ${last?.type.name ?? 'a value'}, got ${show(e.value)}` }
  })
  const more = errors.length > 10 ? [`(and ${errors.length - 10} more errors)`] : []
  return {
    _tag: 'CodecError',
    path: lines[0]?.path ?? '',
    message: [...lines.map((l) => `at ${l.path || '<root>'}: ${l.text}`), ...more].join('\n'),
  }
}

/**
 * A pytree of tensors, numbers, strings, booleans and nulls ⇄ JSON.
 * @example pipe(TreeCodec.decode(json), E.mapLeft(...))
 */
export const TreeCodec = treeCodec('Tree', TensorCodec)

const encodeNode = (x: unknown, path: (string | number)[], tensor: (x: Tensor) => unknown): unknown => {
  const fail = (what: string) => {
    throw new CoreError(`encodeTree: at ${pathString(path) || '<root>'}: ${what}`)
  }
  if (x === null || x === undefined) return null
  if (x instanceof Tensor)
    try {
      return { [TENSOR]: tensor(x) }
    } catch (e) {
      return fail((e as Error).message)
    }
  if (typeof x === 'number') return Number.isFinite(x) && !Object.is(x, -0) ? x : { [NUMBER]: Object.is(x, -0) ? '-0' : String(x) }
  if (typeof x === 'string' || typeof x === 'boolean') return x
  if (Array.isArray(x)) return x.map((v, i) => encodeNode(v, [...path, i], tensor))
  if (isLeafDefault(x)) return fail(`cannot encode a ${x?.constructor?.name ?? typeof x} leaf (expected a Tensor, number, string, boolean or null)`)
  const o = x as Record<string, unknown>
  const keys = Object.keys(o).sort()
  const reserved = keys.find((k) => TAGS.has(k))
  if (reserved) fail(`object key '${reserved}' is reserved for tagged leaves`)
  return Object.fromEntries(keys.map((k) => [k, encodeNode(o[k], [...path, k], tensor)]))
}

/**
 * A pytree as a JSON-able value (undefined becomes null; keys are sorted).
 * @throws CoreError naming the path of a leaf that cannot be encoded (a class instance, a jit tracer)
 * @example JSON.stringify(encodeTree({ step: 3, w: tensor([1, 2]) }))
 */
export const encodeTree = (tree: Tree<Leaf>): unknown => encodeNode(tree, [], TensorCodec.encode)

/**
 * A pytree from JSON, or a CodecError naming where the document is wrong.
 * @example decodeTree({ w: { __tensor__: { dtype: 'float32', shape: [1], data: 'AACAPw==' } } }) // right({ w: tensor([1]) })
 */
export const decodeTree = (json: unknown): Either<CodecError, Tree<Leaf>> =>
  scope(() => pipe(TreeCodec.decode(json), E.mapLeft(toCodecError)))

/**
 * The value of a decoded Either, or a CoreError carrying the CodecError's message.
 * @example const params = unwrap(decodeTree(JSON.parse(text)))
 */
export const unwrap = <A>(e: Either<CodecError, A>): A => {
  if (E.isLeft(e)) throw new CoreError(e.left.message)
  return e.right
}

// ---------------------------------------------------------------- checkpoints

const FORMAT = 'frugal-ts/checkpoint'
const VERSION = 1

/**
 * The JSON envelope of a checkpoint.
 * @example
 * const json: CheckpointJson = encodeCheckpoint({ w: tensor([1, 2]) })
 * unwrap(decodeCheckpoint(JSON.parse(JSON.stringify(json))))
 */
export interface CheckpointJson {
  readonly format: typeof FORMAT
  readonly version: typeof VERSION
  readonly tree: unknown
}

const literal = <A extends string | number>(value: A, message: (u: unknown) => string): t.Type<A, A, unknown> =>
  new t.Type(JSON.stringify(value), (u): u is A => u === value, (u, c) => (u === value ? t.success(value) : t.failure(u, c, message(u))), t.identity)

/**
 * A pytree ⇄ `{ format: 'frugal-ts/checkpoint', version: 1, tree }`.
 * @example checkpointCodec.encode({ params, state })
 */
export const checkpointCodec = new t.Type<Tree<Leaf>, CheckpointJson, unknown>(
  'a checkpoint {format, version, tree}',
  (u): u is Tree<Leaf> => TreeCodec.is(u),
  (u, c) =>
    pipe(
      t
        .type(
          {
            format: literal(FORMAT, (u) => `expected '${FORMAT}', got ${show(u)} (not a frugal-ts checkpoint)`),
            version: literal(VERSION, (u) => `unsupported checkpoint version ${show(u)} (this build reads version ${VERSION})`),
            tree: t.unknown,
          },
          'a checkpoint {format, version, tree}',
        )
        .validate(u, c),
      E.chain((env) => TreeCodec.validate(env.tree, t.appendContext(c, 'tree', TreeCodec, env.tree))),
    ),
  (tree) => ({ format: FORMAT, version: VERSION, tree: encodeTree(tree) }),
)

/**
 * A checkpoint envelope around a pytree, as JSON.
 * @example JSON.stringify(encodeCheckpoint({ params, state }))
 */
export const encodeCheckpoint = (tree: Tree<Leaf>): CheckpointJson => checkpointCodec.encode(tree)

/**
 * The pytree of a checkpoint envelope; wrong format or version are errors.
 * @example unwrap(decodeCheckpoint(JSON.parse(text)))
 */
export const decodeCheckpoint = (json: unknown): Either<CodecError, Tree<Leaf>> =>
  scope(() => pipe(checkpointCodec.decode(json), E.mapLeft(toCodecError)))

// ---------------------------------------------------------------- binary

const MAGIC = 'FRUGALTS'
/** magic (8 bytes), version (u32 LE), header length (u32 LE) */
const PREFIX = 16
const ALIGN = 64
const align = (n: number): number => Math.ceil(n / ALIGN) * ALIGN
const NatCodec = named('a non-negative integer', (u): u is number => Number.isSafeInteger(u) && (u as number) >= 0)
const BinTensorJson = t.type(
  { dtype: DTypeCodec, shape: ShapeCodec, offset: NatCodec, byteLength: NatCodec },
  'a tensor {dtype, shape, offset, byteLength}',
)

/**
 * A pytree as one binary blob: "FRUGALTS", the version and the length of a
 * JSON header (the tree with tensors as `{dtype, shape, offset, byteLength}`),
 * then every tensor's little-endian bytes, each 64-byte aligned.
 * @throws CoreError as `encodeTree`
 * @example fs.writeFileSync('ckpt.bin', encodeTreeBinary({ params, state }))
 */
export const encodeTreeBinary = (tree: Tree<Leaf>): Uint8Array => {
  const buffers: [number, Uint8Array][] = []
  let end = 0
  const json = encodeNode(tree, [], (x) => {
    const b = leBytes(x.dataSync())
    const offset = align(end)
    buffers.push([offset, b])
    end = offset + b.length
    return { dtype: x.dtype, shape: [...x.shape], offset, byteLength: b.length }
  })
  const header = new TextEncoder().encode(JSON.stringify({ tree: json }))
  const start = align(PREFIX + header.length)
  const out = new Uint8Array(start + end)
  out.set(Array.from(MAGIC, (ch) => ch.charCodeAt(0)))
  const view = new DataView(out.buffer)
  view.setUint32(8, VERSION, true)
  view.setUint32(12, header.length, true)
  out.set(header, PREFIX)
  for (const [offset, b] of buffers) out.set(b, start + offset)
  return out
}

const binaryError = (message: string): Either<CodecError, never> => E.left({ _tag: 'CodecError', path: '', message: `at <root>: ${message}` })

/**
 * The pytree of an `encodeTreeBinary` blob, or a CodecError (wrong magic,
 * truncated file, bad header, buffers out of range or of the wrong size).
 * @example unwrap(decodeTreeBinary(new Uint8Array(fs.readFileSync('ckpt.bin'))))
 */
export const decodeTreeBinary = (bytes: Uint8Array): Either<CodecError, Tree<Leaf>> => {
  if (!(bytes instanceof Uint8Array)) return binaryError(`expected a Uint8Array, got ${show(bytes)}`)
  if (bytes.length < PREFIX)
    return binaryError(`truncated: ${bytes.length} bytes, a frugal-ts binary checkpoint starts with a ${PREFIX}-byte prefix`)
  const magic = String.fromCharCode(...bytes.subarray(0, 8))
  if (magic !== MAGIC) return binaryError(`not a frugal-ts binary checkpoint: magic bytes ${show(magic)}, expected "${MAGIC}"`)
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const version = view.getUint32(8, true)
  if (version !== VERSION) return binaryError(`unsupported binary checkpoint version ${version} (this build reads version ${VERSION})`)
  const length = view.getUint32(12, true)
  if (PREFIX + length > bytes.length)
    return binaryError(`truncated: the header needs bytes [${PREFIX}, ${PREFIX + length}), the data has ${bytes.length}`)
  let header: unknown
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(PREFIX, PREFIX + length)))
  } catch (e) {
    return binaryError(`the header is not UTF-8 JSON (${(e as Error).message})`)
  }
  if (!isRecord(header) || !('tree' in header)) return binaryError(`the header must be an object {tree}, got ${show(header)}`)
  const data = bytes.subarray(Math.min(align(PREFIX + length), bytes.length))
  const tensor = new t.Type<Tensor, unknown, unknown>(
    BinTensorJson.name,
    (u): u is Tensor => u instanceof Tensor,
    (u, c) =>
      pipe(
        BinTensorJson.validate(u, c),
        E.chain((j) => {
          const at = (k: string, v: unknown) => t.appendContext(c, k, NatCodec, v)
          if (j.offset + j.byteLength > data.length)
            return t.failure(
              j.offset,
              at('offset', j.offset),
              `buffer [${j.offset}, ${j.offset + j.byteLength}) lies beyond the ${data.length} bytes of data (truncated file?)`,
            )
          const b = data.subarray(j.offset, j.offset + j.byteLength)
          const bad = checkData(b, j.dtype, j.shape, 'buffer')
          return bad ? t.failure(j.byteLength, at('byteLength', j.byteLength), bad) : t.success(fromArray(fromLeBytes(b, j.dtype), j.shape, j.dtype))
        }),
      ),
    () => {
      throw new CoreError('the binary tensor codec only decodes; use encodeTreeBinary')
    },
  )
  return scope(() => pipe(treeCodec('BinaryTree', tensor).decode(header.tree), E.mapLeft(toCodecError)))
}
