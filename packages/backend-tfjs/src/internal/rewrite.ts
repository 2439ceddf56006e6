/**
 * From a `Program` to a list of tfjs steps: one per equation, except where a
 * few equations map to one tfjs op that does the same in fewer passes:
 * - `matmul` (+ `add` of a row bias) (+ `max(·, 0)`) → one `tf.fused.matMul`
 *   with bias and relu activation;
 * - `transpose` of the last two axes feeding a matmul → its `transposeA` /
 *   `transposeB` flag (not on tfjs-wasm, whose transposed matmul leaves the
 *   XNNPACK fast path and is 10–50× slower than transposing first);
 * - `add(a, neg(b))` → `tf.sub`; `neg(max(neg a, neg b))` → `tf.minimum`
 *   (also with a scalar constant for `neg b`, as `clipByValue` traces);
 *   `max(x, 0)` → `tf.relu`; `mul(x, x)` → `tf.square`; `div(1, sqrt(x))` →
 *   `tf.rsqrt`; `div(1, x)` → `tf.reciprocal` (the composites of core's ops);
 * - a `broadcast` feeding a broadcasting elementwise op is skipped when the op's
 *   other operands already give the full shape (tfjs broadcasts numpy-style).
 * A rewrite applies only when the intermediate it absorbs has no other use;
 * what nothing needs any more is dropped afterwards (see `compile.ts`).
 * @internal
 */
import { Shape as S } from '@frugal-ts/core'
import type { Aval, Equation, Primitive, Program, Var } from '@frugal-ts/core'
import { linear } from './matmul'
import type { RawOp, RawOps } from './ops'
import type { Tf, TfTensor } from './types'

/** One tfjs step: `out = run(inputs)`, variables by id. */
export interface Step {
  readonly out: number
  /** the output's shape and dtype */
  readonly aval: Aval
  readonly inputs: readonly number[]
  readonly run: (xs: readonly TfTensor[]) => TfTensor
  /** what the step is, for `describe`: a primitive name or the rewrite applied */
  readonly kind: string
  /** transposes folded into matmul flags */
  readonly folded: number
  /** transposes kept explicit in front of a matmul (flags off) */
  readonly explicit: number
  /** broadcasts skipped */
  readonly elided: number
}

/** How to rewrite: whether transposes may become matmul flags (off on tfjs-wasm). */
export interface RewriteOptions {
  readonly flags: boolean
}

const broadcasting = new Set<Primitive>(['add', 'mul', 'div', 'max', 'pow', 'compare', 'where'])

const swapsLastTwo = (perm: readonly number[]): boolean => {
  const r = perm.length
  return r >= 2 && perm.every((d, i) => (i < r - 2 ? d === i : i === r - 2 ? d === r - 1 : d === r - 2))
}

/** A matmul with what may be fused into it. */
interface Linear {
  readonly a: Var
  readonly b: Var
  readonly ta: boolean
  readonly tb: boolean
  readonly aShape: readonly number[]
  readonly bShape: readonly number[]
  readonly bias?: Var
  readonly relu: boolean
  readonly explicit: number
}

/**
 * The steps of `program` (in order, before dead-step removal).
 * @param constValues the value of each size-1 constant, by variable id
 */
