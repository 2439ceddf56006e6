/**
 * Common-subexpression elimination on a traced program: an equation that
 * repeats an earlier one (same primitive, params and inputs; operands in either
 * order for commutative ones) is dropped and its output replaced by the
 * earlier output. Traces repeat work often: `square(x)` written twice, or VJP
 * rules recomputing what the forward pass computed.
 * @internal
 */
import type { Equation, Primitive, Program, Var } from '@frugal-ts/core'

const commutative = new Set<Primitive>(['add', 'mul', 'max'])

/**
 * Not shared: a repeated `neg` or `transpose` costs one cheap pass, while a
 * shared one has two uses and can no longer be absorbed by `rewrite` (into
 * `tf.sub`, `tf.minimum`, or a matmul's transpose flag).
 */
const keepRepeated = new Set<Primitive>(['neg', 'transpose'])

const keyOf = (e: Equation, inputs: readonly Var[]): string => {
  const ids = inputs.map((v) => v.id)
  const sym = commutative.has(e.prim) || (e.prim === 'compare' && ['eq', 'ne'].includes((e as Equation<'compare'>).params.op))
  return `${e.prim}|${JSON.stringify(e.params)}|${(sym ? [...ids].sort((a, b) => a - b) : ids).join(',')}`
}

/** `program` with repeated equations removed; its outputs are remapped to the equations kept. */
export const cse = (program: Program): Program => {
  const replaced = new Map<number, Var>()
  const seen = new Map<string, Var>()
  const equations: Equation[] = []
  const map = (v: Var): Var => replaced.get(v.id) ?? v
  for (const e of program.equations) {
    const inputs = e.inputs.map(map)
    if (keepRepeated.has(e.prim)) {
      equations.push(inputs.every((v, i) => v === e.inputs[i]) ? e : { ...e, inputs })
      continue
    }
    const key = keyOf(e, inputs)
    const earlier = seen.get(key)
    if (earlier !== undefined) {
      replaced.set(e.out.id, earlier)
      continue
    }
    seen.set(key, e.out)
    equations.push(inputs.every((v, i) => v === e.inputs[i]) ? e : { ...e, inputs })
  }
  return { ...program, equations, outputs: program.outputs.map(map) }
}
