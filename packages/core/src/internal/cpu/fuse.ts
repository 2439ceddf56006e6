/**
 * Splits a program's equations into steps: single kernels, fused elementwise
 * groups (one generated loop each), and reshape aliases (no work at all).
 *
 * Groups are grown from the last equation backwards and run at the position
 * of their last equation (the root). An elementwise equation joins the group
 * of a consumer when its result has the root's shape and every consumer of
 * it is in the group or runs after the root. If the result is also needed
 * outside the group (a program output, or a later step), the fused loop
 * stores it as an extra output: a chain like an Adam update becomes one loop
 * writing the new parameter and both moments.
 * @internal
 */
import type { DType } from '../../DType'
import type { Aval, Primitive, PrimitiveParams } from '../../Primitive'
import type { Equation, Program, Var } from '../../Program'
import * as S from '../../Shape'
import type { CpuHandle, Prepared } from './types'
import { elementwisePrimitives, exprOf } from './elementwise'
import { prepare } from './kernels'
import { broadcastStrides, contiguous, prepareMultiLoop } from './loops'

/** Runs a step: reads `inputs`, overwrites every element of each of `outs`. */
export type StepRun = (inputs: readonly CpuHandle[], outs: readonly CpuHandle[]) => void

/** One step of a compiled program. */
export interface Step {
  /** `kernel`: one primitive; `fused`: an elementwise group; `alias`: a reshape sharing its input's buffer */
  readonly kind: 'kernel' | 'fused' | 'alias'
  /** the equations it runs, in program order */
  readonly eqs: readonly Equation[]
  /** the variables it reads (deduplicated) */
  readonly inputs: readonly Var[]
  /** the variables it writes (a fused group: those needed outside it, the root last) */
  readonly outs: readonly Var[]
  /** true when an output may share a buffer with a dying input of its size (elementwise) */
  readonly inPlace: boolean
  /** the specialised kernel (absent for aliases) */
  readonly run?: StepRun
}

const isElementwise = (e: Equation) => elementwisePrimitives.has(e.prim)

/** Removes equations whose results no output needs. */
export const liveEquations = (p: Program): Equation[] => {
  const needed = new Set(p.outputs.map((v) => v.id))
  const kept: Equation[] = []
  for (let i = p.equations.length - 1; i >= 0; i--) {
    const e = p.equations[i]
    if (!needed.has(e.out.id)) continue
    kept.push(e)
    for (const v of e.inputs) needed.add(v.id)
  }
  return kept.reverse()
}

/** For each variable id, the indices of the equations reading it. */
const consumersOf = (eqs: readonly Equation[]): Map<number, number[]> => {
  const out = new Map<number, number[]>()
  eqs.forEach((e, i) => {
    for (const v of e.inputs) {
      const list = out.get(v.id)
      if (list === undefined) out.set(v.id, [i])
      else if (list[list.length - 1] !== i) list.push(i)
    }
  })
  return out
}

/** Groups equation indices: `group[i]` is the index of the root (last equation) of i's group. */
const groupEquations = (eqs: readonly Equation[]): Int32Array => {
  const producer = new Map<number, number>()
  eqs.forEach((e, i) => producer.set(e.out.id, i))
  const consumers = consumersOf(eqs)
  const group = new Int32Array(eqs.length).fill(-1)
  for (let r = eqs.length - 1; r >= 0; r--) {
    if (group[r] !== -1) continue
    group[r] = r
    if (!isElementwise(eqs[r])) continue
    const shape = eqs[r].out.aval.shape
    const members = [r]
    // consumers of a member's result must be in the group or run after it (roots > r are already final)
    const fits = (c: number) => group[c] === r || group[c] > r
    for (let grew = true; grew; ) {
      grew = false
      for (const m of members)
        for (const v of eqs[m].inputs) {
          const pe = producer.get(v.id)
          if (pe === undefined || group[pe] !== -1 || !isElementwise(eqs[pe])) continue
          if (!S.equals(v.aval.shape, shape) || !consumers.get(v.id)!.every(fits)) continue
          group[pe] = r
          members.push(pe)
          grew = true
        }
    }
  }
  return group
}

/** Ops whose float32 result is exactly a float32 value already (a selection or a sign flip): no rounding needed. */
const exactOps = new Set<Primitive>(['neg', 'sign', 'max', 'where', 'compare'])