export const rewrite = (tf: Tf, ops: RawOps, program: Program, constValues: ReadonlyMap<number, number>, o: RewriteOptions): Step[] => {
  const producer = new Map<number, Equation>()
  const uses = new Map<number, number>()
  const outputs = new Set(program.outputs.map((v) => v.id))
  for (const e of program.equations) {
    producer.set(e.out.id, e)
    for (const v of e.inputs) uses.set(v.id, (uses.get(v.id) ?? 0) + 1)
  }
  /** produced by an equation, used once, not an output: may be absorbed into its consumer */
  const single = (v: Var): Equation | undefined =>
    uses.get(v.id) === 1 && !outputs.has(v.id) ? producer.get(v.id) : undefined
  const isConst = (v: Var, x: number) => constValues.get(v.id) === x
  const sameShape = (a: Aval, b: Aval) => S.equals(a.shape, b.shape)

  const step = (out: Var, inputs: readonly Var[], kind: string, run: Step['run'], extra: Partial<Step> = {}): Step => ({
    out: out.id,
    aval: out.aval,
    inputs: inputs.map((v) => v.id),
    kind,
    run,
    folded: 0,
    explicit: 0,
    elided: 0,
    ...extra,
  })

  /** skips broadcasts among the operands of an elementwise op whose result keeps the shape `out` */
  const elide = (vars: readonly Var[], out: Aval): [Var[], number] => {
    const vs = [...vars]
    let n = 0
    vs.forEach((v, i) => {
      const p = producer.get(v.id)
      if (p?.prim !== 'broadcast') return
      const trial = vs.map((w, j) => (j === i ? p.inputs[0] : w))
      if (S.equals(S.broadcastShapes('elide', ...trial.map((w) => w.aval.shape)), out.shape)) (vs[i] = p.inputs[0], n++)
    })
    return [vs, n]
  }

  const plain = (e: Equation): Step => {
    const op = ops[e.prim] as RawOp<Primitive>
    const [vars, elided] = broadcasting.has(e.prim) ? elide(e.inputs, e.out.aval) : [e.inputs, 0]
    const avals = vars.map((v) => v.aval)
    return step(e.out, vars, e.prim, (xs) => op(xs, avals, e.params, e.out.aval), { elided })
  }

  /** an elementwise tfjs op on operands `vars` (broadcasts elided) */
  const elementwise = (e: Equation, vars: readonly Var[], kind: string, f: (xs: readonly TfTensor[]) => TfTensor): Step => {
    const [vs, elided] = elide(vars, e.out.aval)
    return step(e.out, vs, kind, f, { elided })
  }

  const operand = (v: Var): [Var, boolean, number] => {
    const p = single(v)
    if (p?.prim === 'transpose' && swapsLastTwo((p as Equation<'transpose'>).params.perm)) return o.flags ? [p.inputs[0], true, 0] : [v, false, 1]
    return [v, false, 0]
  }
  const ofMatmul = (e: Equation): Linear => {
    const [a, ta, xa] = operand(e.inputs[0])
    const [b, tb, xb] = operand(e.inputs[1])
    return { a, b, ta, tb, aShape: e.inputs[0].aval.shape, bShape: e.inputs[1].aval.shape, relu: false, explicit: xa + xb }
  }
  const biasLike = (bias: Var, out: Aval): boolean => {
    const s = bias.aval.shape
    const n = out.shape[out.shape.length - 1]
    return bias.aval.dtype === 'float32' && s.length >= 1 && s.length <= out.shape.length && s[s.length - 1] === n && s.slice(0, -1).every((d) => d === 1)
  }
  /** `v` as a (possibly biased) matmul, if it is one */
  const linearOf = (v: Var): Linear | undefined => {
    const p = producer.get(v.id)
    if (p?.prim === 'matmul') return ofMatmul(p)
    if (p?.prim !== 'add') return undefined
    for (const s of [0, 1]) {
      const m = single(p.inputs[s])
      const bias = p.inputs[1 - s]
      if (m?.prim === 'matmul' && sameShape(p.out.aval, m.out.aval) && biasLike(bias, p.out.aval)) return { ...ofMatmul(m), bias }
    }
    return undefined
  }
  const linearStep = (out: Var, l: Linear): Step => {
    const kind = `matmul${l.bias ? '+bias' : ''}${l.relu ? '+relu' : ''}`
    const vars = l.bias ? [l.a, l.b, l.bias] : [l.a, l.b]
    const folded = (l.ta ? 1 : 0) + (l.tb ? 1 : 0)
    const run = (xs: readonly TfTensor[]) =>
      linear(tf, xs[0], xs[1], l.aShape, l.bShape, out.aval.shape, { ta: l.ta, tb: l.tb, bias: xs[2], relu: l.relu })
    return step(out, vars, kind, run, { folded, explicit: l.explicit })
  }

  /**
   * `neg(max(neg a, neg b))` as the operands of `minimum(a, b)`; an operand may
   * be a scalar constant c instead of `neg a` (core lifts `minimum(x, 0.5)`'s
   * `neg(0.5)` to the constant −0.5), given as the number −c
   */
  const minimumOf = (e: Equation): (Var | number)[] | undefined => {
    const m = single(e.inputs[0])
    if (m?.prim !== 'max') return undefined
    const parts = m.inputs.map((v): Var | number | undefined => {
      const n = single(v)
      if (n?.prim === 'neg') return n.inputs[0]
      const c = constValues.get(v.id)
      return c !== undefined && v.aval.shape.length === 0 ? -c : undefined
    })
    if (parts.some((q) => q === undefined) || parts.every((q) => typeof q === 'number')) return undefined
    const shapes = parts.map((q) => (typeof q === 'number' ? [] : (q as Var).aval.shape))
    return S.equals(S.broadcastShapes('minimum', ...shapes), e.out.aval.shape) ? (parts as (Var | number)[]) : undefined
  }

  const rewriteOne = (e: Equation): Step => {
    const [x, y] = e.inputs
    switch (e.prim) {
      case 'matmul':
        return linearStep(e.out, ofMatmul(e))
      case 'add': {
        const l = linearOf(e.out)
        if (l?.bias) return linearStep(e.out, l)
        for (const s of [0, 1]) {
          const n = single(e.inputs[s])
          if (n?.prim === 'neg' && !minimumOf(n)) return elementwise(e, [e.inputs[1 - s], n.inputs[0]], 'sub', ([a, b]) => tf.sub(a, b))
        }
        return plain(e)
      }
      case 'max':
        for (const [v, z] of [[x, y], [y, x]])
          if (isConst(z, 0) && v.aval.dtype === 'float32' && sameShape(v.aval, e.out.aval)) {
            const l = single(v) ? linearOf(v) : undefined
            return l ? linearStep(e.out, { ...l, relu: true }) : step(e.out, [v], 'relu', ([a]) => tf.relu(a))
          }
        return plain(e)
      case 'neg': {
        const parts = minimumOf(e)
        if (!parts) return plain(e)
        const vars = parts.filter((q): q is Var => typeof q !== 'number')
        const dtype = e.out.aval.dtype
        return step(e.out, vars, 'minimum', (xs) => {
          let k = 0
          const [a, b] = parts.map((q) => (typeof q === 'number' ? tf.scalar(q, dtype) : xs[k++]))
          return tf.minimum(a, b)
        })
      }
      case 'mul':
        return x.id === y.id && x.aval.dtype === 'float32' ? step(e.out, [x], 'square', ([a]) => tf.square(a)) : plain(e)
      case 'div': {
        if (!isConst(x, 1) || !sameShape(y.aval, e.out.aval)) return plain(e)
        const r = single(y)
        return r?.prim === 'sqrt' ? step(e.out, [r.inputs[0]], 'rsqrt', ([a]) => tf.rsqrt(a)) : step(e.out, [y], 'reciprocal', ([a]) => tf.reciprocal(a))
      }
      default:
        return plain(e)
    }
  }

  return program.equations.map(rewriteOne)
}
