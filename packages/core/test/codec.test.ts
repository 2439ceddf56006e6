import { describe, it, expect } from 'vitest'
import fc from 'fast-check'
import * as E from 'fp-ts/Either'
import {
  TensorCodec,
  decodeCheckpoint,
  decodeTree,
  decodeTreeBinary,
  encodeCheckpoint,
  encodeTree,
  encodeTreeBinary,
  unwrap,
  checkpointCodec,
} from '../src/codec'
import type { Leaf } from '../src/codec'
import { CoreError } from '../src/CoreError'
import { fromArray, tensor } from '../src/creation'
import { Tensor } from '../src/Tensor'
import { dispose } from '../src/Memory'
import type { Tree } from '../src/Tree'
import * as T from '../src/Tree'

// ------------------------------------------------------------ arbitraries

const shapeArb = fc.array(fc.integer({ min: 0, max: 4 }), { maxLength: 3 })
const tensorArb: fc.Arbitrary<Tensor> = fc.oneof(
  shapeArb.chain((shape) =>
    fc
      .array(fc.float(), { minLength: size(shape), maxLength: size(shape) })
      .map((xs) => fromArray(Float32Array.from(xs), shape, 'float32')),
  ),
  shapeArb.chain((shape) =>
    fc.array(fc.integer(), { minLength: size(shape), maxLength: size(shape) }).map((xs) => fromArray(Int32Array.from(xs), shape, 'int32')),
  ),
  shapeArb.chain((shape) =>
    fc.array(fc.boolean(), { minLength: size(shape), maxLength: size(shape) }).map((xs) => fromArray(Uint8Array.from(xs, Number), shape, 'bool')),
  ),
)
function size(shape: number[]) {
  return shape.reduce((a, b) => a * b, 1)
}
const leafArb: fc.Arbitrary<Leaf | null> = fc.oneof(tensorArb, fc.double(), fc.string({ maxLength: 4 }), fc.boolean(), fc.constant(null))
const { tree: treeArb } = fc.letrec<{ tree: Tree<Leaf> }>((tie) => ({
  tree: fc.oneof(
    { depthSize: 'small' },
    leafArb,
    fc.array(tie('tree'), { maxLength: 3 }),
    fc.dictionary(fc.string({ minLength: 1, maxLength: 3 }), tie('tree'), { maxKeys: 3, noNullPrototype: true }),
  ),
}))

/** Bit-exact comparison of two trees (tensor bytes, dtypes, shapes; numbers with Object.is). */
const sameTree = (a: Tree<Leaf>, b: Tree<Leaf>): void => {
  expect(T.TreeDef.show(T.structure(b))).toBe(T.TreeDef.show(T.structure(a)))
  T.zip(a, b).forEach(([x, y]) => {
    if (x instanceof Tensor) {
      expect(y).toBeInstanceOf(Tensor)
      const t = y as Tensor
      expect([t.dtype, t.shape]).toEqual([x.dtype, x.shape])
      const bytes = (u: Tensor) => Array.from(new Uint8Array(u.dataSync().buffer.slice(0)))
      expect(bytes(t)).toEqual(bytes(x))
    } else expect(Object.is(x, y)).toBe(true)
  })
}

const errorOf = (e: E.Either<{ message: string }, unknown>): string => {
  if (E.isRight(e)) throw new Error('expected a decoding error')
  return e.left.message
}

const w = (data: string, shape = [2, 3], dtype = 'float32') => ({ state: { mu: { w0: { __tensor__: { dtype, shape, data } } } } })

