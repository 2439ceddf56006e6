import type { Aval, Primitive, PrimitiveParams } from '@frugal-ts/core'
import { Tensor, Trace, bind, full } from '@frugal-ts/core'
import { jvpRules } from '../rules/jvp'

interface Payload {
  readonly primal: Tensor
  readonly tangent: Tensor
}

const payload = (x: Tensor): Payload => x.payload as Payload

/** Forward mode: each tracer carries a primal and a tangent; `jvpRules` push tangents through. */
export class JvpTrace extends Trace {
  readonly kind = 'jvp'

  lift(x: Tensor): Tensor {
    return this.pair(x, full(x.shape, 0, x.dtype))
  }

  pair(primal: Tensor, tangent: Tensor): Tensor {
    return new Tensor(primal.shape, primal.dtype, this, { primal, tangent } satisfies Payload)
  }

  process<P extends Primitive>(prim: P, inputs: readonly Tensor[], params: PrimitiveParams[P], _out: Aval): Tensor {
    const primals = inputs.map((x) => payload(x).primal)
    const tangents = inputs.map((x) => payload(x).tangent)
    const y = bind(prim, primals, params)
    const rule = jvpRules[prim] as (p: readonly Tensor[], t: readonly Tensor[], y: Tensor, ps: PrimitiveParams[P]) => Tensor
    return this.pair(y, rule(primals, tangents, y, params))
  }

  concrete(x: Tensor): Tensor {
    return payload(x).primal
  }

  /** primal and tangent of `x` relative to this trace (a constant has a zero tangent) */
  unpair(x: Tensor): Payload {
    return x.trace === this ? payload(x) : { primal: x, tangent: full(x.shape, 0, x.dtype) }
  }
}
