import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import fc from 'fast-check'
import { afterAll, describe, expect, it } from 'vitest'
import type { Tensor } from '@frugal-ts/core'
import { Key, Tree, cast, reshape, zeros } from '@frugal-ts/core'
import { checkParams } from '@frugal-ts/core/testing'
import type { Params } from '../src/GradientTransformation'
import { applyUpdates } from '../src/GradientTransformation'
import { adam } from '../src/aliases'
import { loadCheckpoint, readOptimizerState, saveCheckpoint, writeOptimizerState } from '../src/checkpointNode'
import { FrugalError } from '../src/FrugalError'
import { frugal } from '../src/frugal/presets'

/**
 * Random corruptions of checkpoint files: every one is rejected with a
 * FrugalError that says what is wrong, and the good file next to it stays
 * byte for byte as it was.
 */

const gauss = (seed: number, shape: number[]) => Key.normal(Key.key(seed), shape)
const model = (): Params => ({ layers: [{ wq: gauss(1, [8, 4]), w1: gauss(2, [4, 8]) }], norm: gauss(3, [4]), head: gauss(4, [4, 5]) })
const opt = frugal({ learningRate: 0.01, density: 0.5, updateGap: 2, projector: 'randk' })
const p0 = model()
let state = opt.init(p0)
let params = p0
for (let t = 0; t < 3; t++) {
  const r = opt.update(Tree.map(params, (x: Tensor, path) => gauss(10 * t + Tree.pathString(path).length, [...x.shape])), state, params)
  ;[params, state] = [applyUpdates(params, r.updates), r.state]
}
const like = () => ({ params: model(), state: opt.init(model()) })

