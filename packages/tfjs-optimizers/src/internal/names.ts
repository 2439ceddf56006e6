/**
 * Which tfjs variables FRUGAL, GaLore and BAdam split, by their tfjs names
 * (`dense_Dense1/kernel`, `embedding_Embedding1/embeddings`, …).
 * @internal
 */
import type { Tensor } from '@frugal-ts/core'
import { TfjsOptimizersError } from '../TfjsOptimizersError'

/**
 * Which variables are projectable, by tfjs variable name: a predicate on the
 * name and the value, or a list of names and regular expressions. A string
 * entry selects the variable of that name or every variable of the layer of
 * that name (`'dense_Dense2'` selects `dense_Dense2/kernel` and
 * `dense_Dense2/bias`); a RegExp is tested against the whole name.
 * @example frugal({ learningRate: 1e-3, projectable: [/^dense_Dense[12]\/kernel/] })
 * @see https://arxiv.org/abs/2411.07837 (FRUGAL)
 */
export type VariableRule = ((name: string, value: Tensor) => boolean) | readonly (string | RegExp)[]

/** Kernels of Dense layers (and of the Dense projections of attention blocks); `_1`, `_2`: tfjs's suffixes for repeated names. */
const KERNEL = /\/kernel(_\d+)?$/
/** Never projected by default. */
const EXCLUDED = /embed|norm|bias/i

const isKernel = (name: string, rank: number) => rank === 2 && KERNEL.test(name) && !EXCLUDED.test(name)

/**
 * The default rule for the variables of one model, given all their names and
 * ranks in the order tfjs hands them over (layer order): 2-D kernels of Dense
 * layers (`…/kernel`) are projectable, except the last one — the output
 * layer's; biases, embeddings, normalisation parameters and every other
 * variable are not.
 * @param variables every variable's name and rank, in order
 * @returns the predicate
 * @example defaultVariableRule([{ name: 'dense_Dense1/kernel', rank: 2 }, { name: 'dense_Dense2/kernel', rank: 2 }])('dense_Dense1/kernel', 2) // true (dense_Dense2 is the output layer)
 * @see https://arxiv.org/abs/2411.07837 (FRUGAL §4: embeddings, norms and the head stay with Adam)
 */
export const defaultVariableRule = (variables: readonly { readonly name: string; readonly rank: number }[]) => {
  const kernels = variables.filter((v) => isKernel(v.name, v.rank))
  const output = kernels.length > 0 ? kernels[kernels.length - 1].name : null
  return (name: string, rank: number): boolean => isKernel(name, rank) && name !== output
}

/**
 * The predicate of a `VariableRule` over names and ranks; the default rule when undefined.
 * @internal
 */
export const variablePredicate = (
  rule: VariableRule | undefined,
  variables: readonly { readonly name: string; readonly rank: number }[],
  at: string,
): ((name: string, value: Tensor) => boolean) => {
  if (rule === undefined) {
    const d = defaultVariableRule(variables)
    return (name, value) => d(name, value.rank)
  }
  if (typeof rule === 'function') return rule
  if (!Array.isArray(rule)) throw new TfjsOptimizersError(`projectable must be a function or a list of names and RegExps, got ${typeof rule} (at ${at}.projectable)`)
  rule.forEach((r, i) => {
    if (typeof r !== 'string' && !(r instanceof RegExp))
      throw new TfjsOptimizersError(`projectable entries must be variable or layer names (strings) or RegExps, got ${typeof r} (at ${at}.projectable.${i})`)
  })
  return (name) => rule.some((r) => (typeof r === 'string' ? name === r || name.startsWith(`${r}/`) : r.test(name)))
}
