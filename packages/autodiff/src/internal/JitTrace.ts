import type { Aval, Const, Equation, Primitive, PrimitiveParams, Program, Var } from '@frugal-ts/core'
import { CoreError, Shape, Tensor, Trace } from '@frugal-ts/core'

/**
 * Staging: every primitive applied to a tracer becomes an equation of a
 * `Program` instead of running. Concrete tensors the function closes over
 * become the program's constants. Primitives are pure, so an equation
 * repeating an earlier one (same primitive, parameters and inputs) is not
 * recorded again: it yields the earlier result (common subexpressions, e.g.
 * the per-leaf copies of an optimizer's scalar learning-rate products), and
 * small constants with equal values (a scalar created per leaf) are one.
 */
/** constants of at most this many elements are shared by value */
const SMALL = 16

/**
 * Recorded each time: a repeated `neg` or `transpose` costs one cheap pass,
 * while a shared one has two uses, which keeps backends from absorbing it
 * (into tfjs's `sub` or `minimum`, a matmul's transpose flag).
 */
const unshared = new Set<Primitive>(['neg', 'transpose'])

export class JitTrace extends Trace {
  readonly kind = 'jit'
  private nextId = 0
  readonly inputs: Var[] = []
  readonly equations: Equation[] = []
  private readonly consts = new Map<Tensor, Var>()
  /** equation key (primitive, params, input ids) -> its result */
  private readonly seen = new Map<string, Var>()
  /** small constants by value (dtype, shape, elements) */
  private readonly byValue = new Map<string, Var>()

  private fresh(aval: Aval): Var {
    return { id: this.nextId++, aval: { shape: [...aval.shape], dtype: aval.dtype } }
  }

  private tracer(v: Var): Tensor {
    return new Tensor(v.aval.shape, v.aval.dtype, this, v)
  }

  /** a new program input of the given aval, as a tracer */
  input(aval: Aval): Tensor {
    const v = this.fresh(aval)
    this.inputs.push(v)
    return this.tracer(v)
  }

  lift(x: Tensor): Tensor {
    if (x.trace !== null)
      throw new CoreError(
        `jit: the function closes over a tensor ${x.dtype}${Shape.show(x.shape)} traced by ${x.trace.kind}; pass it as an argument instead`,
      )
    let v = this.consts.get(x)
    if (!v) {
      const key = x.size <= SMALL ? `${x.dtype}[${x.shape.join(',')}]${Array.from(x.dataSync(), (e) => (Object.is(e, -0) ? '-0' : String(e))).join(',')}` : null
      v = (key !== null ? this.byValue.get(key) : undefined) ?? this.fresh(x)
      this.consts.set(x, v)
      if (key !== null) this.byValue.set(key, v)
    }
    return this.tracer(v)
  }

  process<P extends Primitive>(prim: P, inputs: readonly Tensor[], params: PrimitiveParams[P], out: Aval): Tensor {
    const ins = inputs.map((x) => x.payload as Var)
    const key = unshared.has(prim) ? null : `${prim}|${JSON.stringify(params)}|${ins.map((v) => v.id).join(',')}`
    let v = key === null ? undefined : this.seen.get(key)
    if (!v) {
      v = this.fresh(out)
      this.equations.push({ prim, params, inputs: ins, out: v } as Equation)
      if (key !== null) this.seen.set(key, v)
    }
    return this.tracer(v)
  }

  concrete(): null {
    return null
  }

  /** the variable of an output leaf: a tracer of this trace, or a concrete tensor (a constant) */
  varOf(x: Tensor): Var {
    if (x.trace === this) return x.payload as Var
    return this.lift(x).payload as Var
  }

  /** the finished program, with equations that no output needs removed */
  program(outputs: readonly Var[]): Program {
    const live = new Set(outputs.map((v) => v.id))
    const kept: Equation[] = []
    for (let i = this.equations.length - 1; i >= 0; i--) {
      const e = this.equations[i]
      if (!live.has(e.out.id)) continue
      kept.push(e)
      for (const v of e.inputs) live.add(v.id)
    }
    kept.reverse()
    const consts: Const[] = []
    const listed = new Set<number>()
    for (const [value, v] of this.consts) {
      if (!live.has(v.id) || listed.has(v.id)) continue // tensors with equal small values share one variable
      listed.add(v.id)
      consts.push({ var: v, value })
    }
    return { inputs: this.inputs, consts, equations: kept, outputs: [...outputs] }
  }
}
