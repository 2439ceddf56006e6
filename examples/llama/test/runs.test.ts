import { describe, expect, it } from 'vitest'
import { buildConfig } from '../src/config'
import type { Corpus } from '../src/data'
import { jobsFor, threadsPerJob, trainInWorkers, trainPlanned } from '../src/runs'
import { encode } from '../src/tokenizer'
import { disposeRun } from '../src/train'

const text = encode('Fellow-Citizens of the Senate and House of Representatives: the state of the union is strong. '.repeat(40))
const corpus: Corpus = { source: 'test', train: text.subarray(0, 3000), validation: text.subarray(3000), trainDocs: 1, validationDocs: 1 }
const tiny = buildConfig({ layers: 1, width: 16, heads: 2, context: 8, batch: 2, steps: 3, 'eval-windows': 4, optimizer: 'frugal' })

describe('runs on worker threads', () => {
  it('jobs: one per core unless --jobs says otherwise, never more than the runs; threads split the cores', () => {
    expect(jobsFor(undefined, 6, 2)).toBe(2)
    expect(jobsFor(undefined, 1, 2)).toBe(1)
    expect(jobsFor(4, 3, 2)).toBe(3)
    expect(jobsFor(1, 6, 16)).toBe(1)
    expect([threadsPerJob(2, 2), threadsPerJob(1, 2), threadsPerJob(3, 16), threadsPerJob(4, 2)]).toEqual([1, 2, 5, 1])
  })

  it('a worker trains the run this thread trains, bit for bit, and returns results in plan order', async () => {
    const configs = [tiny, { ...tiny, seed: 1 }, { ...tiny, optimizer: { ...tiny.optimizer, optimizer: 'adam' as const } }]
    const here = configs.map((c) => {
      const { result, state } = trainPlanned(c, corpus)
      disposeRun(state)
      return result!
    })
    const order: number[] = []
    const there = await trainInWorkers(configs, corpus, 2, 1, { onDone: (i) => order.push(i) })
    expect(order.sort()).toEqual([0, 1, 2])
    there.forEach((r, i) => {
      expect(r.name).toBe(here[i].name)
      expect(r.trainLoss).toEqual(here[i].trainLoss)
      expect(r.valCurve).toEqual(here[i].valCurve)
      expect(r.stateBytes).toBe(here[i].stateBytes)
    })
  })

  it("a run that fails in its worker rejects with the run's name and the error, and stops the others", async () => {
    const bad = { ...tiny, optimizer: { ...tiny.optimizer, density: 2 } }
    const events: string[] = []
    const hooks = { onStart: (i: number) => events.push(`start ${i}`), onDone: (i: number) => events.push(`done ${i}`) }
    await expect(trainInWorkers([tiny, bad, tiny, tiny, tiny, tiny], corpus, 2, 1, hooks)).rejects.toThrow(/^frugal-2 \(run 2 of 6\): .*density/)
    const atFailure = events.length
    await new Promise((r) => setTimeout(r, 1500)) // long enough for several tiny runs
    expect(events.slice(atFailure)).toEqual([]) // nothing started or finished after it
    expect(events.filter((e) => e.startsWith('start')).length).toBeLessThan(6)
  })
})
