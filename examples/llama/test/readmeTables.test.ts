import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { markdownFiles, markedTables, renderMarked, renderTable } from '../src/readmeTables'

// The README results tables against the committed results they are rendered from
// (`pnpm readme-tables` regenerates them; see src/readmeTables.ts).
const root = fileURLToPath(new URL('../../..', import.meta.url))
const read = (file: string) => readFileSync(join(root, file), 'utf8')

/** The Markdown tables of `text` (header line first) that lie outside results markers. */
const unmarkedTables = (text: string): string[] => {
  const outside = text.replace(/<!-- results:[\s\S]*?<!-- \/results -->/g, '')
  return [...outside.matchAll(/^(\|.*\|)\n\|[-:| ]+\|\n/gm)].map((m) => m[1])
}

describe('README results tables are rendered from committed results', () => {
  for (const file of markdownFiles(root).filter((f) => markedTables(read(f)).length > 0))
    it(`${file}: every marked table equals what its results.json renders`, () => {
      const text = read(file)
      for (const t of markedTables(text)) expect(t.current, `${file}: the ${t.format} table of ${t.dir} (run pnpm readme-tables)`).toBe(renderTable(root, t.dir, t.format))
      expect(renderMarked(text, root)).toBe(text)
    })

  it('the tables of the root README, examples/llama/README.md and bench/results/llama/table.md are marked', () => {
    expect(markedTables(read('README.md')).map((t) => `${t.dir} ${t.format}`)).toEqual(['bench/results/llama-sweep sweep', 'bench/results/llama summary'])
    expect(markedTables(read('examples/llama/README.md')).map((t) => `${t.dir} ${t.format}`)).toEqual([
      'bench/results/llama-sweep grid',
      'bench/results/llama-sweep sweep',
      'bench/results/llama-default report',
      'bench/results/llama-finetune finetune',
    ])
    expect(markedTables(read('bench/results/llama/table.md')).map((t) => `${t.dir} ${t.format}`)).toEqual(['bench/results/llama report'])
  })

  it('no README holds an unmarked table of training results (a "val loss" column)', () => {
    const unmarked = markdownFiles(root).flatMap((f) => unmarkedTables(read(f)).filter((h) => /val loss/.test(h)).map((h) => `${f}: ${h}`))
    expect(unmarked).toEqual([])
  })

  it('the fine-tuning table of examples/llama/README.md is marked (rendered from bench/results/llama-finetune/finetune.json)', () => {
    const unmarked = unmarkedTables(read('examples/llama/README.md')).filter((h) => /test accuracy/.test(h))
    expect(unmarked).toEqual([])
  })

  it('meta: a table one digit off its results is caught, and so is a marker naming missing results or an unknown format', () => {
    const text = read('README.md')
    const t = markedTables(text)[0]
    const tampered = text.replace(t.current, t.current.replace(/\d\.\d{4}/, (m) => `${m.slice(0, -1)}${(Number(m.slice(-1)) + 1) % 10}`))
    expect(tampered).not.toBe(text)
    expect(renderMarked(tampered, root)).toBe(text)
    expect(() => renderTable(root, 'bench/results/none', 'summary')).toThrow(/results\.json not found/)
    expect(() => renderTable(root, t.dir, 'fancy')).toThrow(/unknown results table format 'fancy'/)
  })
})
