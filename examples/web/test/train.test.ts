/**
 * The page's training and form logic in Node, on the cpu backend: the loss
 * falls for every optimizer, the backend's memory stays flat while a run
 * trains (FRUGAL's refreshes included), and the form's errors name the field,
 * the value and the fix.
 */
import { getBackend } from '@frugal-ts/core'
import { describe, expect, it } from 'vitest'
import { readSotuSlice } from '../sotu'
import { OPTIMIZERS } from '../src/choices'
import type { OptimizerChoice } from '../src/choices'
import { decode, encode, makeCorpus, rng, windows } from '../src/data'
import { FormError, readSpec } from '../src/form'
import { createRun, sampleToken } from '../src/train'

const corpus = makeCorpus(readSotuSlice())

describe('the bundled corpus', () => {
  it('is a few hundred KB of SOTU text over a small character vocabulary, split by speech', () => {
    expect(corpus.train.length + corpus.validation.length).toBeGreaterThan(250_000)
    expect(corpus.train.length + corpus.validation.length).toBeLessThan(400_000)
    expect(corpus.vocab.length).toBeLessThan(96)
    expect(corpus.validationSpeeches).toHaveLength(2)
    expect(decode(encode('The Congress', corpus.vocab), corpus.vocab)).toBe('The Congress')
    const w = windows(corpus.train, 4, 32, rng(0))
    expect(w).toHaveLength(4 * 33)
    expect(Math.max(...w)).toBeLessThan(corpus.vocab.length)
  })
})

describe('a run on the cpu backend', () => {
  for (const optimizer of Object.keys(OPTIMIZERS) as OptimizerChoice[])
    it(`${optimizer}: the loss falls and memory() is flat across refreshes`, () => {
      const run = createRun({ optimizer, density: 0.25, backend: 'cpu', steps: 40, lr: 0.01, seed: 0 }, corpus)
      // the backend's handles, and its bytes other than the optimizer state's (which
      // change with the sizes of FRUGAL's and BAdam's active blocks)
      const probe = () => {
        const m = getBackend('cpu').memory()
        return { tensors: m.tensors, bytesBesidesState: m.bytes - run.stateBytes }
      }
      // compiled; block methods (frugal, badam) switch to per-leaf pieces at their second refresh (step 4) and drop
      // the first period's programs then: memory is flat from there on
      for (let i = 0; i < 5; i++) run.advance()
      const before = probe()
      const sizes = new Set<number>()
      for (let i = 0; i < 20; i++) run.advance(), sizes.add(run.stateBytes) // 7 refreshes at updateGap(40) = 3
      expect(probe()).toEqual(before)
      // (and the refreshes did change the blocks of FRUGAL and BAdam)
      if (optimizer === 'frugal' || optimizer === 'badam') expect(sizes.size).toBeGreaterThan(1)
      const first = run.losses[0]
      const last = run.losses.slice(-3).reduce((a, b) => a + b) / 3
      expect(last).toBeLessThan(first - 0.5)
      const adamBytes = 8 * run.parameters
      if (optimizer === 'adam') expect(run.stateBytes).toBeGreaterThanOrEqual(adamBytes)
      else expect(run.stateBytes).toBeLessThan(0.6 * adamBytes)
      const next = sampleToken(run.nextLogits(Array.from(encode('The ', corpus.vocab)), 0), 0.5, rng(1))
      expect(next).toBeGreaterThanOrEqual(0)
      expect(next).toBeLessThan(corpus.vocab.length)
      run.dispose()
    })
})

describe('the form', () => {
  const form = { optimizer: 'frugal', density: '0.25', backend: 'cpu', steps: '200', lr: '0.01' }
  const error = (f: Partial<typeof form>): FormError => {
    try {
      readSpec({ ...form, ...f }, 0)
    } catch (e) {
      if (e instanceof FormError) return e
      throw e
    }
    throw new Error('no FormError')
  }

  it('builds a spec from good values', () => {
    expect(readSpec(form, 0)).toEqual({ optimizer: 'frugal', density: 0.25, backend: 'cpu', steps: 200, lr: 0.01, seed: 0 })
  })

  it('rejects a density outside [0, 1] with the library message and a fix', () => {
    for (const optimizer of ['frugal', 'galore', 'badam']) {
      const e = error({ optimizer, density: '1.5' })
      expect(e.field).toBe('density')
      expect(e.message).toBe(`density must be in [0, 1], got 1.5 (at ${optimizer}.density)`)
      expect(e.fix).toMatch(/between 0 and 1/)
    }
    expect(error({ density: '-0.1' }).message).toMatch(/density must be in \[0, 1\], got -0.1/)
    expect(error({ density: '' }).message).toBe('density must be a number, got ""')
    expect(readSpec({ ...form, optimizer: 'adam', density: '1.5' }, 0).density).toBe(1) // Adam does not use it
  })

  it('names the other bad fields', () => {
    expect(error({ steps: '2.5' }).field).toBe('steps')
    expect(error({ lr: '0' }).field).toBe('lr')
    expect(error({ backend: 'webgpu' }).message).toBe('unknown backend "webgpu"')
    expect(error({ optimizer: 'sgd' }).field).toBe('optimizer')
  })
})
