import type { Aval, Primitive, PrimitiveParams } from '@frugal-ts/core'
import { Tensor, Trace, bind } from '@frugal-ts/core'
import { vjpRules } from '../rules/vjp'
import { addCt } from '../rules/util'

/** A recorded primitive application: the tape entry reverse mode walks back. */
export interface Node {
  readonly prim: Primitive | null
  readonly params: unknown
  readonly inputs: readonly (Node | null)[]
  readonly primalsIn: readonly Tensor[]
  readonly primalOut: Tensor
}

interface Payload {
  readonly primal: Tensor
  readonly node: Node | null
}

const payload = (x: Tensor): Payload => x.payload as Payload

/**
 * Reverse mode by taping: each primitive applied to a tracer computes its
 * primal one level down (so it is itself traced by outer transformations) and
 * records a Node. The pullback walks the tape backwards applying `vjpRules`.
 */
export class VjpTrace extends Trace {
  readonly kind = 'grad'
  readonly tape: Node[] = []

  lift(x: Tensor): Tensor {
    return new Tensor(x.shape, x.dtype, this, { primal: x, node: null } satisfies Payload)
  }

  /** a tracer for a differentiated input (the start of a path on the tape) */
  input(x: Tensor): Tensor {
    const node: Node = { prim: null, params: null, inputs: [], primalsIn: [], primalOut: x }
    return new Tensor(x.shape, x.dtype, this, { primal: x, node } satisfies Payload)
  }

  process<P extends Primitive>(prim: P, inputs: readonly Tensor[], params: PrimitiveParams[P], out: Aval): Tensor {
    const ps = inputs.map((x) => payload(x))
    const primalsIn = ps.map((p) => p.primal)
    const primalOut = bind(prim, primalsIn, params)
    const differentiable = out.dtype === 'float32' && ps.some((p) => p.node !== null)
    const node: Node | null = differentiable ? { prim, params, inputs: ps.map((p) => p.node), primalsIn, primalOut } : null
    if (node) this.tape.push(node)
    return new Tensor(out.shape, out.dtype, this, { primal: primalOut, node } satisfies Payload)
  }

  concrete(x: Tensor): Tensor {
    return payload(x).primal
  }

  /** the primal under `x` if it is a tracer of this trace, else `x` */
  primal(x: Tensor): Tensor {
    return x.trace === this ? payload(x).primal : x
  }

  /** the tape node of `x` if it is a tracer of this trace */
  node(x: Tensor): Node | null {
    return x.trace === this ? payload(x).node : null
  }

  /**
   * Walks the tape backwards from the output cotangents; returns the
   * cotangent reaching each input node (null where none reached it).
   */
  backward(seeds: readonly (readonly [Node, Tensor])[], inputs: readonly Node[]): (Tensor | null)[] {
    const cts = new Map<Node, Tensor | null>()
    for (const [n, ct] of seeds) cts.set(n, addCt(cts.get(n) ?? null, ct))
    for (let i = this.tape.length - 1; i >= 0; i--) {
      const n = this.tape[i]
      const ct = cts.get(n)
      if (!ct) continue
      cts.delete(n)
      const rule = vjpRules[n.prim as Primitive] as (c: Tensor, i: readonly Tensor[], o: Tensor, p: unknown) => (Tensor | null)[]
      const inCts = rule(ct, n.primalsIn, n.primalOut, n.params)
      n.inputs.forEach((m, j) => {
        if (m !== null && inCts[j] !== null) cts.set(m, addCt(cts.get(m) ?? null, inCts[j]))
      })
    }
    return inputs.map((n) => cts.get(n) ?? null)
  }
}

