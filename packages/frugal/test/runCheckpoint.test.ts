import { spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import type { Tensor } from '@frugal-ts/core'
import { Key, Tree, tensor, zeros } from '@frugal-ts/core'
import type { GradientTransformation, Params } from '../src/GradientTransformation'
import { applyUpdates } from '../src/GradientTransformation'
import { adam, adamw } from '../src/aliases'
import { encodeOptimizerState, encodeOptimizerStateBinary } from '../src/checkpoint'
import { loadCheckpoint, readOptimizerState, saveCheckpoint, writeFileAtomic, writeOptimizerState } from '../src/checkpointNode'
import { crc32, crc32Hex } from '../src/crc32'
import { FrugalError } from '../src/FrugalError'
import { frugal } from '../src/frugal/presets'

const gauss = (seed: number, shape: number[]) => Key.normal(Key.key(seed), shape)
const model = (): Params => ({ layers: [{ wq: gauss(1, [6, 4]), w1: gauss(2, [4, 6]) }], norm: gauss(3, [4]), head: gauss(4, [4, 5]) })
const otherModel = (): Params => ({ layers: [{ wq: gauss(1, [6, 4]), w1: gauss(2, [4, 6]) }], norm: gauss(3, [4]), head: gauss(4, [4, 7]) })
const gradsAt = (t: number, p: Params): Params => Tree.map(p, (x: Tensor, path) => gauss(1000 * t + Tree.pathString(path).length, [...x.shape]))
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
const frugalError = (f: () => unknown, message: RegExp) => {
  let caught: unknown
  try {
    f()
  } catch (e) {
    caught = e
  }
  expect(caught, 'expected a FrugalError').toBeInstanceOf(FrugalError)
  expect((caught as Error).message).toMatch(message)
}

const dir = mkdtempSync(join(tmpdir(), 'frugal-run-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('crc32', () => {
  const text = (s: string) => new TextEncoder().encode(s)
  it('matches the published check values', () => {
    expect(crc32(text(''))).toBe(0)
    expect(crc32(text('123456789'))).toBe(0xcbf43926)
    expect(crc32(text('a'))).toBe(0xe8b7be43)
    expect(crc32(text('The quick brown fox jumps over the lazy dog'))).toBe(0x414fa339)
    expect(crc32Hex(text('123456789'))).toBe('cbf43926')
    expect(crc32(text('56789'), crc32(text('1234')))).toBe(0xcbf43926)
  })

  const python = spawnSync('python3', ['-c', 'print(1)']).status === 0
  it.skipIf(!python)('matches zlib.crc32 (Python) on random bytes of every length up to 300', () => {
    const key = Key.key(5)
    const all = Uint8Array.from(Key.uniform(key, [300 * 301 / 2]).dataSync(), (x) => Math.floor(x * 256))
    const chunks: Uint8Array[] = []
    for (let n = 0, off = 0; n <= 300; off += n, n++) chunks.push(all.subarray(off, off + n))
    const hex = chunks.map((c) => Buffer.from(c).toString('hex')).join(' ')
    const r = spawnSync('python3', ['-c', 'import sys, zlib\nfor h in sys.stdin.read().split(" "): print(zlib.crc32(bytes.fromhex(h)))'], { input: hex })
    expect(r.status).toBe(0)
    expect(chunks.map((c) => crc32(c))).toEqual(r.stdout.toString().trim().split('\n').map(Number))
  })
})

describe('run checkpoints (saveCheckpoint / loadCheckpoint)', () => {
  for (const [name, make] of [
    ['frugal', () => frugal({ learningRate: 0.01, weightDecay: 0.1, density: 0.5, updateGap: 3 })],
    ['adamw', () => adamw(0.01, { weightDecay: 0.1 })],
  ] as [string, () => GradientTransformation<unknown>][])
    it(`${name}: save after 4 steps, load, go on — the same bits as never stopping`, () => {
      const opt = make()
      const p0 = model()
      const [pEnd, sEnd] = run(opt, p0, opt.init(p0), 0, 8)
      const [pk, sk] = run(opt, p0, opt.init(p0), 0, 4)
      const file = join(dir, `${name}.ckpt`)
      saveCheckpoint(file, { params: pk, state: sk, step: 4, metadata: { dataKey: Key.key(9), note: 'four steps', lr: 0.01 } })
      const fresh = model()
      const back = loadCheckpoint(file, { params: fresh, state: make().init(fresh) })
      expect(back.step).toBe(4)
      expect((back.metadata as any).note).toBe('four steps')
      expect(Array.from((back.metadata as any).dataKey.dataSync())).toEqual(Array.from(Key.key(9).dataSync()))
      const [p, s] = run(make(), back.params, back.state, 4, 8)
      expect(bits(p)).toEqual(bits(pEnd))
      expect(bits(s)).toEqual(bits(sEnd))
      expect(readdirSync(dir).filter((n) => n.endsWith('.tmp'))).toEqual([])
    })

  it('like may be a function of the saved step and metadata', () => {
    const opt = adam(1e-3)
    const p = model()
    const file = join(dir, 'meta.ckpt')
    saveCheckpoint(file, { params: p, state: opt.init(p), step: 0, metadata: { headWidth: 5 } })
    const seen: unknown[] = []
    const back = loadCheckpoint(file, (saved) => {
      seen.push(saved)
      const fresh = model()
      return { params: fresh, state: opt.init(fresh) }
    })
    expect(seen).toEqual([{ step: 0, metadata: { headWidth: 5 } }])
    expect(bits(back.params)).toEqual(bits(p))
  })

  it('refuses, before writing anything, a state that does not belong to the parameters, a bad step, a directory', () => {
    const opt = adam(1e-3)
    const p = model()
    const file = join(dir, 'good.ckpt')
    saveCheckpoint(file, { params: p, state: opt.init(p), step: 1 })
    const before = readFileSync(file)
    frugalError(
      () => saveCheckpoint(file, { params: p, state: opt.init(otherModel()), step: 2 }),
      /^the optimizer state does not belong to these parameters: its 0\.mu has float32\[4, 7\] at head, the parameters have float32\[4, 5\] \(at state\.0\.mu\.head\)$/,
    )
    frugalError(() => saveCheckpoint(file, { params: p, state: frugal({ learningRate: 1 }).init(otherModel()), step: 2 }), /its leaves has .* at head|at state\.leaves/)
    frugalError(() => saveCheckpoint(file, { params: p, state: opt.init(p), step: -1 }), /^step must be a non-negative integer, got -1 \(at checkpoint\.step\)$/)
    frugalError(() => saveCheckpoint(file, { params: p, state: opt.init(p), step: 1.5 }), /got 1\.5/)
    frugalError(() => saveCheckpoint(file, { params: p, state: opt.init(p), step: 1, extra: 1 } as never), /^unknown field 'extra' \(at checkpoint\.extra\)/)
    frugalError(() => saveCheckpoint(file, { params: p, state: new Map(), step: 1 }), /^cannot encode the checkpoint/)
    expect(readFileSync(file).equals(before)).toBe(true)
    const sub = join(dir, 'a-directory')
    mkdirSync(sub)
    frugalError(() => saveCheckpoint(sub, { params: p, state: opt.init(p), step: 1 }), /a-directory is a directory; give the path of a checkpoint file inside it, e.g. .*a-directory\/run\.ckpt \(at saveCheckpoint\.file\)/)
    expect(readdirSync(dir).filter((n) => n.endsWith('.tmp'))).toEqual([])
  })

  it('refuses a run of another model or another optimizer, naming the path', () => {
    const p = otherModel()
    const file = join(dir, 'other.ckpt')
    saveCheckpoint(file, { params: p, state: adam(1e-3).init(p), step: 3 })
    const fresh = model()
    frugalError(
      () => loadCheckpoint(file, { params: fresh, state: adam(1e-3).init(fresh) }),
      /other\.ckpt: the parameters do not fit the model: the checkpoint has float32\[4, 7\] at head, the model float32\[4, 5\] \(at params\.head\)$/,
    )
    const q = model()
    saveCheckpoint(file, { params: q, state: adam(1e-3).init(q), step: 3 })
    frugalError(
      () => loadCheckpoint(file, { params: fresh, state: frugal({ learningRate: 1 }).init(fresh) }),
      /^the checkpoint's optimizer state has another structure: expected an object with keys \[count, key, leaves, losses, nextRefresh, refreshes\], got an array of length 2 \(at state\)$/,
    )
    // a changed dtype names the dtypes (it used to say "expected a tensor, got a tensor")
    saveCheckpoint(file, { params: q, state: [{ ...adam(1e-3).init(q)[0], count: zeros([]) }, adam(1e-3).init(q)[1]], step: 3 })
    frugalError(
      () => loadCheckpoint(file, { params: fresh, state: adam(1e-3).init(fresh) }),
      /expected an int32 tensor, got a float32 tensor \(at state\.0\.count\)$/,
    )
    frugalError(() => (loadCheckpoint as any)(file), /^like is required/)
    frugalError(() => loadCheckpoint(join(dir, 'nope.ckpt'), { params: fresh, state: null }), /nope\.ckpt: no such file/)
    writeOptimizerState(join(dir, 'opt-only.ckpt'), adam(1e-3).init(q), q)
    frugalError(() => loadCheckpoint(join(dir, 'opt-only.ckpt'), { params: fresh, state: null }), /an optimizer-state checkpoint \(writeOptimizerState\), not a run checkpoint/)
  })

  it('writeFileAtomic leaves no temporary file and the old content on failure', () => {
    const file = join(dir, 'atomic.txt')
    writeFileAtomic(file, new TextEncoder().encode('one'))
    writeFileAtomic(file, new TextEncoder().encode('two'))
    expect(readFileSync(file, 'utf8')).toBe('two')
    expect(() => writeFileAtomic(join(dir, 'missing', 'x'), new Uint8Array(1))).toThrow(/ENOENT/)
    expect(readdirSync(dir).filter((n) => n.endsWith('.tmp'))).toEqual([])
  })
})

describe('item 4: optimizer-state files carry a checksum and are checked against params on write', () => {
  const p = model()
  const opt = frugal({ learningRate: 0.01, density: 0.5, updateGap: 2 })
  const [pk, sk] = run(opt, p, opt.init(p), 0, 3)

  it('8 flipped bytes in the tensor data of a binary file are caught', () => {
    const file = join(dir, 'flip.ckpt')
    writeOptimizerState(file, sk, pk)
    const bytes = new Uint8Array(readFileSync(file))
    for (let i = 0; i < 8; i++) bytes[bytes.length - 40 - i] ^= 0x10
    writeFileSync(file, bytes)
    frugalError(() => readOptimizerState(file, pk, { like: opt.init(pk) }), /flip\.ckpt|checksum mismatch/)
    frugalError(() => readOptimizerState(file, pk, { like: opt.init(pk) }), /checksum mismatch \(stored crc32 [0-9a-f]{8}, the \d+ bytes give [0-9a-f]{8}\): the file is corrupted/)
  })

  it('one changed base64 character of a JSON file is caught', () => {
    const file = join(dir, 'b64.json')
    writeOptimizerState(file, sk, pk, { format: 'json' })
    const text = readFileSync(file, 'utf8')
    const at = text.indexOf('"data":"') + 12
    const changed = text.slice(0, at) + (text[at] === 'A' ? 'B' : 'A') + text.slice(at + 1)
    writeFileSync(file, changed)
    frugalError(() => readOptimizerState(file, pk, { like: opt.init(pk) }), /checksum mismatch \(stored crc32:[0-9a-f]{8}, the document gives crc32:[0-9a-f]{8}\)/)
    writeFileSync(file, text.replace(':', ': '))
    frugalError(() => readOptimizerState(file, pk, { like: opt.init(pk) }), /the JSON is not as writeOptimizerState wrote it/)
  })

  it("another model's state is refused before anything is written: the good checkpoint stays", () => {
    const file = join(dir, 'keep.ckpt')
    writeOptimizerState(file, sk, pk)
    const before = readFileSync(file)
    const other = otherModel()
    frugalError(() => writeOptimizerState(file, opt.init(other), pk), /^the optimizer state does not belong to these parameters: its leaves\.head\.inner\.mu has float32\[4, 7\] at head, the parameters have float32\[4, 5\] \(at state\.leaves\.head\.inner\.mu\)$/)
    frugalError(() => writeOptimizerState(file, adam(1e-3).init(other), pk), /its 0\.mu has float32\[4, 7\] at head, the parameters have float32\[4, 5\]/)
    frugalError(() => encodeOptimizerState(adam(1e-3).init(other), pk), /does not belong/)
    frugalError(() => encodeOptimizerStateBinary(adam(1e-3).init(other), pk), /does not belong/)
    expect(readFileSync(file).equals(before)).toBe(true)
  })

  it('like is required on read', () => {
    const file = join(dir, 'like.ckpt')
    writeOptimizerState(file, sk, pk)
    frugalError(() => (readOptimizerState as any)(file, pk), /^like is required: pass \{ like: optimizer\.init\(params\) \}/)
    frugalError(() => readOptimizerState(file, pk, { like: undefined as never }), /^like is required/)
  })
})
