import { describe, expect, it } from 'vitest'
import type { Tensor } from '@frugal-ts/core'
import { Key, currentBackend, memory, zeros } from '@frugal-ts/core'
import { adamw, badam, frugal } from '@frugal-ts/frugal'
import { cells, expandRuns, feedValidation, meanSd, parseLrGrid, peakCount, stateCount } from '../src/compare'
import type { Corpus } from '../src/data'
import { initParams } from '../src/model'
import { presetDefaults } from '../src/optimizers'
import { encode } from '../src/tokenizer'
import { mergeRuns } from '../src/merge'
import { orderings } from '../src/report'
import type { TrainConfig } from '../src/train'
import { createTrainer, disposeRun, runTraining } from '../src/train'

const text = encode('Fellow-Citizens of the Senate and House of Representatives: the state of the union is strong. '.repeat(40))
const corpus: Corpus = { source: 'test', train: text.subarray(0, 3000), validation: text.subarray(3000), trainDocs: 1, validationDocs: 1 }

describe('optimizer state counted as the paper counts it', () => {
  it('blocks at ρ = 0.25 of 10 equal leaves keep exactly round-half-even(2.5)/10 = 20 % of Adam’s state on them', () => {
    const params: Record<string, Tensor> = Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`w${i}`, zeros([3, 4])]))
    const c = stateCount(frugal({ learningRate: 1e-3, density: 0.25 }).init(params), params, false)
    // Adam on each leaf: two float32 moments of 12 entries and an int32 step count
    expect(c.adamProjectable).toBe(10 * (2 * 12 * 4 + 4))
    expect(c.projectable / c.adamProjectable).toBe(2 / 10)
    expect(stateCount(frugal({ learningRate: 1e-3, density: 0 }).init(params), params, false).projectable).toBe(0)
    expect(stateCount(frugal({ learningRate: 1e-3, density: 1 }).init(params), params, false).projectable).toBe(c.adamProjectable)
  })

  it('the default model: descending blocks at ρ = 0.25 are 7 of its 28 linears, one whole layer, exactly 25 %; AdamW is 100 %', () => {
    const params = initParams({ vocab: 256, layers: 4, width: 64, heads: 4, context: 64 }, Key.key(0))
    const c = stateCount(badam({ learningRate: 1e-3, density: 0.25 }).init(params as never), params, false)
    expect(c.projectable / c.adamProjectable).toBe(0.25)
    // the linears: per layer 4 of 64×64 and 3 of 64×176, Adam's two moments and a count on each
    expect(c.adamProjectable).toBe(4 * (4 * (2 * 64 * 64 * 4 + 4) + 3 * (2 * 64 * 176 * 4 + 4)))
    const a = stateCount(adamw({ learningRate: 1e-3 }).init(params as never), params, true)
    expect(a.projectable).toBe(a.adamProjectable)
    expect(a.whole).toBeGreaterThan(a.projectable)
  })

  it('peakCount moves the whole state’s growth into the projectable part (the rest is fixed)', () => {
    expect(peakCount({ projectable: 10, adamProjectable: 40, whole: 100 }, 130)).toEqual({ projectable: 40, adamProjectable: 40, whole: 130 })
    expect(peakCount({ projectable: 10, adamProjectable: 40, whole: 100 }, 100)).toEqual({ projectable: 10, adamProjectable: 40, whole: 100 })
  })
})

