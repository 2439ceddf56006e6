/**
 * The data: `sentiment@5.0.2`'s labelled review sentences (Amazon, IMDB and
 * Yelp, 1,000 each; empty records and repeated texts dropped) as
 * bag-of-words vectors — each lower-cased word hashed (FNV-1a) into one of
 * `features` buckets, 1 where a word is present — shuffled by a fixed seed and
 * split 80/20. Browser-safe: the caller reads the JSON files.
 */

/** One record of sentiment's fixtures. */
export interface Row {
  readonly text?: string | null
  readonly class?: number | null
}

/** Features and labels of one split. */
export interface Split {
  /** rows × features, row-major, 0/1 */
  readonly x: Float32Array
  /** 0 negative, 1 positive */
  readonly labels: Int32Array
  readonly rows: number
}

/** The train and test splits. */
export interface Dataset {
  readonly features: number
  readonly train: Split
  readonly test: Split
}

const fnv1a = (s: string): number => {
  let h = 0x811c9dc5
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193)
  return h >>> 0
}

/** The words of a sentence: lower-cased runs of letters and apostrophes. */
export const words = (text: string): string[] => text.toLowerCase().match(/[a-z']+/g) ?? []

/** A small fixed-seed generator (mulberry32), for the shuffle. */
const mulberry32 = (seed: number) => () => {
  seed = (seed + 0x6d2b79f5) | 0
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296
}

/**
 * The dataset of sentiment's three fixture files.
 * @param files the parsed `amazon.json`, `imdb.json`, `yelp.json`
 * @param features hash buckets (default 1024)
 * @param seed shuffle seed (default 0)
 */
export const dataset = (files: readonly (readonly Row[])[], features = 1024, seed = 0): Dataset => {
  const seen = new Set<string>()
  const all: { text: string; label: number }[] = []
  for (const rows of files)
    for (const r of rows) {
      const text = (r.text ?? '').trim()
      if (!text || (r.class !== 0 && r.class !== 1) || seen.has(text)) continue
      seen.add(text)
      all.push({ text, label: r.class })
    }
  const rand = mulberry32(seed)
  for (let i = all.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1))
    ;[all[i], all[j]] = [all[j], all[i]]
  }
  const encode = (part: typeof all): Split => {
    const x = new Float32Array(part.length * features)
    part.forEach((r, i) => {
      for (const w of words(r.text)) x[i * features + (fnv1a(w) % features)] = 1
    })
    return { x, labels: Int32Array.from(part, (r) => r.label), rows: part.length }
  }
  const cut = Math.floor(all.length * 0.8)
  return { features, train: encode(all.slice(0, cut)), test: encode(all.slice(cut)) }
}
