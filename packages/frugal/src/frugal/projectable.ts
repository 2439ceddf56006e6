import type { Tensor } from '@frugal-ts/core'
import { Tree } from '@frugal-ts/core'
import { FrugalError } from '../FrugalError'

/**
 * Which leaves FRUGAL splits: a predicate on the leaf's path and value, or a
 * list of paths (`'layers.0.wq'`: that leaf or everything below it) and
 * regular expressions (tested against the dotted path). Leaves it does not
 * select get the stateful optimizer on their full gradient.
 * @example frugal({ learningRate: 1e-3, projectable: ['layers', /mlp/] })
 * @see https://arxiv.org/abs/2411.07837 (FRUGAL)
 */
export type ProjectableRule = ((path: Tree.Path, leaf: Tensor) => boolean) | readonly (string | RegExp)[]

/** Path fragments of leaves that are never projected by default. */
const EXCLUDED = /embed|norm|head|output|bias/i

/**
 * The default rule: 2-D weights of attention and MLP linear layers are
 * projectable; embeddings, norms, biases and the output head (any path whose
 * dotted form contains `embed`, `norm`, `head` — `lm_head` too —, `output` or
 * `bias`) and every leaf of another rank are not.
 * @param path the leaf's path
 * @param leaf the leaf (only its rank is read)
 * @returns whether FRUGAL splits the leaf
 * @see https://arxiv.org/abs/2411.07837 (FRUGAL §4: embeddings, norms and the head stay with Adam)
 * @example defaultProjectable(['layers', 0, 'attn', 'wq'], zeros([8, 8])) // true
 * @example defaultProjectable(['lm_head'], zeros([8, 256])) // false
 */
export const defaultProjectable = (path: Tree.Path, leaf: Tensor): boolean =>
  leaf.rank === 2 && !EXCLUDED.test(Tree.pathString(path))

/**
 * The predicate of a `ProjectableRule` (the default when `rule` is undefined).
 * @throws FrugalError when a list entry is neither a string nor a RegExp, or the rule is something else
 * @example projectablePredicate(['layers.0'])(['layers', 0, 'wq'], w) // true
 * @see https://arxiv.org/abs/2411.07837 (FRUGAL)
 */
export const projectablePredicate = (rule: ProjectableRule | undefined, at = 'frugal.projectable'): ((path: Tree.Path, leaf: Tensor) => boolean) => {
  if (rule === undefined) return defaultProjectable
  if (typeof rule === 'function') return rule
  if (!Array.isArray(rule))
    throw new FrugalError(`projectable must be a function or a list of paths, got ${typeof rule} (at ${at})`)
  rule.forEach((r, i) => {
    if (typeof r !== 'string' && !(r instanceof RegExp))
      throw new FrugalError(`projectable entries must be path strings or RegExps, got ${typeof r} (at ${at}.${i})`)
  })
  return (path) => {
    const p = Tree.pathString(path)
    return rule.some((r) => (typeof r === 'string' ? p === r || p.startsWith(`${r}.`) : r.test(p)))
  }
}