describe('seeds and learning-rate grids', () => {
  const base = {
    corpus: 'test', model: { vocab: 256, layers: 1, width: 16, heads: 2, context: 8 }, batch: 2, seed: 5,
    schedule: { lr: 1e-2, steps: 20, warmup: 0.2, endFraction: 0.1 },
    optimizer: { optimizer: 'adafrugal', density: 0.25, updateGap: 4, ...presetDefaults('adafrugal'), stateFreeScale: 1, weightDecay: 0 },
    evalEvery: 5, evalWindows: 4,
  } as TrainConfig

  it('expandRuns repeats each configuration at each rate and seed, seeds outermost', () => {
    const runs = expandRuns([base], { seeds: 2, lrGrid: [1e-3, 3e-3] })
    expect(runs.map((r) => [r.schedule.lr, r.seed])).toEqual([[1e-3, 5], [3e-3, 5], [1e-3, 6], [3e-3, 6]])
    expect(expandRuns([base], { seeds: 1 }).map((r) => [r.schedule.lr, r.seed])).toEqual([[1e-2, 5]])
  })

  it('meanSd is the mean and the sample (n − 1) standard deviation; cells group by method and rate', () => {
    expect(meanSd([1, 2, 3, 4])).toEqual({ mean: 2.5, sd: Math.sqrt(5 / 3) })
    expect(meanSd([2]).sd).toBeNaN()
    const r = (name: string, lr: number, seed: number, valLoss: number) => ({ name, valLoss, config: { ...base, seed, schedule: { ...base.schedule, lr } } })
    const cs = cells([r('a', 1, 0, 2), r('a', 1, 1, 4), r('a', 2, 0, 1), r('b', 1, 0, 3)])
    expect(cs.map((c) => [c.name, c.lr, c.seeds, c.mean])).toEqual([['a', 1, [0, 1], 3], ['a', 2, [0], 1], ['b', 1, [0], 3]])
  })

  it('orderings: neighbours apart when the gap exceeds the sum of their sds, otherwise within', () => {
    const r = (name: string, valLoss: number, seed: number) => ({ name, valLoss, config: { ...base, seed }, trainLoss: [], valCurve: [] }) as never
    // two seeds at m ± 0.1/√2 have sample sd 0.1: a 1 ± 0.1, c 1.15 ± 0.1, b 1.5 ± 0.1
    const pair = (n: string, m: number) => [r(n, m - 0.1 / Math.SQRT2, 0), r(n, m + 0.1 / Math.SQRT2, 1)]
    const out = orderings([...pair('b', 1.5), ...pair('a', 1), ...pair('c', 1.15)])
    expect(out[0]).toMatch(/^a < c: within 1 sd \(gap 0\.1500, sds 0\.1000 \+ 0\.1000\)$/)
    expect(out[1]).toMatch(/^c < b: beyond 1 sd \(gap 0\.3500/)
    expect(orderings([r('a', 1, 0), r('b', 2, 0)])[0]).toMatch(/one seed, no spread/)
  })

  it('mergeRuns joins results made in pieces, seeds outermost, then comparison order, then rate; a run twice is an error', () => {
    const r = (name: string, lr: number, seed: number) => ({ name, valLoss: 2, config: { ...base, seed, schedule: { ...base.schedule, lr } } }) as never
    const merged = mergeRuns([[r('frugal-ada', 0.01, 1), r('adam', 0.003, 1)], [r('galore', 0.001, 0), r('adam', 0.01, 0), r('adam', 0.001, 0)]])
    expect(merged.map((x: any) => `${x.config.seed} ${x.name} ${x.config.schedule.lr}`)).toEqual(['0 adam 0.001', '0 adam 0.01', '0 galore 0.001', '1 adam 0.003', '1 frugal-ada 0.01'])
    expect(() => mergeRuns([[r('adam', 0.01, 0)], [r('adam', 0.01, 0)]])).toThrow(/two results hold the run adam@0.01#0/)
  })

  it('parseLrGrid reads a comma-separated list of positive rates', () => {
    expect(parseLrGrid('1e-3, 0.003,1e-2')).toEqual([0.001, 0.003, 0.01])
    expect(() => parseLrGrid('1e-3,,1e-2')).toThrow(/got "" \(entry 2/)
    expect(() => parseLrGrid('-1')).toThrow(/numbers > 0, got "-1"/)
  })

  it('feedValidation records each validation loss into AdaFRUGAL’s state, so T grows after plateaus', () => {
    const t = feedValidation(createTrainer(base, corpus))
    const { state } = runTraining(t)
    const losses = Array.from((state.opt as { losses: Tensor }).losses.dataSync())
    const fed = state.valCurve.slice(0, -1).map((v) => v.loss) // the last evaluation has no step after it
    expect(losses.filter(Number.isFinite)).toEqual(Float32Array.from(fed).reduce<number[]>((a, x) => [...a, x], []))
    expect(losses.length).toBe(64)
    disposeRun(state)
    // without the feed the history stays empty
    const plain = runTraining(createTrainer(base, corpus)).state
    expect(Array.from((plain.opt as { losses: Tensor }).losses.dataSync()).filter(Number.isFinite)).toEqual([])
    disposeRun(plain)
  })

  it('feedValidation keeps memory flat: the replaced loss window and recordLoss’s intermediates are released', () => {
    const t = feedValidation(createTrainer(base, corpus))
    let s = t.init()
    const fed = (x: typeof s) => ({ ...x, valCurve: [...x.valCurve, { step: x.position, loss: 2 + x.position / 100 }] })
    s = t.step(fed(t.step(s).state)).state // traced and compiled
    const before = memory(currentBackend())
    for (let i = 0; i < 6; i++) s = t.step(fed(s)).state
    const after = memory(currentBackend())
    expect(after.tensors).toBe(before.tensors)
    expect(after.bytes).toBe(before.bytes)
    expect(Array.from((s.opt as { losses: Tensor }).losses.dataSync()).filter(Number.isFinite)).toHaveLength(7)
    disposeRun(s)
  })
})
