/**
 * The bundled corpus as character tokens: a vocabulary of the characters that
 * occur in it, a train/validation split by speech, and random training windows
 * drawn from a seeded generator (host side: no tensors here).
 */
import type { SotuSlice } from '../sotu'

/** A corpus ready for training. */
export interface Corpus {
  readonly source: string
  /** the characters, index = token id */
  readonly vocab: string
  readonly train: Int32Array
  readonly validation: Int32Array
  /** names of the held-out speeches */
  readonly validationSpeeches: readonly string[]
}

/** Encodes text with a vocabulary; characters outside it become the first token. */
export const encode = (text: string, vocab: string): Int32Array => {
  const ids = new Map([...vocab].map((c, i) => [c, i]))
  return Int32Array.from(text, (c) => ids.get(c) ?? 0)
}

/** Decodes token ids. */
export const decode = (ids: ArrayLike<number>, vocab: string): string => Array.from(ids, (i) => vocab[i] ?? '').join('')

/**
 * Tokenizes a slice: every `every`-th speech (the 8th, 16th, …) is held out for validation.
 * @example const corpus = makeCorpus(sotu) // vocab of 79 characters, 14 speeches to train on, 2 held out
 */
export const makeCorpus = (slice: SotuSlice, every = 8): Corpus => {
  const vocab = [...new Set(slice.text)].sort().join('')
  const pick = (held: boolean) => slice.speeches.filter((_, i) => ((i + 1) % every === 0) === held)
  const join = (held: boolean) => pick(held).map((s) => slice.text.slice(s.start, s.end)).join('\n\n')
  return {
    source: slice.source,
    vocab,
    train: encode(join(false), vocab),
    validation: encode(join(true), vocab),
    validationSpeeches: pick(true).map((s) => s.name),
  }
}

/**
 * mulberry32: a small seeded generator of floats in [0, 1).
 * @example const r = rng(0); r() // 0.26642920868471265
 */
export const rng = (seed: number): (() => number) => {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/**
 * `batch` windows of `context + 1` tokens at random offsets, row-major.
 * @example const tokens = windows(corpus.train, 8, 32, rng(0)) // 8 × 33 ids
 */
export const windows = (tokens: Int32Array, batch: number, context: number, random: () => number): Int32Array => {
  const w = context + 1
  const out = new Int32Array(batch * w)
  for (let b = 0; b < batch; b++) {
    const at = Math.floor(random() * (tokens.length - w))
    out.set(tokens.subarray(at, at + w), b * w)
  }
  return out
}

/**
 * `n` windows evenly spaced over `tokens`: a fixed validation set.
 * @example evenWindows(corpus.validation, 16, 32).length // 16 × 33
 */
export const evenWindows = (tokens: Int32Array, n: number, context: number): Int32Array => {
  const w = context + 1
  const out = new Int32Array(n * w)
  const stride = Math.floor((tokens.length - w) / Math.max(1, n - 1))
  for (let i = 0; i < n; i++) out.set(tokens.subarray(i * stride, i * stride + w), i * w)
  return out
}
