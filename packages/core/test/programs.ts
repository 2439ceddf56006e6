/**
 * Test helpers for programs: a tiny builder of `Program` equations, and the
 * op-by-op interpreter that compiled programs (JS and wasm) are compared with.
 */
import type { DType, TypedArray } from '../src/DType'
import type { Aval, Primitive, PrimitiveParams } from '../src/Primitive'
import { inferAval } from '../src/Primitive'
import type { Equation, Program, Var } from '../src/Program'
import { cpu } from '../src/internal/cpu/backend'
import type { CpuBackend, CpuHandle } from '../src/internal/cpu/backend'

/**
 * A tiny program builder: variables with fresh ids, equations with inferred avals.
 * @returns `input(shape, dtype?)` for a new variable, `bind(prim, inputs, params)` for a new equation's output, and `eqs`, the equations in order
 * @example
 * const { input, bind, eqs } = builder()
 * const x = input([2, 3])
 * const p: Program = { inputs: [x], consts: [], equations: eqs, outputs: [bind('exp', [x], {})] }
 */
export const builder = () => {
  let id = 0
  const eqs: Equation[] = []
  const input = (shape: number[], dtype: DType = 'float32'): Var => ({ id: id++, aval: { shape, dtype } })
  const bind = <P extends Primitive>(prim: P, inputs: Var[], params: PrimitiveParams[P]): Var => {
    const out = { id: id++, aval: inferAval(prim, inputs.map((v) => v.aval), params) }
    eqs.push({ prim, params, inputs, out } as Equation)
    return out
  }
  return { input, bind, eqs }
}

const reference = cpu()

/** Options of `interpret`. */
export interface InterpretOptions {
  /** values of the program's consts, in order (default none) */
  readonly consts?: readonly CpuHandle[]
  /** whose JS kernels run the equations and get their outputs back (default a plain `cpu()`) */
  readonly backend?: CpuBackend
}

/**
 * Runs program `p` op by op with the JS kernels of a cpu backend: the
 * reference compiled programs are checked against. Inputs and consts are
 * copied first (so kernels never see the caller's arrays, wasm-resident or
 * not), and every intermediate is disposed once the outputs are copied out,
 * leaving the backend's `memory()` where it was.
 * @returns a plain copy of every output
 */
export const interpret = (p: Program, inputs: readonly CpuHandle[], { consts = [], backend = reference }: InterpretOptions = {}): TypedArray[] => {
  const env = new Map<number, CpuHandle>()
  p.inputs.forEach((v, i) => env.set(v.id, inputs[i].slice()))
  p.consts.forEach((c, i) => env.set(c.var.id, consts[i].slice()))
  for (const e of p.equations) {
    const k = backend.kernels[e.prim] as (h: readonly CpuHandle[], a: readonly Aval[], q: unknown, o: Aval) => CpuHandle
    env.set(e.out.id, k(e.inputs.map((v) => env.get(v.id)!), e.inputs.map((v) => v.aval), e.params, e.out.aval))
  }
  const outs = p.outputs.map((v) => env.get(v.id)!.slice())
  for (const e of p.equations) backend.dispose(env.get(e.out.id)!, e.out.aval)
  return outs
}
