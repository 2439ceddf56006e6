import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import type { Tensor } from '@frugal-ts/core'
import { Tree, currentBackend, fromArray, memory } from '@frugal-ts/core'
import { valueAndGrad } from '@frugal-ts/autodiff'
import { applyUpdates, crc32, stateBytes } from '@frugal-ts/frugal'
import { loadRun, saveRun } from '../src/checkpoint'
import type { Corpus } from '../src/data'
import { sampleBatch } from '../src/data'
import { lmLoss } from '../src/model'
import type { OptimizerConfig } from '../src/optimizers'
import { makeOptimizer, presetDefaults } from '../src/optimizers'
import type { RunState, TrainConfig } from '../src/train'
import { createTrainer, disposeRun, runTraining } from '../src/train'
import { encode } from '../src/tokenizer'

const text = encode('Fellow-Citizens of the Senate and House of Representatives: the state of the union is strong. '.repeat(40))
const corpus: Corpus = { source: 'test', train: text.subarray(0, 3000), validation: text.subarray(3000), trainDocs: 1, validationDocs: 1 }

const configFor = (optimizer: OptimizerConfig['optimizer'], density = 0.25, steps = 12): TrainConfig => ({
  corpus: 'test',
  model: { vocab: 256, layers: 1, width: 16, heads: 2, context: 8 },
  batch: 2,
  seed: 3,
  schedule: { lr: 1e-2, steps, warmup: 0.2, endFraction: 0.1 },
  optimizer: { optimizer, density, updateGap: 4, ...presetDefaults(optimizer), stateFreeScale: 1, weightDecay: 0.01 },
  evalEvery: 5,
  evalWindows: 4,
})

/** every tensor of a tree as bytes, with its path */
const bits = (tree: unknown) =>
  (Tree.leavesWithPath(tree as Tree.Tree<unknown>).filter(([, t]) => t !== null) as [Tree.Path, Tensor][]).map(
    ([p, t]) => `${Tree.pathString(p)}:${Buffer.from((t.dataSync() as Float32Array).buffer).toString('hex')}`,
  )

describe('checkpoint and resume', () => {
  const dir = mkdtempSync(join(tmpdir(), 'llama-ckpt-'))
  for (const [optimizer, density] of [['frugal', 0.25], ['galore', 0.25], ['badam', 0.25], ['adam', 1], ['frugal', 0]] as const) {
    it(`a resumed ${optimizer} (ρ ${density}) run is bit-identical to an uninterrupted one`, () => {
      const config = configFor(optimizer, density)
      const whole = runTraining(createTrainer(config, corpus)).state
      const file = join(dir, `${optimizer}-${density}.ckpt`)
      const first = runTraining(createTrainer(config, corpus), { stopAfter: 6, onSave: (s) => saveRun(file, config, s) }).state
      expect(first.position).toBe(6)
      disposeRun(first)
      const loaded = loadRun(file)
      expect(loaded.config).toEqual(config)
      expect(loaded.state.position).toBe(6)
      const resumed = runTraining(createTrainer(loaded.config, corpus), { resume: loaded.state }).state
      expect(resumed.trainLoss).toEqual(whole.trainLoss)
      expect(resumed.valCurve).toEqual(whole.valCurve)
      expect(bits(resumed.params)).toEqual(bits(whole.params))
      expect(bits(resumed.opt)).toEqual(bits(whole.opt))
      expect(resumed.peakStateBytes).toBe(whole.peakStateBytes)
    })
  }

  it('rejects truncated and corrupted files with one line, leaving them as they were', () => {
    const config = configFor('frugal', 0.25, 4)
    const file = join(dir, 'ok.ckpt')
    runTraining(createTrainer(config, corpus), { onSave: (s) => saveRun(file, config, s) })
    const bytes = readFileSync(file)
    const flipped = Buffer.from(bytes)
    flipped[flipped.length >> 1] ^= 0x40
    writeFileSync(join(dir, 'flipped.ckpt'), flipped)
    writeFileSync(join(dir, 'short.ckpt'), bytes.subarray(0, bytes.length - 100))
    writeFileSync(join(dir, 'text.ckpt'), 'hello')
    expect(() => loadRun(join(dir, 'flipped.ckpt'))).toThrow(/checksum mismatch/)
    expect(() => loadRun(join(dir, 'short.ckpt'))).toThrow(/short\.ckpt: no checksum trailer at the end \(\d+ bytes\): the file is truncated/)
    expect(() => loadRun(join(dir, 'text.ckpt'))).toThrow(/text\.ckpt: no checksum trailer at the end \(5 bytes\)/)
    expect(() => loadRun(join(dir, 'missing.ckpt'))).toThrow(/no such file/)
    expect(readFileSync(file).equals(bytes)).toBe(true)
    expect(crc32(new TextEncoder().encode('123456789'))).toBe(0xcbf43926)
  })
})

describe('training loop', () => {
  it('the trainer (trainStep: refresh on the host, compiled update) matches eager FRUGAL', () => {
    const config = configFor('frugal', 0.25, 9)
    const jitted = runTraining(createTrainer(config, corpus)).state
    // the same run, eagerly: update() runs refresh itself when it is due
    const t = createTrainer(config, corpus)
    const opt = makeOptimizer(config.optimizer, config.schedule)
    const s0: RunState = t.init()
    let params = s0.params
    let state = s0.opt
    const losses: number[] = []
    for (let i = 0; i < 9; i++) {
      const toks = fromArray(sampleBatch(corpus.train, s0.dataKey, i, 2, 8), [2, 9], 'int32')
      const [l, g] = valueAndGrad((p: typeof params) => lmLoss(p, toks, 2))(params)
      const r = opt.update(g as never, state, params as never)
      params = applyUpdates(params as never, r.updates) as never
      state = r.state
      losses.push(l.item())
    }
    losses.forEach((l, i) => expect(Math.abs(l - jitted.trainLoss[i])).toBeLessThan(1e-4))
    const a = Tree.leaves(params as never) as Tensor[]
    const b = Tree.leaves(jitted.params as never) as Tensor[]
    a.forEach((x, i) => {
      const [u, v] = [x.dataSync(), b[i].dataSync()]
      for (let j = 0; j < u.length; j++) expect(Math.abs(u[j] - v[j])).toBeLessThan(1e-4)
    })
  })

  // the optimizer state's own bytes change with the sizes of the active blocks; everything else may not change at all
  for (const [optimizer, projection] of [['galore', 'svd'], ['frugal', 'randk'], ['frugal', 'blocks'], ['badam', 'blocks'], ['adam', 'blocks']] as const)
    it(`keeps memory flat across ${optimizer} (${projection}) steps, refreshes included`, () => {
      const base = configFor(optimizer, 0.25, 40)
      const t = createTrainer({ ...base, optimizer: { ...base.optimizer, projection } }, corpus)
      let s = t.init()
      for (let i = 0; i < 10; i++) s = t.step(s).state
      const probe = () => ({ ...memory(currentBackend()), bytes: memory(currentBackend()).bytes - stateBytes(s.opt) })
      const before = probe()
      for (let i = 0; i < 24; i++) s = t.step(s).state // 6 refreshes (T = 4)
      expect(probe()).toEqual(before)
      disposeRun(s)
    })

  it('learns: the loss falls on a repetitive text', () => {
    const { state } = runTraining(createTrainer({ ...configFor('adam', 1, 30), evalEvery: 30 }, corpus))
    expect(state.trainLoss.slice(-5).reduce((a, b) => a + b) / 5).toBeLessThan(state.trainLoss[0] - 1)
  })
})
