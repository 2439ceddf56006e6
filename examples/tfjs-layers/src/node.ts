/** Node only: sentiment@5.0.2's fixture files, read from the installed package. */
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import type { Row } from './data'

/** The three fixture files of the installed `sentiment` package. */
export const sentimentFiles = (): Row[][] => {
  const dir = join(dirname(createRequire(import.meta.url).resolve('sentiment/package.json')), 'test', 'fixtures')
  return ['amazon', 'imdb', 'yelp'].map((f) => JSON.parse(readFileSync(join(dir, `${f}.json`), 'utf8')) as Row[])
}