describe('codec: JSON', () => {
  it('encodes a tensor as dtype, shape and base64 little-endian bytes', () => {
    expect(TensorCodec.encode(tensor([1, 2], 'int32'))).toEqual({ dtype: 'int32', shape: [2], data: 'AQAAAAIAAAA=' })
    expect(TensorCodec.encode(tensor([1]))).toEqual({ dtype: 'float32', shape: [1], data: 'AACAPw==' })
    const back = unwrap(decodeTree({ w: { __tensor__: { dtype: 'float32', shape: [1], data: 'AACAPw==' } } })) as { w: Tensor }
    expect(back.w.toArray()).toEqual([1])
  })

  it('keeps numbers, strings, booleans and null; tags NaN, ±Infinity and -0', () => {
    const tree = { a: [1.5, 'x', true, null], b: { c: NaN, d: -0, e: Infinity, f: -Infinity }, u: undefined }
    const json = encodeTree(tree)
    expect(json).toEqual({
      a: [1.5, 'x', true, null],
      b: { c: { __number__: 'NaN' }, d: { __number__: '-0' }, e: { __number__: 'Infinity' }, f: { __number__: '-Infinity' } },
      u: null,
    })
    sameTree(unwrap(decodeTree(JSON.parse(JSON.stringify(json)))), { ...tree, u: null })
  })

  it('property: JSON round trip is bit-exact (NaN, -0, Infinity included)', () => {
    fc.assert(
      fc.property(treeArb, (tree) => {
        const text = JSON.stringify(encodeTree(tree))
        sameTree(unwrap(decodeTree(JSON.parse(text))), tree)
        sameTree(unwrap(decodeCheckpoint(JSON.parse(JSON.stringify(encodeCheckpoint(tree))))), tree)
      }),
      { numRuns: 60 },
    )
  })

  it('names the path and what was expected for malformed tensors', () => {
    expect(errorOf(decodeTree(w('AAAAAAAAAAAAAAAAAAAAAAAAAAA=')))).toBe(
      'at state.mu.w0.data: base64 has 20 bytes, shape [2,3] float32 needs 24',
    )
    expect(errorOf(decodeTree(w('AAAA', [1], 'float64')))).toBe(
      'at state.mu.w0.dtype: expected one of float32, int32, bool, got "float64"',
    )
    expect(errorOf(decodeTree(w('AAAA', [2, -1])))).toBe('at state.mu.w0.shape: expected a list of non-negative integers, got [2,-1]')
    expect(errorOf(decodeTree(w('AA!A', [3], 'bool')))).toBe('at state.mu.w0.data: invalid base64: character "!" at position 2')
    expect(errorOf(decodeTree(w('AAA', [3], 'bool')))).toBe('at state.mu.w0.data: invalid base64: length 3 is not a multiple of 4')
    expect(errorOf(decodeTree(w('AAI=', [2], 'bool')))).toBe('at state.mu.w0.data: bool element 1 is byte 2, expected 0 or 1')
    expect(errorOf(decodeTree({ layers: [{ w: { __tensor__: 5 } }] }))).toBe(
      'at layers.0.w: expected a tensor {dtype, shape, data}, got 5',
    )
    expect(errorOf(decodeTree({ w: { __tensor__: { dtype: 'int32', shape: [1] } } }))).toBe('at w.data: expected a base64 string, got undefined')
  })

  it('reports every error, and rejects ambiguous tags, bad numbers and non-JSON values', () => {
    const msg = errorOf(decodeTree({ a: w('AAAA', [1], 'float64'), b: [{ __number__: 'nan' }] }))
    expect(msg.split('\n')).toEqual([
      'at a.state.mu.w0.dtype: expected one of float32, int32, bool, got "float64"',
      'at b.0: expected one of "NaN", "Infinity", "-Infinity", "-0", got "nan"',
    ])
    expect(errorOf(decodeTree({ x: { __tensor__: {}, y: 1 } }))).toBe(
      'at x: a tagged __tensor__ object must have that single key, got keys [__tensor__, y]',
    )
    expect(errorOf(decodeTree({ x: new Date(0) }))).toContain('at x: expected a JSON value')
    expect(errorOf(decodeTree(NaN))).toContain('at <root>: non-finite number NaN')
  })

  it('does not leak tensors decoded before an error', () => {
    const ok = { __tensor__: TensorCodec.encode(tensor([1, 2])) }
    const before = tensor([0]).backend.memory().tensors
    expect(E.isLeft(decodeTree({ a: ok, b: ok, c: w('AAAA') }))).toBe(true)
    expect(tensor([0]).backend.memory().tensors).toBe(before + 1)
  })

  it('encodeTree rejects leaves it cannot write, naming the path', () => {
    expect(() => encodeTree({ a: [new Map()] } as unknown as Tree<Leaf>)).toThrow('encodeTree: at a.0: cannot encode a Map leaf')
    expect(() => encodeTree({ b: { __tensor__: 1 } })).toThrow("encodeTree: at b: object key '__tensor__' is reserved")
    const gone = tensor([1])
    dispose(gone)
    expect(() => encodeTree({ p: [gone] })).toThrow('encodeTree: at p.0: dataSync: tensor float32[1] was disposed')
  })

  it('unwrap throws a CoreError with the message', () => {
    expect(() => unwrap(decodeTree(w('AAAA')))).toThrow(CoreError)
    expect(() => unwrap(decodeTree(w('AAAA')))).toThrow('at state.mu.w0.data: base64 has 3 bytes, shape [2,3] float32 needs 24')
  })
})

