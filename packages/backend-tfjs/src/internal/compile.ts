/**
 * Whole-program execution on tfjs. A `Program` loses its repeated equations
 * (`cse.ts`), is rewritten into tfjs steps (fused matmuls, folded transposes,
 * tfjs's sub/minimum/relu/square/rsqrt, skipped broadcasts: `rewrite.ts`), and
 * loses the steps no output needs. `run` executes the rest inside one
 * `tf.tidy`, disposing every intermediate right after its last use (and each
 * donated input after its own), so a call's peak memory stays near that of the
 * live values and nothing but the outputs survives it.
 * @internal
 */
import { Shape as S } from '@frugal-ts/core'
import type { Executable, Program } from '@frugal-ts/core'
import { TfjsBackendError } from '../TfjsBackendError'
import { cse } from './cse'
import type { RawOps } from './ops'
import { rewrite } from './rewrite'
import type { Step } from './rewrite'
import type { Tf, TfTensor } from './types'

/** What a compiled program needs from its backend. */
export interface Host {
  readonly tf: Tf
  readonly ops: RawOps
  /** the frugal-ts backend's name, for messages */
  readonly name: string
  /** makes the backend's tfjs backend active (when pinned) and returns the active one's name */
  enter(): string
  /** takes ownership of a new output handle (keeps it from tfjs scopes, counts it) */
  adopt(h: TfTensor): TfTensor
  /** releases a handle this backend owns */
  release(h: TfTensor): void
}

/** A step with its operands resolved to dense slots and the slots it frees. */
interface Scheduled {
  readonly run: (xs: readonly TfTensor[]) => TfTensor
  readonly ins: readonly number[]
  readonly out: number
  /** intermediate slots whose last use is this step */
  readonly free: readonly number[]
  /** program input positions whose last use is this step (freed when donated) */
  readonly freeInputs: readonly number[]
}

interface Plan {
  readonly steps: readonly Scheduled[]
  readonly slots: number
  /** per program output, its slot */
  readonly outSlots: readonly number[]
  /** the distinct slots of outputs that steps compute */
  readonly computedSlots: readonly number[]
  readonly describe: string
}

const count = (steps: readonly Step[], f: (s: Step) => number) => steps.reduce((n, s) => n + f(s), 0)

const describePlan = (tfName: string, program: Program, deduped: number, kept: readonly Step[]): string => {
  const kinds = new Map<string, number>()
  for (const s of kept) kinds.set(s.kind, (kinds.get(s.kind) ?? 0) + 1)
  const fusedKinds = [...kinds].filter(([k]) => k.includes('+')).map(([k, n]) => `${n} ${k}`)
  const rewritten = [...kinds].filter(([k]) => ['sub', 'minimum', 'relu', 'square', 'rsqrt', 'reciprocal'].includes(k)).map(([k, n]) => `${n} ${k}`)
  const folded = count(kept, (s) => s.folded)
  const explicit = count(kept, (s) => s.explicit)
  const elided = count(kept, (s) => s.elided)
  const parts = [
    `tfjs(${tfName}): ${program.equations.length} equations -> ${kept.length} tfjs steps in one tf.tidy`,
    `fused: ${fusedKinds.length ? fusedKinds.join(', ') : 'none'}`,
    ...(folded ? [`${folded} transpose${folded === 1 ? '' : 's'} folded into matMul flags`] : []),
    ...(explicit ? [`${explicit} transpose${explicit === 1 ? '' : 's'} kept explicit before matMul (tfjs-${tfName}: its transposed matMul is slow or unreliable)`] : []),
    ...(rewritten.length ? [`rewritten: ${rewritten.join(', ')}`] : []),
    ...(elided ? [`${elided} broadcast${elided === 1 ? '' : 's'} skipped`] : []),
    ...(deduped ? [`${deduped} repeated equation${deduped === 1 ? '' : 's'} shared`] : []),
    `${program.equations.length - deduped - kept.length} equations absorbed or dead`,
  ]
  return parts.join('; ')
}

/** The plan of `program` for one rewrite flavour: dead steps dropped, slots and frees assigned. */
const planOf = (host: Host, original: Program, constValues: ReadonlyMap<number, number>, tfName: string): Plan => {
  // transposes fold into matMul flags on tfjs-cpu only: tfjs-wasm's transposed matMul is slow, and
  // tfjs-webgl's packed transposed matMul read stale padding of reused textures when the contracted
  // dimension is odd (wrong gradients after chained jitted steps, seen in Chromium on SwiftShader)
  const flags = tfName === 'cpu'
  const program = cse(original)
  const all = rewrite(host.tf, host.ops, program, constValues, { flags })
  const needed = new Set(program.outputs.map((v) => v.id))
  const kept: Step[] = []
  for (let i = all.length - 1; i >= 0; i--) {
    if (!needed.has(all[i].out)) continue
    kept.push(all[i])
    for (const v of all[i].inputs) needed.add(v)
  }
  kept.reverse()

  const slot = new Map<number, number>()
  program.inputs.forEach((v, i) => slot.set(v.id, i))
  program.consts.forEach((c, i) => slot.set(c.var.id, program.inputs.length + i))
  for (const s of kept) if (!slot.has(s.out)) slot.set(s.out, slot.size)
  const nExternal = program.inputs.length + program.consts.length
  const outputs = new Set(program.outputs.map((v) => slot.get(v.id)!))
  const last = new Map<number, number>()
  kept.forEach((s, i) => s.inputs.forEach((v) => last.set(slot.get(v)!, i)))

  const steps = kept.map((s, i): Scheduled => {
    const ins = s.inputs.map((v) => slot.get(v)!)
    const lastHere = [...new Set(ins)].filter((j) => last.get(j) === i)
    return {
      run: guardStep(host.tf, s),
      ins,
      out: slot.get(s.out)!,
      free: lastHere.filter((j) => j >= nExternal && !outputs.has(j)),
      freeInputs: lastHere.filter((j) => j < program.inputs.length),
    }
  })
  const outSlots = program.outputs.map((v) => slot.get(v.id)!)
  const computedSlots = [...new Set(outSlots.filter((j) => j >= nExternal))]
  const deduped = original.equations.length - program.equations.length
  return { steps, slots: slot.size, outSlots, computedSlots, describe: describePlan(tfName, original, deduped, kept) }
}

