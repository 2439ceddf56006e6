import type { Aval, Primitive, PrimitiveParams } from './Primitive'
import type { Tensor } from './Tensor'
import * as S from './Shape'
import { bind } from './bind'
import { CoreError } from './CoreError'

/**
 * A variable of a program: an input, a constant or an equation's output.
 * @example
 * jit((x: Tensor) => neg(x)).lower(tensor([1])).inputs[0] // { id: 0, aval: { shape: [1], dtype: 'float32' } }
 */
export interface Var {
  readonly id: number
  readonly aval: Aval
}

/** One primitive application `out = prim(inputs; params)`. @example jit((x: Tensor) => exp(x)).lower(tensor([1])).equations[0].prim // 'exp' */
export interface Equation<P extends Primitive = Primitive> {
  readonly prim: P
  readonly params: PrimitiveParams[P]
  readonly inputs: readonly Var[]
  readonly out: Var
}

/**
 * A captured constant: a concrete tensor the program closes over.
 * @example
 * jit((x: Tensor) => add(x, tensor([1, 2]))).lower(tensor([0, 0])).consts.length // 1: the captured tensor
 */
export interface Const {
  readonly var: Var
  readonly value: Tensor
}

/**
 * A traced program in A-normal form, jaxpr-like: inputs, captured constants,
 * equations in execution order, outputs (any variables).
 * @example
 * const program = jit((x: Tensor) => mul(x, x)).lower(tensor([1, 2]))
 * showProgram(program) // '{ lambda v0:float32[2] .\n  v1:float32[2] = mul v0 v0\n  in (v1) }'
 * evalProgram(program, [tensor([3, 4])]) // [[9, 16]]
 */
export interface Program {
  readonly inputs: readonly Var[]
  readonly consts: readonly Const[]
  readonly equations: readonly Equation[]
  readonly outputs: readonly Var[]
}

const showVar = (v: Var) => `v${v.id}:${v.aval.dtype}${S.show(v.aval.shape)}`

const showParams = (p: object) =>
  Object.entries(p)
    .map(([k, v]) => `${k}=${Array.isArray(v) ? `[${v.join(',')}]` : String(v)}`)
    .join(' ')

/**
 * A program printed one equation a line, like a jaxpr.
 * @example
 * show(program)
 * // { lambda v0:float32[3] .
 * //   v1:float32[3] = mul v0 v0
 * //   in (v1) }
 */
export const show = (p: Program): string => {
  const head = `{ lambda ${p.inputs.map(showVar).join(' ')}${p.consts.length ? ' ; ' + p.consts.map((c) => showVar(c.var)).join(' ') : ''} .`
  const body = p.equations.map((e) => {
    const ps = showParams(e.params)
    return `  ${showVar(e.out)} = ${e.prim}${ps ? `[${ps}]` : ''} ${e.inputs.map((v) => `v${v.id}`).join(' ')}`
  })
  return [head, ...body, `  in (${p.outputs.map((v) => `v${v.id}`).join(', ')}) }`].join('\n')
}

/**
 * Runs a program by binding each equation: eagerly on concrete inputs, or
 * under whatever trace is active (so programs can be re-traced and differentiated).
 * @example evalProgram(program, [x])
 */
export const evalProgram = (p: Program, inputs: readonly Tensor[]): Tensor[] => {
  if (inputs.length !== p.inputs.length)
    throw new CoreError(`evalProgram: the program takes ${p.inputs.length} inputs, got ${inputs.length}`)
  const env = new Map<number, Tensor>()
  p.inputs.forEach((v, i) => env.set(v.id, inputs[i]))
  for (const c of p.consts) env.set(c.var.id, c.value)
  for (const e of p.equations)
    env.set(
      e.out.id,
      bind(
        e.prim,
        e.inputs.map((v) => env.get(v.id) as Tensor),
        e.params,
      ),
    )
  return p.outputs.map((v) => env.get(v.id) as Tensor)
}