const dir = mkdtempSync(join(tmpdir(), 'frugal-corrupt-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
const good = join(dir, 'good.ckpt')
saveCheckpoint(good, { params, state, step: 3, metadata: { note: 'good' } })
const goodBytes = new Uint8Array(readFileSync(good))
const goodOpt = join(dir, 'good-opt.ckpt')
writeOptimizerState(goodOpt, state, params)
const goodOptJson = join(dir, 'good-opt.json')
writeOptimizerState(goodOptJson, state, params, { format: 'json' })
const [optBytes, optJsonBytes] = [new Uint8Array(readFileSync(goodOpt)), new Uint8Array(readFileSync(goodOptJson))]

const intact = () => {
  expect(Buffer.from(readFileSync(good)).equals(Buffer.from(goodBytes))).toBe(true)
  expect(Buffer.from(readFileSync(goodOpt)).equals(Buffer.from(optBytes))).toBe(true)
  expect(Buffer.from(readFileSync(goodOptJson)).equals(Buffer.from(optJsonBytes))).toBe(true)
}

const rejected = (f: () => unknown, clear: RegExp): boolean => {
  try {
    f()
  } catch (e) {
    if (!(e instanceof FrugalError)) throw new Error(`expected a FrugalError, got ${(e as Error).name}: ${(e as Error).message}`)
    if (!clear.test(e.message)) throw new Error(`unclear message: ${e.message}`)
    return true
  }
  return false
}

/** A corruption of some bytes: a truncation, or flips (xor with a non-zero byte) at some positions. */
type Corruption = { readonly kind: 'truncate'; readonly keep: number } | { readonly kind: 'flip'; readonly at: readonly number[]; readonly xor: readonly number[] }

const arbCorruption = (n: number): fc.Arbitrary<Corruption> =>
  fc.oneof(
    fc.record({ kind: fc.constant('truncate' as const), keep: fc.nat({ max: n - 1 }) }),
    fc.integer({ min: 1, max: 16 }).chain((k) =>
      fc.record({
        kind: fc.constant('flip' as const),
        at: fc.uniqueArray(fc.nat({ max: n - 1 }), { minLength: k, maxLength: k }),
        xor: fc.array(fc.integer({ min: 1, max: 255 }), { minLength: k, maxLength: k }),
      }),
    ),
  )

const apply = (bytes: Uint8Array, c: Corruption): Uint8Array => {
  if (c.kind === 'truncate') return bytes.slice(0, c.keep)
  const out = bytes.slice()
  c.at.forEach((i, j) => (out[i] ^= c.xor[j]))
  return out
}

const BYTES = /checksum mismatch|no checksum|truncated|not a (binary|JSON|valid)|neither a binary nor a JSON|not as writeOptimizerState wrote it/

describe('checkpoint corruptions are all rejected, the previous file intact', () => {
  it('run checkpoints: truncations and byte flips', () => {
    const bad = join(dir, 'bad.ckpt')
    fc.assert(
      fc.property(arbCorruption(goodBytes.length), (c) => {
        writeFileSync(bad, apply(goodBytes, c))
        expect(rejected(() => loadCheckpoint(bad, like()), BYTES)).toBe(true)
        intact()
      }),
      checkParams({ numRuns: 150 }),
    )
  })

  it('optimizer-state checkpoints, binary and JSON: truncations and byte flips', () => {
    const bad = join(dir, 'bad-opt')
    for (const bytes of [optBytes, optJsonBytes])
      fc.assert(
        fc.property(arbCorruption(bytes.length), (c) => {
          writeFileSync(bad, apply(bytes, c))
          expect(rejected(() => readOptimizerState(bad, params, { like: opt.init(params) }), BYTES)).toBe(true)
          intact()
        }),
        checkParams({ numRuns: 100 }),
      )
  })

  // structure changes: a leaf's shape, its dtype, a leaf dropped or added
  type Change = { readonly kind: 'shape' | 'dtype' | 'drop' | 'add'; readonly leaf: number }
  const leafPaths = Tree.paths(params).map((p) => Tree.pathString(p))
  const arbChange: fc.Arbitrary<Change> = fc.record({ kind: fc.constantFrom('shape', 'dtype', 'drop', 'add'), leaf: fc.nat({ max: leafPaths.length - 1 }) })
  const changed = (c: Change): Params => {
    const target = leafPaths[c.leaf]
    const out = Tree.map(params, (x: Tensor, path) => {
      if (Tree.pathString(path) !== target) return x
      if (c.kind === 'shape') return x.rank === 2 ? reshape(x, [x.shape[1], x.shape[0]]) : reshape(x, [1, x.size])
      if (c.kind === 'dtype') return cast(x, 'int32')
      return x
    }) as Record<string, unknown>
    if (c.kind === 'drop') return c.leaf % 2 ? { ...out, norm: undefined } : { ...out, head: undefined }
    if (c.kind === 'add') return { ...out, extra: zeros([3]) }
    return out as Params
  }

  // FRUGAL's state of a split leaf is subspace-sized and does not record the leaf's shape: a split (2-D) leaf of the
  // same size with its dimensions swapped is not told apart on write (RandK's flat indices fit either); the
  // parameters stored with it are, on read, against the model
  const undetectableOnWrite = (c: Change) => c.kind === 'shape' && leafPaths[c.leaf].startsWith('layers')

  it('run checkpoints: a changed shape, dtype or structure of the parameters or state', () => {
    fc.assert(
      fc.property(arbChange, (c) => {
        const p = changed(c)
        // the state of the good run does not belong to the changed parameters: refused before anything is written
        if (!undetectableOnWrite(c))
          expect(rejected(() => saveCheckpoint(good, { params: p, state, step: 3 }), /does not belong to these parameters/)).toBe(true)
        intact()
        // a consistent checkpoint of the changed model (its own state) is refused by the original model
        const bad = join(dir, 'changed.ckpt')
        saveCheckpoint(bad, { params: p, state: c.kind === 'dtype' ? null : adam(1e-3).init(p), step: 3 })
        expect(
          rejected(
            () => loadCheckpoint(bad, { params: model(), state: c.kind === 'dtype' ? null : adam(1e-3).init(model()) }),
            /the parameters do not fit the model: the checkpoint has .* at .*, the model .* \(at params(\.|\))/,
          ),
        ).toBe(true)
        intact()
      }),
      checkParams({ numRuns: 40 }),
    )
  })

  it('optimizer-state checkpoints: state written for changed parameters, read against the original', () => {
    fc.assert(
      fc.property(arbChange, (c) => {
        const p = changed(c)
        if (!undetectableOnWrite(c)) expect(rejected(() => writeOptimizerState(goodOpt, state, p), /does not belong to these parameters/)).toBe(true)
        intact()
        const bad = join(dir, 'changed-opt.ckpt')
        writeOptimizerState(bad, c.kind === 'dtype' ? null : adam(1e-3).init(p), p)
        expect(rejected(() => readOptimizerState(bad, model(), { like: c.kind === 'dtype' ? null : adam(1e-3).init(model()) }), /saved for other parameters: .* \(at /)).toBe(true)
        intact()
      }),
      checkParams({ numRuns: 30 }),
    )
  })
})
