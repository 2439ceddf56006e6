import type { Aval, Const, Equation, Primitive, PrimitiveParams, Program, Var } from '@frugal-ts/core'
import { CoreError, Shape, Tensor, Trace } from '@frugal-ts/core'

/**
 * Staging: every primitive applied to a tracer becomes an equation of a
 * `Program` instead of running. Concrete tensors the function closes over
 * become the program's constants.
 */
export class JitTrace extends Trace {
  readonly kind = 'jit'
  private nextId = 0
  readonly inputs: Var[] = []
  readonly equations: Equation[] = []
  private readonly consts = new Map<Tensor, Var>()

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
      v = this.fresh(x)
      this.consts.set(x, v)
    }
    return this.tracer(v)
  }

  process<P extends Primitive>(prim: P, inputs: readonly Tensor[], params: PrimitiveParams[P], out: Aval): Tensor {
    const v = this.fresh(out)
    this.equations.push({ prim, params, inputs: inputs.map((x) => x.payload as Var), out: v } as Equation)
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
    const consts: Const[] = [...this.consts].filter(([, v]) => live.has(v.id)).map(([value, v]) => ({ var: v, value }))
    return { inputs: this.inputs, consts, equations: kept, outputs: [...outputs] }
  }
}