describe('codec: checkpoint envelope', () => {
  it('wraps the tree with format and version', () => {
    const json = encodeCheckpoint({ step: 3 })
    expect(json).toEqual({ format: 'frugal-ts/checkpoint', version: 1, tree: { step: 3 } })
    expect(checkpointCodec.is({ step: 3, w: tensor([1]) })).toBe(true)
    expect(unwrap(decodeCheckpoint(json))).toEqual({ step: 3 })
  })

  it('rejects a wrong format or version with a clear message', () => {
    expect(errorOf(decodeCheckpoint({ format: 'other', version: 1, tree: null }))).toBe(
      "at format: expected 'frugal-ts/checkpoint', got \"other\" (not a frugal-ts checkpoint)",
    )
    expect(errorOf(decodeCheckpoint({ format: 'frugal-ts/checkpoint', version: 2, tree: null }))).toBe(
      'at version: unsupported checkpoint version 2 (this build reads version 1)',
    )
    expect(errorOf(decodeCheckpoint([1]))).toBe('at <root>: expected a checkpoint {format, version, tree}, got [1]')
    expect(errorOf(decodeCheckpoint({ format: 'frugal-ts/checkpoint', version: 1, tree: w('AAAA') }))).toBe(
      'at tree.state.mu.w0.data: base64 has 3 bytes, shape [2,3] float32 needs 24',
    )
  })
})

describe('codec: binary', () => {
  const sample = () => ({ step: 7, params: { w: tensor([[1, 2, 3]]), ids: tensor([4, 5], 'int32') }, mask: tensor([true, false]) })

  it('lays out a magic prefix, a JSON header and 64-byte aligned buffers', () => {
    const bin = encodeTreeBinary(sample())
    expect(String.fromCharCode(...bin.subarray(0, 8))).toBe('FRUGALTS')
    const headerLength = new DataView(bin.buffer).getUint32(12, true)
    const header = JSON.parse(new TextDecoder().decode(bin.subarray(16, 16 + headerLength)))
    const isEntry = (x: unknown): x is { offset: number } => typeof x === 'object' && x !== null && 'offset' in x
    const offsets = T.leaves(header.tree, isEntry).filter(isEntry).map((x) => x.offset)
    expect(offsets).toHaveLength(3)
    expect(offsets.every((o) => o % 64 === 0)).toBe(true)
    sameTree(unwrap(decodeTreeBinary(bin)), sample())
  })

  it('property: binary round trip is bit-exact, also from an unaligned view', () => {
    fc.assert(
      fc.property(treeArb, (tree) => {
        const bin = encodeTreeBinary(tree)
        sameTree(unwrap(decodeTreeBinary(bin)), tree)
        const shifted = new Uint8Array(bin.length + 3)
        shifted.set(bin, 3)
        sameTree(unwrap(decodeTreeBinary(shifted.subarray(3))), tree)
      }),
      { numRuns: 60 },
    )
  })

  it('rejects wrong magic, truncation, bad headers and bad buffers', () => {
    const bin = encodeTreeBinary(sample())
    expect(errorOf(decodeTreeBinary(new Uint8Array([80, 75, 3, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0])))).toBe(
      'at <root>: not a frugal-ts binary checkpoint: magic bytes "PK\\u0003\\u0004\\u0000\\u0000\\u0000\\u0000", expected "FRUGALTS"',
    )
    expect(errorOf(decodeTreeBinary(bin.subarray(0, 10)))).toBe(
      'at <root>: truncated: 10 bytes, a frugal-ts binary checkpoint starts with a 16-byte prefix',
    )
    expect(errorOf(decodeTreeBinary(bin.subarray(0, 40)))).toMatch(/^at <root>: truncated: the header needs bytes \[16, \d+\), the data has 40$/)
    expect(errorOf(decodeTreeBinary(bin.subarray(0, bin.length - 1)))).toMatch(
      /^at params\.w\.offset: buffer \[\d+, \d+\) lies beyond the \d+ bytes of data \(truncated file\?\)$/,
    )
    const v2 = bin.slice()
    new DataView(v2.buffer).setUint32(8, 2, true)
    expect(errorOf(decodeTreeBinary(v2))).toBe('at <root>: unsupported binary checkpoint version 2 (this build reads version 1)')
    const garbled = bin.slice()
    garbled[16] = 0xff
    expect(errorOf(decodeTreeBinary(garbled))).toContain('at <root>: the header is not UTF-8 JSON')
    expect(errorOf(decodeTreeBinary('x' as unknown as Uint8Array))).toBe('at <root>: expected a Uint8Array, got "x"')
  })

  it('names the path of a buffer whose size does not match its shape', () => {
    const header = JSON.stringify({ tree: { a: { __tensor__: { dtype: 'int32', shape: [3], offset: 0, byteLength: 8 } } } })
    const h = new TextEncoder().encode(header)
    const bin = new Uint8Array(Math.ceil((16 + h.length) / 64) * 64 + 8)
    bin.set(new TextEncoder().encode('FRUGALTS'))
    new DataView(bin.buffer).setUint32(8, 1, true)
    new DataView(bin.buffer).setUint32(12, h.length, true)
    bin.set(h, 16)
    expect(errorOf(decodeTreeBinary(bin))).toBe('at a.byteLength: buffer has 8 bytes, shape [3] int32 needs 12')
  })
})
