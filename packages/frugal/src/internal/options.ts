import { FrugalError } from '../FrugalError'

/** @internal The edit distance of two strings (Levenshtein: insertions, deletions, substitutions). @example editDistance('densty', 'density') // 1 */
export const editDistance = (a: string, b: string): number => {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const row = [i]
    for (let j = 1; j <= b.length; j++)
      row[j] = Math.min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (a[i - 1].toLowerCase() === b[j - 1].toLowerCase() ? 0 : 1))
    prev = row
  }
  return prev[b.length]
}

/** @internal The known name nearest to `name`, when it is near enough to be a misspelling, a case slip or a shortening. @example nearest('densty', ['density', 'seed']) // 'density' */
export const nearest = (name: string, known: readonly string[]): string | null => {
  let best: string | null = null
  let bestD = Infinity
  const lower = name.toLowerCase()
  for (const k of known) {
    const kl = k.toLowerCase()
    // a case slip, then a known name that begins with this one (`warmup` for `warmupSteps`), then the edit distance
    const d = kl === lower ? 0 : lower.length >= 3 && kl.startsWith(lower) ? 1 : editDistance(name, k)
    if (d < bestD) [best, bestD] = [k, d]
  }
  return best !== null && bestD <= Math.max(2, Math.floor(name.length / 3)) ? best : null
}

/**
 * @internal Throws for the first key of an options object that is not known,
 * suggesting the nearest known one; keys whose value is `undefined` are
 * ignored (an option spelled out as left out).
 * @param at where the options sit (`frugal`)
 * @throws FrugalError `unknown option 'densty' (at frugal.densty); did you mean 'density'?`
 * @example checkKeys({ densty: 0.3 }, ['learningRate', 'density'], 'frugal')
 */
export const checkKeys = (options: object, known: readonly string[], at: string): void => {
  for (const k of Object.keys(options)) {
    if (known.includes(k) || (options as Record<string, unknown>)[k] === undefined) continue
    const near = nearest(k, known)
    throw new FrugalError(
      `unknown option '${k}' (at ${at}.${k}); ${near ? `did you mean '${near}'?` : `expected one of [${known.join(', ')}]`}`,
    )
  }
}

/**
 * @internal Checks an options object: an object (not null, an array or a
 * number), with no unknown key (`checkKeys`). `undefined` passes unless `required`.
 * @throws FrugalError `options must be an object with keys from [init, end, transitionSteps, transitionBegin], got undefined (at linearDensity)`
 * @example checkOptions(o, ['mode'], 'coordinates')
 */
export const checkOptions = (options: unknown, known: readonly string[], at: string, required = false): void => {
  if (options === undefined && !required) return
  if (options === null || typeof options !== 'object' || Array.isArray(options))
    throw new FrugalError(
      `options must be an object with keys from [${known.join(', ')}], got ${options === null ? 'null' : Array.isArray(options) ? 'an array' : typeof options} (at ${at})`,
    )
  checkKeys(options, known, at)
}
