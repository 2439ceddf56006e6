import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { Key } from '@frugal-ts/core'
import { checkCorpus, loadCorpus, loadSentiment, loadSotu, sampleBatch, splitByDocument, validationWindows } from '../src/data'
import { UsageError } from '../src/errors'
import { VOCAB, decode, encode } from '../src/tokenizer'

describe('byte tokenizer', () => {
  it('round-trips any text through 256 byte tokens', () => {
    const text = 'Fellow-Citizens — “union” ✓ é'
    const t = encode(text)
    expect(VOCAB).toBe(256)
    expect(Math.max(...t)).toBeLessThan(256)
    expect(decode(t)).toBe(text)
  })
})

describe('State of the Union corpus', () => {
  const docs = loadSotu()
  it('reads the 233 speeches (about 10.7 M characters) from the installed package, in order', () => {
    expect(docs.length).toBe(233)
    expect(docs[0].name).toBe('1790_george_washington_n')
    expect(docs[docs.length - 1].name).toMatch(/^2021_/)
    const chars = docs.reduce((s, d) => s + d.text.length, 0)
    expect(chars).toBeGreaterThan(10_500_000)
    expect(chars).toBeLessThan(11_000_000)
  })

  it('holds out every 10th speech for validation', () => {
    const c = splitByDocument(docs, 10, 'sotu')
    expect([c.trainDocs, c.validationDocs]).toEqual([210, 23])
    expect(decode(c.validation.subarray(0, 40))).toBe(docs[9].text.trim().slice(0, 40))
    expect(loadCorpus('sotu').validation.length).toBe(c.validation.length)
  })

  it('draws batches as a pure function of the key and the position', () => {
    const data = encode('abcdefghijklmnopqrstuvwxyz'.repeat(10))
    const a = sampleBatch(data, Key.key(1), 5, 4, 8)
    expect(a.length).toBe(4 * 9)
    expect(sampleBatch(data, Key.key(1), 5, 4, 8)).toEqual(a)
    expect(sampleBatch(data, Key.key(1), 6, 4, 8)).not.toEqual(a)
    for (let b = 0; b < 4; b++) for (let t = 1; t < 9; t++) expect((a[b * 9 + t] - a[b * 9 + t - 1] + 26) % 26).toBe(1)
    const w = validationWindows(data, 8, 3)
    expect(Array.from(w.subarray(0, 9))).toEqual(Array.from(data.subarray(0, 9)))
    expect(Array.from(w.subarray(18))).toEqual(Array.from(data.subarray(data.length - 9)))
  })

  it('rejects a corpus shorter than the context with a one-line error', () => {
    const dir = mkdtempSync(join(tmpdir(), 'llama-data-'))
    const file = join(dir, 'tiny.txt')
    writeFileSync(file, 'too short for a window')
    const c = loadCorpus(file)
    expect(() => checkCorpus(c, 64)).toThrow(UsageError)
    expect(() => checkCorpus(c, 64)).toThrow(/training split has 19 bytes, shorter than the context \+ 1 = 65/)
    expect(() => loadCorpus(join(dir, 'nope.txt'))).toThrow(/no such file/)
  })
})

describe('sentiment sentences', () => {
  it('are the ~3,000 labelled review sentences without empty records or duplicates, split 80/20', () => {
    const { train, test } = loadSentiment(0)
    const all = [...train, ...test]
    expect(all.length).toBeGreaterThan(2900)
    expect(all.length).toBeLessThanOrEqual(3000)
    expect(new Set(all.map((d) => d.text)).size).toBe(all.length)
    expect(all.every((d) => d.text.length > 0 && (d.label === 0 || d.label === 1))).toBe(true)
    expect(test.length).toBe(all.length - Math.floor(all.length * 0.8))
    expect(loadSentiment(0).test).toEqual(test)
  })
})