/** a step that returns zeros for an empty result and never returns one of its inputs */
const guardStep = (tf: Tf, s: Step) => (xs: readonly TfTensor[]): TfTensor => {
  if (S.size(s.aval.shape) === 0) return tf.zeros(s.aval.shape as number[], s.aval.dtype)
  const y = s.run(xs)
  return xs.includes(y) ? tf.clone(y) : y
}

/** The size-1 constants' values, by variable id (what the rewrites match on). */
const scalarConsts = (program: Program): Map<number, number> => {
  const m = new Map<number, number>()
  for (const c of program.consts) if (c.value.size === 1) m.set(c.var.id, c.value.dataSync()[0])
  return m
}

/**
 * Compiles `program` for the tfjs backend `host`. The plan depends on the tfjs
 * backend active at `run` (transposes stay explicit on wasm), so one plan per
 * tfjs backend is made on first use.
 */
export const compileProgram = (host: Host, program: Program): Executable<TfTensor> => {
  const { tf } = host
  const constValues = scalarConsts(program)
  const plans = new Map<string, Plan>()
  const planFor = (tfName: string): Plan => {
    let p = plans.get(tfName)
    if (p === undefined) plans.set(tfName, (p = planOf(host, program, constValues, tfName)))
    return p
  }
  const nIn = program.inputs.length

  const run = (inputs: readonly TfTensor[], consts: readonly TfTensor[], donate: readonly number[] = []): TfTensor[] => {
    if (inputs.length !== nIn || consts.length !== program.consts.length)
      throw new TfjsBackendError(
        `${host.name} compile: run expects ${nIn} inputs and ${program.consts.length} consts, got ${inputs.length} and ${consts.length}`,
      )
    const plan = planFor(host.enter())
    const returned = new Set(plan.outSlots.filter((j) => j < nIn + consts.length).map((j) => (j < nIn ? inputs[j] : consts[j - nIn])))
    const own = new Set<number>() // donated input positions freed after their last use
    const late = new Set<TfTensor>() // donated handles shared with another argument: freed at the end
    for (const d of donate) {
      if (!Number.isInteger(d) || d < 0 || d >= nIn) throw new TfjsBackendError(`${host.name} compile: donate index ${d} is out of range [0, ${nIn})`)
      const h = inputs[d]
      if (returned.has(h) || consts.includes(h)) continue
      if (inputs.some((x, i) => x === h && i !== d)) late.add(h)
      else own.add(d)
    }
    const freed = new Set<number>()
    const outSlots = plan.computedSlots
    const computed: TfTensor[] = tf.tidy(() => {
      const env = new Array<TfTensor>(plan.slots)
      for (let i = 0; i < nIn; i++) env[i] = inputs[i]
      for (let i = 0; i < consts.length; i++) env[nIn + i] = consts[i]
      for (const s of plan.steps) {
        env[s.out] = s.run(s.ins.map((j) => env[j]))
        for (const j of s.free) env[j].dispose()
        for (const j of s.freeInputs) if (own.has(j)) (host.release(inputs[j]), freed.add(j))
      }
      return outSlots.map((j) => env[j])
    })
    for (const d of own) if (!freed.has(d)) host.release(inputs[d])
    for (const h of late) host.release(h)
    return outputsOf(plan, inputs, consts, computed)
  }

  /**
   * One handle per output position: inputs and consts as themselves, a
   * repeated output variable as the same handle, and distinct output variables
   * that `cse` merged as distinct handles (each frugal-ts tensor owns its own).
   */
  const outputsOf = (plan: Plan, inputs: readonly TfTensor[], consts: readonly TfTensor[], computed: readonly TfTensor[]): TfTensor[] => {
    const bySlot = new Map<number, TfTensor>(plan.computedSlots.map((j, i) => [j, computed[i]]))
    const byVar = new Map<number, TfTensor>()
    const given = new Set<TfTensor>()
    return plan.outSlots.map((j, i) => {
      if (j < nIn) return inputs[j]
      if (j < nIn + consts.length) return consts[j - nIn]
      const id = program.outputs[i].id
      let h = byVar.get(id)
      if (h === undefined) {
        const t = bySlot.get(j)!
        h = host.adopt(given.has(t) ? tf.clone(t) : t)
        given.add(t)
        byVar.set(id, h)
      }
      return h
    })
  }

  return {
    run,
    // plans hold no tensors (every run's tensors live in its tf.tidy): forgetting them is all there is to free
    dispose: () => plans.clear(),
    get describe() {
      return planFor(host.enter()).describe
    },
  }
}