const needsRound = (e: Equation) =>
  e.out.aval.dtype === 'float32' && !exactOps.has(e.prim) && !(e.prim === 'cast' && e.inputs[0].aval.dtype !== 'int32')

/**
 * A fused loop over a group: temporaries `t<i>` per member, the needed ones
 * stored. With `round`, every float32 temporary is rounded to float32
 * (`Math.fround`) so results equal op-by-op execution bit for bit; without,
 * chains run in float64 and round once when stored.
 */
const fusedKernel = (members: readonly Equation[], inputs: readonly Var[], outs: readonly Var[], round: boolean): StepRun => {
  const shape = outs[outs.length - 1].aval.shape
  const names = new Map<number, string>(inputs.map((v, i) => [v.id, `a${i}`]))
  const pre: string[] = []
  members.forEach((e, i) => {
    const args = e.inputs.map((v) => names.get(v.id)!)
    const dts: DType[] = e.inputs.map((v) => v.aval.dtype)
    const x = exprOf(e.prim, e.params, dts, e.out.aval.dtype, args)
    pre.push(`const t${i} = ${round && needsRound(e) ? `Math.fround(${x})` : x};`)
    names.set(e.out.id, `t${i}`)
  })
  const exprs = outs.map((v) => names.get(v.id)!)
  const dtypes = `(${inputs.map((v) => v.aval.dtype).join(',')})>(${outs.map((v) => v.aval.dtype).join(',')})`
  const body = { key: `fused${dtypes}:${pre.join('')}=>${exprs.join(',')}`, nIn: inputs.length, pre: pre.join('\n'), exprs }
  const ins = inputs.map((v) => ({ base: 0, strides: broadcastStrides(v.aval.shape, shape) }))
  return prepareMultiLoop(body, shape, outs.map(() => contiguous(shape)), ins)
}

const kernelOf = (e: Equation): StepRun => {
  const avals: Aval[] = e.inputs.map((v) => v.aval)
  const p = prepare[e.prim] as (a: readonly Aval[], q: PrimitiveParams[Primitive], o: Aval) => Prepared
  const k = p(avals, e.params, e.out.aval)
  return (ins, outs) => k(ins, outs[0])
}

/**
 * The steps of a program, in execution order: dead equations dropped,
 * elementwise chains fused, reshapes of intermediates aliased.
 * @param round whether fused loops round float32 temporaries (bit-exact with op-by-op)
 */
export const schedule = (p: Program, round = true): Step[] => {
  const eqs = liveEquations(p)
  const outputs = new Set(p.outputs.map((v) => v.id))
  const group = groupEquations(eqs)
  const consumers = consumersOf(eqs)
  const membersOf = new Map<number, number[]>()
  group.forEach((r, i) => {
    const list = membersOf.get(r)
    if (list === undefined) membersOf.set(r, [i])
    else list.push(i)
  })
  const steps: Step[] = []
  eqs.forEach((e, r) => {
    if (group[r] !== r) return
    const idx = membersOf.get(r)!
    const members = idx.map((i) => eqs[i])
    if (members.length > 1) {
      const produced = new Set(members.map((m) => m.out.id))
      const inputs = [...new Map(members.flatMap((m) => m.inputs).filter((v) => !produced.has(v.id)).map((v) => [v.id, v])).values()]
      const id = (i: number) => eqs[i].out.id
      const needed = (i: number) => outputs.has(id(i)) || (consumers.get(id(i)) ?? []).some((j) => group[j] !== r)
      const outs = idx.filter((i) => i !== r && needed(i)).map((i) => eqs[i].out)
      outs.push(e.out)
      steps.push({ kind: 'fused', eqs: members, inputs, outs, inPlace: true, run: fusedKernel(members, inputs, outs, round) })
    } else if (e.prim === 'reshape' && !outputs.has(e.out.id))
      steps.push({ kind: 'alias', eqs: [e], inputs: e.inputs, outs: [e.out], inPlace: false })
    else steps.push({ kind: 'kernel', eqs: [e], inputs: e.inputs, outs: [e.out], inPlace: isElementwise(e), run: kernelOf(e) })
  })
  return steps
}

