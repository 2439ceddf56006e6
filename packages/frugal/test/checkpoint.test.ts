import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import type { Tensor } from '@frugal-ts/core'
import { Key, Tree, zeros } from '@frugal-ts/core'
import type { GradientTransformation, Params } from '../src/GradientTransformation'
import { applyUpdates } from '../src/GradientTransformation'
import { adamw } from '../src/aliases'
import {
  decodeOptimizerState, decodeOptimizerStateBinary, encodeOptimizerState, encodeOptimizerStateBinary,
} from '../src/checkpoint'
import { readOptimizerState, writeOptimizerState } from '../src/checkpointNode'
import { FrugalError } from '../src/FrugalError'
import { crc32Hex } from '../src/crc32'
import { frugal } from '../src/frugal/presets'

const gauss = (seed: number, shape: number[]) => Key.normal(Key.key(seed), shape)
const params0 = (): Params => ({ layers: [{ wq: gauss(1, [6, 4]), w1: gauss(2, [4, 6]) }], norm: gauss(3, [4]), head: gauss(4, [4, 5]) })
const gradsAt = (t: number, p: Params): Params => Tree.map(p, (x: Tensor, path) => gauss(1000 * t + Tree.pathString(path).length, [...x.shape]))
/** every number of a tree as its exact bits */
const bits = (tree: unknown): number[][] =>
  Tree.leaves(tree as Params)
    .filter((x) => typeof (x as Tensor)?.dataSync === 'function')
    .map((x) => Array.from(new Int32Array((x as Tensor).dataSync().slice().buffer)))

const run = <S>(opt: GradientTransformation<S>, p: Params, s: S, from: number, to: number): [Params, S] => {
  for (let t = from; t < to; t++) {
    const r = opt.update(gradsAt(t, p), s, p)
    ;[p, s] = [applyUpdates(p, r.updates), r.state]
  }
  return [p, s]
}

/** a JSON document with the checksum the writer would give it */
const sealed = (doc: object) => ({ ...doc, checksum: `crc32:${crc32Hex(new TextEncoder().encode(JSON.stringify(doc)))}` })

