import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { Key, slice } from '@frugal-ts/core'
import { main } from '../src/cli'
import { classify, encodeSentences } from '../src/finetune'
import { initParams } from '../src/model'

describe('fine-tuning', () => {
  it('pads sentences on the right and masks the padding out of the mean', () => {
    const [ids, mask, labels] = encodeSentences([{ text: 'good', label: 1 }, { text: 'bad but long sentence', label: 0 }], 8)()
    expect(Array.from(ids.dataSync().slice(0, 8))).toEqual([103, 111, 111, 100, 0, 0, 0, 0])
    expect(Array.from(mask.dataSync())).toEqual([1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1])
    expect(Array.from(labels.dataSync())).toEqual([1, 0])
    const p = initParams({ vocab: 256, layers: 1, width: 16, heads: 2, context: 8 }, Key.key(0))
    const params = { model: p, head: slice(p.head, [0, 0], [16, 2]) }
    const padded = classify(params, ids, mask, 2)
    expect(padded.shape).toEqual([2, 2])
    // the same sentence alone, unpadded, gives the same logits: padding does not leak in
    const [ids1, mask1] = encodeSentences([{ text: 'good', label: 1 }], 4)()
    const alone = classify(params, ids1, mask1, 2).dataSync()
    Array.from(padded.dataSync().slice(0, 2)).forEach((v, i) => expect(v).toBeCloseTo(alone[i], 5))
  })

  it('frugal-train finetune compares adam, galore, frugal ρ=0 and frugal-ft over seeds and writes finetune.json', async () => {
    const out = mkdtempSync(join(tmpdir(), 'llama-ft-'))
    let stdout = ''
    const code = await main(
      ['finetune', '--layers', '1', '--width', '16', '--heads', '2', '--context', '16', '--pretrain-steps', '3', '--steps', '3', '--batch', '4', '--seeds', '2', '--out', out],
      { stdout: { write: (s: string) => (stdout += s) }, stderr: { write: () => true, isTTY: false } },
    )
    expect(code).toBe(0)
    const r = JSON.parse(readFileSync(join(out, 'finetune.json'), 'utf8'))
    const names = ['adam', 'galore', 'frugal-0', 'frugal-ft']
    expect(r.runs.map((x: { name: string; seed: number }) => `${x.name}/${x.seed}`)).toEqual([...names.map((n) => `${n}/0`), ...names.map((n) => `${n}/1`)])
    const [adam, , frugal, ft] = r.runs
    expect(frugal.config).toMatchObject({ optimizer: 'frugal', density: 0, stateFree: 'signsgd', stateFreeScale: 0.1 })
    expect(ft.config).toMatchObject({ preset: 'frugalFinetune', rank: 8, density: 0.5, updateGap: 500, projection: 'columns', stateFreeScale: 0.1 })
    for (const x of r.runs) expect(x.accuracy).toBeGreaterThan(0.2)
    expect(frugal.stateBytes).toBeLessThan(ft.stateBytes)
    // frugal-ft keeps Adam state on 8 of 16 columns of wq and wv: 2 × (16·8 floats × 2 moments + a count + 8 int32 column indices) more than frugal-0
    expect(ft.stateBytes - frugal.stateBytes).toBe(2 * (16 * 8 * 4 * 2 + 4 + 8 * 4))
    expect(ft.stateBytes).toBeLessThan(adam.stateBytes)
    const acc = (n: string) => r.runs.filter((x: { name: string }) => x.name === n).map((x: { accuracy: number }) => 100 * x.accuracy)
    const [a, b] = acc('frugal-ft')
    expect(stdout).toContain(`| frugal-ft | ${((a + b) / 2).toFixed(1)}% ± ${(Math.abs(a - b) / Math.SQRT2).toFixed(1)} (2) |`)
  })
})