/** How `mergeSiblings` may join independent loops. */
export interface MergeOptions {
  /**
   * A register budget for merged loops of at least `STREAMED` elements: their
   * full-size operands (outputs and inputs read at every index: the memory
   * streams) plus their distinct broadcast inputs (values held in registers
   * for the whole loop) stay within it. Shorter loops merge up to
   * `MAX_MERGED_EQUATIONS`.
   */
  readonly budget: number
  /** whether a step's equations may run in a merged loop (e.g. each has a SIMD lowering); a step refused stays alone */
  readonly accepts: (eqs: readonly Equation[]) => boolean
}

/** An elementwise step: a fused group or a single elementwise kernel. */
const isLoop = (s: Step) => s.kind === 'fused' || (s.kind === 'kernel' && s.inPlace)

const loopShape = (s: Step) => s.outs[s.outs.length - 1].aval.shape

/** Loops this long stream their operands from memory (4 × 16 K floats: beyond a typical L1 and L2 share). */
const STREAMED = 1 << 14
/** bounds the size of a merged loop's code */
const MAX_MERGED_EQUATIONS = 256

interface Sibling {
  /** the position of the merged loop: that of its first member */
  readonly at: number
  readonly shape: S.Shape
  readonly streamed: boolean
  readonly members: Step[]
  readonly eqs: Equation[]
  /** full-size operands */
  streams: number
  /** ids of the broadcast inputs */
  readonly splats: Set<number>
}

const cost = (streams: number, splats: ReadonlySet<number>) => streams + splats.size

/**
 * Horizontal fusion: independent elementwise steps of the same shape (the
 * per-leaf updates of an optimizer, the per-leaf bias corrections) become
 * one loop, which runs at the position of the first of them. A step joins an
 * earlier loop when every variable it reads is produced before that loop
 * (so moving it up keeps the program order valid), the shapes are equal,
 * `options.accepts` both steps' equations, and a long loop stays within
 * `options.budget`. Fewer, wider loops: one call instead of one per leaf,
 * and more memory streams in flight per loop, as long as the loop's values
 * fit the registers (spills cost more than the streams gain). Every merged
 * loop loads all its operands at an index before storing any result there,
 * so the planner's in-place rule holds for it.
 * @param round as for `schedule`
 */
export const mergeSiblings = (steps: readonly Step[], round: boolean, options: MergeOptions): Step[] => {
  const at = new Map<number, number>() // var id -> position of the step producing it
  const order: (Step | Sibling)[] = []
  const open: Sibling[] = []
  for (const s of steps) {
    const ready = s.inputs.reduce((r, v) => Math.max(r, at.get(v.id) ?? -1), -1)
    let place = order.length
    if (isLoop(s) && options.accepts(s.eqs)) {
      const shape = loopShape(s)
      const n = S.size(shape)
      const streams = s.outs.length + s.inputs.filter((v) => S.size(v.aval.shape) === n).length
      const splats = s.inputs.filter((v) => S.size(v.aval.shape) !== n).map((v) => v.id)
      const fits = (x: Sibling) => !x.streamed || cost(x.streams + streams, new Set([...x.splats, ...splats])) <= options.budget
      const g = open.find(
        (x) =>
          x.at > ready && S.equals(x.shape, shape) && fits(x) &&
          x.eqs.length + s.eqs.length <= MAX_MERGED_EQUATIONS,
      )
      if (g) {
        g.members.push(s)
        g.eqs.push(...s.eqs)
        g.streams += streams
        for (const id of splats) g.splats.add(id)
        place = g.at
      } else {
        const fresh: Sibling = { at: order.length, shape, streamed: n >= STREAMED, members: [s], eqs: [...s.eqs], streams, splats: new Set(splats) }
        order.push(fresh)
        open.push(fresh)
      }
    } else order.push(s)
    for (const o of s.outs) at.set(o.id, place)
  }
  return order.map((x) => {
    if (!('members' in x)) return x
    if (x.members.length === 1) return x.members[0]
    const inputs = [...new Map(x.members.flatMap((m) => m.inputs).map((v) => [v.id, v])).values()]
    const outs = x.members.flatMap((m) => m.outs)
    return { kind: 'fused', eqs: x.eqs, inputs, outs, inPlace: true, run: fusedKernel(x.eqs, inputs, outs, round) }
  })
}