const dir = mkdtempSync(join(tmpdir(), 'frugal-ckpt-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('optimizer-state checkpoints', () => {
  const optimizers = {
    'frugal, random blocks': () => frugal({ learningRate: 0.01, weightDecay: 0.1, density: 0.5, updateGap: 3 }),
    'frugal, svd': () => frugal({ learningRate: 0.01, density: 0.5, updateGap: 3, projector: 'svd' }),
    'frugal, randk': () => frugal({ learningRate: 0.01, density: 0.5, updateGap: 3, projector: 'randk', seed: 7 }),
    adamw: () => adamw(0.01, { weightDecay: 0.1 }),
  }

  for (const [name, make] of Object.entries(optimizers)) {
    it(`${name}: save after k steps, load, go on — identical bits to an uninterrupted run (JSON and binary)`, () => {
      const opt = make() as GradientTransformation<unknown>
      const p0 = params0()
      const [pEnd, sEnd] = run(opt, p0, opt.init(p0), 0, 8)
      const [pk, sk] = run(opt, p0, opt.init(p0), 0, 4)
      const viaJson = decodeOptimizerState<unknown>(JSON.parse(JSON.stringify(encodeOptimizerState(sk, pk))), pk, { like: opt.init(pk) })
      const viaBinary = decodeOptimizerStateBinary<unknown>(encodeOptimizerStateBinary(sk, pk), pk, { like: opt.init(pk) })
      for (const restored of [viaJson, viaBinary]) {
        const [p, s] = run(make() as GradientTransformation<unknown>, pk, restored, 4, 8)
        expect(bits(p)).toEqual(bits(pEnd))
        expect(bits(s)).toEqual(bits(sEnd))
      }
    })
  }

  it('writes files atomically (temporary file, then rename) and reads them back, binary or JSON', () => {
    const opt = frugal({ learningRate: 0.01, density: 0.5, updateGap: 2 })
    const p = params0()
    const [pk, sk] = run(opt, p, opt.init(p), 0, 3)
    const file = join(dir, 'opt.ckpt')
    writeOptimizerState(file, opt.init(p), p)
    writeOptimizerState(file, sk, pk) // replaces the old one
    expect(readdirSync(dir).filter((n) => n.startsWith('.opt.ckpt') || n === 'opt.ckpt')).toEqual(['opt.ckpt'])
    expect(bits(readOptimizerState(file, pk, { like: opt.init(pk) }))).toEqual(bits(sk))
    writeOptimizerState(join(dir, 'opt.json'), sk, pk, { format: 'json' })
    expect(JSON.parse(readFileSync(join(dir, 'opt.json'), 'utf8')).format).toBe('frugal-ts/checkpoint')
    expect(bits(readOptimizerState(join(dir, 'opt.json'), pk, { like: opt.init(pk) }))).toEqual(bits(sk))
    rmSync(join(dir, 'opt.json'))
  })

  it('a failed write leaves the previous checkpoint intact and no temporary file', () => {
    const file = join(dir, 'keep.ckpt')
    const p = { w: zeros([2, 2]) }
    const s = adamw(0.01).init(p)
    writeOptimizerState(file, s, p)
    const before = readFileSync(file)
    expect(() => writeOptimizerState(file, { bad: new Map() }, p)).toThrow(FrugalError)
    expect(() => writeOptimizerState(join(dir, 'missing', 'x.ckpt'), s, p)).toThrow()
    expect(readFileSync(file).equals(before)).toBe(true)
    expect(readdirSync(dir)).toContain('keep.ckpt')
    expect(readdirSync(dir).filter((n) => n.endsWith('.tmp'))).toEqual([])
  })

  it('refuses a checkpoint saved for other parameters with a FrugalError naming the path', () => {
    const opt = frugal({ learningRate: 0.01 })
    const p = params0()
    const json = JSON.parse(JSON.stringify(encodeOptimizerState(opt.init(p), p)))
    const wider = { ...(p as object), head: zeros([4, 6]) }
    const like = { like: opt.init(p) }
    expect(() => decodeOptimizerState(json, wider, like)).toThrow(FrugalError)
    expect(() => decodeOptimizerState(json, wider, like)).toThrow(/head was float32\[4, 5\], the parameters have float32\[4, 6\] \(at head\)/)
    const fewer = { ...(p as object), norm: undefined }
    expect(() => decodeOptimizerState(json, fewer, like)).toThrow(/has state for norm, which these parameters lack \(at norm\)/)
    const more = { ...(p as object), extra: zeros([2]) }
    expect(() => decodeOptimizerState(json, more, like)).toThrow(/has no state for extra \(at extra\)/)
    const adamJson = JSON.parse(JSON.stringify(encodeOptimizerState(adamw(0.01).init(p), p)))
    expect(() => decodeOptimizerState(adamJson, p, { like: opt.init(p) })).toThrow(/another structure: expected an object with keys .* \(at state\)/)
    const file = join(dir, 'garbage.ckpt')
    writeFileSync(file, 'not a checkpoint')
    expect(() => readOptimizerState(file, p, like)).toThrow(FrugalError)
    rmSync(file)
    expect(() => decodeOptimizerState(sealed({ format: 'frugal-ts/checkpoint', version: 1, tree: { kind: 'x' } }), p, like)).toThrow(/not an optimizer-state checkpoint/)
    expect(() => decodeOptimizerState(sealed({ format: 'frugal-ts/checkpoint', version: 2, tree: {} }), p, like)).toThrow(/unsupported checkpoint version 2/)
    expect(() => decodeOptimizerState({ format: 'frugal-ts/checkpoint', version: 1, tree: {} }, p, like)).toThrow(/no checksum/)
  })

  it('keeps Node out of the browser-safe module', () => {
    const source = readFileSync(new URL('../src/checkpoint.ts', import.meta.url), 'utf8')
    expect(source).not.toMatch(/from 'node:|from 'fs'|require\(/)
    expect(existsSync(new URL('../src/checkpointNode.ts', import.meta.url))).toBe(true)
  })
})
