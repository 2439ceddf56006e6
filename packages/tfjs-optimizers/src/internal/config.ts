/**
 * Recipe options as a tfjs config value. tfjs-layers camel-cases every string
 * of a saved optimizer config when it loads a model (`reverse_std` would come
 * back as `reverseStd`), so the options travel as one JSON text with its
 * underscores escaped (`\u005f`, which JSON reads back as `_`); RegExps (in
 * `projectable` lists) are kept as `{ "$regexp": [source, flags] }`.
 * @internal
 */
import { TfjsOptimizersError } from '../TfjsOptimizersError'

const isPlain = (x: object) => {
  const p = Object.getPrototypeOf(x)
  return p === Object.prototype || p === null
}

/** Checks that options are JSON data (or RegExps), naming the first value that is not. */
const checkData = (x: unknown, path: string, recipe: string): void => {
  const fail = (what: string) => {
    throw new TfjsOptimizersError(
      `the optimizer '${recipe}' cannot be saved: its option ${path} is ${what}, which a config cannot hold (use numbers, strings, booleans, arrays, plain objects and RegExps, or register a recipe whose options are data) (at ${path})`,
    )
  }
  if (x === null || typeof x === 'string' || typeof x === 'boolean' || x instanceof RegExp) return
  if (typeof x === 'number') return void (Number.isFinite(x) ? undefined : fail(String(x)))
  if (x === undefined) return
  if (typeof x === 'function') return fail('a function')
  if (Array.isArray(x)) return x.forEach((c, i) => checkData(c, `${path}.${i}`, recipe))
  if (typeof x === 'object' && isPlain(x)) {
    for (const [k, v] of Object.entries(x)) checkData(v, `${path}.${k}`, recipe)
    return
  }
  fail(typeof x === 'object' ? 'an instance of a class (a tensor?)' : `a ${typeof x}`)
}

/** The options as config text. */
export const encodeOptions = (options: unknown, recipe: string): string => {
  checkData(options, 'options', recipe)
  const text = JSON.stringify(options ?? null, (_k, v: unknown) => (v instanceof RegExp ? { $regexp: [v.source, v.flags] } : v))
  return text.replace(/_/g, '\\u005f')
}

/** The options of config text. */
export const decodeOptions = (text: unknown, recipe: string): unknown => {
  if (typeof text !== 'string') throw new TfjsOptimizersError(`the config of optimizer '${recipe}' has no options text (at config.options)`)
  try {
    return JSON.parse(text, (_k, v: unknown) => {
      const r = (v as { $regexp?: unknown } | null)?.$regexp
      return Array.isArray(r) && r.length === 2 && typeof r[0] === 'string' && typeof r[1] === 'string' ? new RegExp(r[0], r[1]) : v
    })
  } catch (e) {
    throw new TfjsOptimizersError(`the config of optimizer '${recipe}' has options that are not JSON: ${(e as Error).message} (at config.options)`)
  }
}
