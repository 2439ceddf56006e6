/**
 * Buffer planning for compiled programs: where each variable's data lives.
 *
 * Liveness is computed over the steps (a reshape alias extends its source's
 * life). Intermediates are assigned to pooled slots, reused across steps (a
 * dead slot of the same dtype is taken, best fit, growing the largest free
 * one if none fits) and across calls (the executable keeps its slots).
 * Program outputs get a fresh array per call, or the buffer of a donated
 * input of the same dtype and size once that input is dead. Elementwise steps
 * may write over an input that dies at that step. Non-donated inputs and
 * constants are never written.
 * @internal
 */
import type { DType } from '../../DType'
import { byteSize } from '../../DType'
import type { Program, Var } from '../../Program'
import * as S from '../../Shape'
import type { Step } from './fuse'

/** Where a variable's data lives during a run. */
export type Storage =
  /** the caller's handle: program input `index` (or constant `index - inputs.length`) */
  | { readonly kind: 'input'; readonly index: number }
  /** pooled slot `slot`, a view of its first `size` elements */
  | { readonly kind: 'pool'; readonly slot: number }
  /** a new array each run (a program output) */
  | { readonly kind: 'fresh' }
  /** the buffer of donated input `index` (a program output written in place of a dead input) */
  | { readonly kind: 'donated'; readonly index: number }
  /** the same array as variable `of` (reshape alias) */
  | { readonly kind: 'alias'; readonly of: number }

/** A pooled buffer: one dtype, the largest size any of its variables needs. */
export interface Slot {
  readonly dtype: DType
  size: number
}

/** The result of planning: a storage per variable id, and the slots to allocate. */
export interface Plan {
  readonly storage: ReadonlyMap<number, Storage>
  readonly slots: readonly Slot[]
}

const sizeOf = (v: Var) => S.size(v.aval.shape)

/**
 * Plans buffers for `steps` of `program`.
 * @param donated indices of program inputs whose buffers may be reused
 */
export const planBuffers = (program: Program, steps: readonly Step[], donated: ReadonlySet<number>): Plan => {
  const storage = new Map<number, Storage>()
  const root = new Map<number, number>() // var id -> id of the var owning its buffer
  const external = new Map<number, number>()
  program.inputs.forEach((v, i) => external.set(v.id, i))
  program.consts.forEach((c, i) => external.set(c.var.id, program.inputs.length + i))
  for (const [id, index] of external) {
    storage.set(id, { kind: 'input', index })
    root.set(id, id)
  }
  for (const s of steps) for (const o of s.outs) root.set(o.id, s.kind === 'alias' ? root.get(s.inputs[0].id)! : o.id)

  // last step index at which each buffer owner is read; outputs live to the end
  const lastUse = new Map<number, number>()
  steps.forEach((s, i) => {
    for (const v of s.inputs) lastUse.set(root.get(v.id)!, i)
    for (const o of s.outs) if (!lastUse.has(root.get(o.id)!)) lastUse.set(root.get(o.id)!, i)
  })
  for (const v of program.outputs) lastUse.set(root.get(v.id)!, Infinity)

  const slots: Slot[] = []
  const freeSlots: number[] = []
  const freeDonated: number[] = []
  const donatedIndexOf = new Map<number, number>() // owner var id -> donated input index
  const ownerSlot = new Map<number, number>()
  const free = (owner: number) => {
    const slot = ownerSlot.get(owner)
    if (slot !== undefined) freeSlots.push(slot)
    const d = donatedIndexOf.get(owner)
    if (d !== undefined) freeDonated.push(d)
  }
  program.inputs.forEach((v, i) => {
    if (donated.has(i)) donatedIndexOf.set(v.id, i)
    if (donated.has(i) && !lastUse.has(v.id)) freeDonated.push(i)
  })

  const takeSlot = (v: Var): number => {
    const n = sizeOf(v)
    let best = -1
    for (let j = 0; j < freeSlots.length; j++) {
      const s = slots[freeSlots[j]]
      if (s.dtype !== v.aval.dtype) continue
      if (best === -1) best = j
      else {
        const b = slots[freeSlots[best]]
        const fits = s.size >= n
        const bFits = b.size >= n
        if ((fits && (!bFits || s.size < b.size)) || (!fits && !bFits && s.size > b.size)) best = j
      }
    }
    if (best === -1) {
      slots.push({ dtype: v.aval.dtype, size: n })
      return slots.length - 1
    }
    const slot = freeSlots.splice(best, 1)[0]
    slots[slot].size = Math.max(slots[slot].size, n)
    return slot
  }

  const takeDonated = (v: Var): number => {
    const inputs = program.inputs
    const j = freeDonated.findIndex((d) => inputs[d].aval.dtype === v.aval.dtype && sizeOf(inputs[d]) === sizeOf(v))
    return j === -1 ? -1 : freeDonated.splice(j, 1)[0]
  }

  const outputs = new Set(program.outputs.map((v) => v.id))
  steps.forEach((s, i) => {
    if (s.kind === 'alias') {
      storage.set(s.outs[0].id, { kind: 'alias', of: s.inputs[0].id })
      return
    }
    const dying = [...new Set(s.inputs.map((v) => root.get(v.id)!))].filter((o) => lastUse.get(o) === i)
    // an elementwise step reads every input element before storing: it may overwrite a dying full-size input
    const fullSize = (o: number) => {
      const v = s.inputs.find((x) => root.get(x.id) === o)!
      return s.outs.some((out) => v.aval.dtype === out.aval.dtype && sizeOf(v) === sizeOf(out))
    }
    const early = s.inPlace ? dying.filter(fullSize) : []
    early.forEach(free)
    for (const out of s.outs) {
      if (outputs.has(out.id)) {
        const d = takeDonated(out)
        storage.set(out.id, d === -1 ? { kind: 'fresh' } : { kind: 'donated', index: d })
      } else {
        const slot = takeSlot(out)
        ownerSlot.set(out.id, slot)
        storage.set(out.id, { kind: 'pool', slot })
      }
    }
    dying.filter((o) => !early.includes(o)).forEach(free)
    for (const out of s.outs) if (lastUse.get(out.id) === i) free(out.id)
  })
  return { storage, slots }
}

/**
 * One plan per donation pattern seen, each turned once by `make` into what
 * a run needs (pooled buffers, views): `get` is the lookup a run calls, `all`
 * what has been made (for `dispose`), `clear` forgets it.
 */
export interface PlanCache<M> {
  get(donated: readonly number[]): M
  all(): IterableIterator<M>
  clear(): void
}

/** @internal see `PlanCache` */
export const planCache = <M>(program: Program, steps: readonly Step[], make: (plan: Plan) => M): PlanCache<M> => {
  const plans = new Map<string, M>()
  return {
    get: (donated) => {
      const key = donated.join(',')
      let m = plans.get(key)
      if (m === undefined) {
        m = make(planBuffers(program, steps, new Set(donated)))
        plans.set(key, m)
      }
      return m
    },
    all: () => plans.values(),
    clear: () => plans.clear(),
  }
}

/** What an executable reports of its steps: kernels (aliases are free), fused groups, and the pooled buffers without donations. */
export const planStats = (program: Program, steps: readonly Step[]): { kernels: number; fused: number; buffers: number; workspaceBytes: number } => {
  const base = planBuffers(program, steps, new Set())
  return {
    kernels: steps.filter((s) => s.kind !== 'alias').length,
    fused: steps.filter((s) => s.kind === 'fused').length,
    buffers: base.slots.length,
    workspaceBytes: base.slots.reduce((n, s) => n + s.size * byteSize[s.dtype], 0),
  }
}
