/**
 * Whole-program compilation for the gpujs backend.
 *
 * A variable is *materialized* (gets a buffer) when it is a program output
 * or feeds a primitive that is not elementwise. Every other elementwise
 * result is computed inside the kernel of each materialized variable that
 * needs it: one generated kernel per materialized elementwise result reads
 * its leaves (inputs, constants, non-elementwise results) once and computes
 * the whole chain in registers. An intermediate needed by two outputs is
 * computed in both kernels rather than stored: on a GPU a few extra
 * arithmetic instructions cost less than a texture round trip. So an
 * optimizer update with outputs (p, m, v) is exactly three launches.
 *
 * Scalar constants are baked into the generated source as literals. Reshapes
 * of materialized values are aliases (no launch). Intermediates are released
 * right after their last use. Donated inputs are not reused (gpu.js allocates
 * every output texture itself; it recycles a kernel's texture once no handle
 * holds it), and the caller disposes them.
 * @internal
 */
import type { Equation, Executable, Program, Var } from '@frugal-ts/core'
import { CoreError, Shape } from '@frugal-ts/core'
import { fusible } from './elementwise'
import type { FusedKernel, FusedOp, FusedRef } from './fused'
import { fusedKernel } from './fused'
import type { Device, GpujsHandle } from './device'
import { exactInt } from './device'
import type { Plans } from './kernels'
import { kernelTable } from './kernels'
import type { Plan } from './stage'
import { maxArgs, stage } from './stage'

/**
 * A compiled program on the gpujs backend, with what its schedule holds.
 * @example
 * const step = jit((x: Tensor) => add(mul(x, 2), 1))
 * withBackend('gpujs', () => step.describe(tensor([1, 2]))) // 'gpujs(…): 2 equations -> 1 kernel launches (1 fused …)'
 */
export interface GpujsExecutable extends Executable<GpujsHandle> {
  /** kernels one run launches (a fused chain counts once; aliases and empty outputs count zero) */
  readonly launches: number
  /** of those, kernels that fuse two or more primitives */
  readonly fused: number
}

type Step =
  | { readonly kind: 'fused'; readonly out: Var; readonly leaves: readonly Var[]; readonly kernel: FusedKernel | null; readonly ops: number }
  | { readonly kind: 'plan'; readonly out: Var; readonly inputs: readonly Var[]; readonly plan: Plan }

const liveEquations = (p: Program): Equation[] => {
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

/** Scalar constants whose value can be a literal in generated code. */
const literalsOf = (p: Program): Map<number, number> => {
  const out = new Map<number, number>()
  for (const c of p.consts) {
    if (Shape.size(c.var.aval.shape) !== 1) continue
    const v = c.value.dataSync()[0]
    if (c.var.aval.dtype !== 'int32' || Math.abs(v) <= exactInt) out.set(c.var.id, v)
  }
  return out
}

/** The schedule: one step per materialized variable produced by an equation, in program order. */
const schedule = (eqs: readonly Equation[], outputs: ReadonlySet<number>, literals: ReadonlyMap<number, number>, plans: Plans, hoist: boolean): Step[] => {
  const producer = new Map<number, Equation>(eqs.map((e) => [e.out.id, e]))
  const order = new Map<number, number>(eqs.map((e, i) => [e.out.id, i]))
  const materialized = new Set<number>(outputs)
  for (const e of eqs) if (!fusible.has(e.prim)) [e.out, ...e.inputs].forEach((v) => materialized.add(v.id))
  const inlined = (v: Var) => {
    const p = producer.get(v.id)
    return p !== undefined && fusible.has(p.prim) && !materialized.has(v.id)
  }
  for (;;) {
    const steps: Step[] = []
    let grew = false
    for (const e of eqs) {
      if (!materialized.has(e.out.id)) continue
      if (!fusible.has(e.prim)) {
        const avals = e.inputs.map((v) => v.aval)
        steps.push({ kind: 'plan', out: e.out, inputs: e.inputs, plan: plans.of(e.prim, avals, e.params, e.out.aval) })
        continue
      }
      const cone = new Map<number, Equation>()
      const leaves = new Map<number, Var>()
      const visit = (v: Var) => {
        if (literals.has(v.id) || cone.has(v.id) || leaves.has(v.id)) return
        if (!inlined(v)) return void leaves.set(v.id, v)
        const p = producer.get(v.id)!
        cone.set(v.id, p)
        p.inputs.forEach(visit)
      }
      cone.set(e.out.id, e)
      e.inputs.forEach(visit)
      if (leaves.size > maxArgs) {
        // too many textures for one kernel: store this chain's direct inputs and try again
        for (const v of e.inputs) if (inlined(v)) (materialized.add(v.id), (grew = true))
        if (grew) break
      }
      const ops = [...cone.values()].sort((a, b) => order.get(a.out.id)! - order.get(b.out.id)!)
      const leafList = [...leaves.values()]
      const opIndex = new Map(ops.map((o, j) => [o.out.id, j]))
      const leafIndex = new Map(leafList.map((v, k) => [v.id, k]))
      const ref = (v: Var): FusedRef =>
        opIndex.has(v.id) ? { op: opIndex.get(v.id)! } : leafIndex.has(v.id) ? { leaf: leafIndex.get(v.id)! } : { literal: literals.get(v.id)! }
      const fops: FusedOp[] = ops.map((o) => ({
        prim: o.prim,
        params: o.params,
        inputs: o.inputs.map(ref),
        inDtypes: o.inputs.map((v) => v.aval.dtype),
        outDtype: o.out.aval.dtype,
      }))
      const shapes = leafList.map((v) => v.aval.shape)
      const kernel = Shape.size(e.out.aval.shape) === 0 ? null : fusedKernel(e.out.aval.shape, shapes, fops, hoist)
      steps.push({ kind: 'fused', out: e.out, leaves: leafList, kernel, ops: ops.length })
    }
    if (!grew) return steps
  }
}

const inputsOf = (s: Step): readonly Var[] => (s.kind === 'fused' ? s.leaves : s.inputs)

/**
 * Compiles `program` on `dev` (see the module comment).
 * @example const exe = compileProgram(program, dev, plans); exe.run(inputs, consts)
 */
export const compileProgram = (program: Program, dev: Device, plans: Plans): GpujsExecutable => {
  const eqs = liveEquations(program)
  const outputs = new Set(program.outputs.map((v) => v.id))
  const literals = literalsOf(program)
  const steps = schedule(eqs, outputs, literals, plans, !dev.gl)
  const lastUse = new Map<number, number>()
  steps.forEach((s, i) => inputsOf(s).forEach((v) => lastUse.set(v.id, i)))
  const nIn = program.inputs.length
  const external = new Map<number, number>() // var id -> index into inputs ++ consts
  program.inputs.forEach((v, i) => external.set(v.id, i))
  program.consts.forEach((c, i) => external.set(c.var.id, nIn + i))
  const runsKernel = (s: Step) => (s.kind === 'fused' ? s.kernel !== null : s.plan.kind === 'stages')
  const launches = steps.reduce((n, s) => n + (s.kind === 'fused' ? (runsKernel(s) ? 1 : 0) : s.plan.kind === 'stages' ? s.plan.stages.length : 0), 0)
  const fused = steps.filter((s) => s.kind === 'fused' && s.ops > 1 && runsKernel(s)).length
  const aliases = steps.filter((s) => s.kind === 'plan' && s.plan.kind === 'alias').length
  const kernels = kernelTable(dev, plans)

  const runStep = (s: Step, env: Map<number, GpujsHandle>): GpujsHandle => {
    const { shape, dtype } = s.out.aval
    if (s.kind === 'plan') return dev.runPlan(s.plan, s.inputs.map((v) => env.get(v.id)!), shape, dtype)
    const k = s.kernel
    if (k === null) return dev.handle(null, shape, dtype)
    const buffer = (l: number) => env.get(s.leaves[l].id)!.buffer
    const hoisted = k.hoisted?.run(k.hoisted.leaves.map((l) => dev.download(buffer(l))[0]))
    return dev.handle(dev.runStage(stage(k.source, Shape.size(shape), []), k.args.map(buffer), hoisted), shape, dtype)
  }

  /** Op by op through the kernel table: for inputs holding exact host int32 data. */
  const interpret = (env: Map<number, GpujsHandle>, owned: Set<GpujsHandle>) => {
    const last = new Map<number, number>()
    eqs.forEach((e, i) => e.inputs.forEach((v) => last.set(v.id, i)))
    eqs.forEach((e, i) => {
      const k = kernels[e.prim] as (h: readonly GpujsHandle[], a: readonly Var['aval'][], p: unknown, o: Var['aval']) => GpujsHandle
      const h = k(e.inputs.map((v) => env.get(v.id)!), e.inputs.map((v) => v.aval), e.params, e.out.aval)
      env.set(e.out.id, h)
      owned.add(h)
      for (const v of e.inputs) if (last.get(v.id) === i && !outputs.has(v.id) && owned.has(env.get(v.id)!)) dev.release(env.get(v.id)!)
    })
  }

  // donation: gpu.js picks every output texture itself, so donated buffers are not reused; the caller disposes them
  const run = (inputs: readonly GpujsHandle[], consts: readonly GpujsHandle[]): GpujsHandle[] => {
    if (inputs.length !== nIn || consts.length !== program.consts.length)
      throw new CoreError(`gpujs compile: run expects ${nIn} inputs and ${program.consts.length} consts, got ${inputs.length} and ${consts.length}`)
    const all = [...inputs, ...consts]
    const env = new Map<number, GpujsHandle>()
    for (const [id, i] of external) env.set(id, all[i])
    const owned = new Set<GpujsHandle>()
    if (all.some((h) => h.buffer?.host)) interpret(env, owned)
    else
      steps.forEach((s, i) => {
        const h = runStep(s, env)
        env.set(s.out.id, h)
        owned.add(h)
        for (const v of inputsOf(s)) {
          if (lastUse.get(v.id) !== i || outputs.has(v.id)) continue
          const x = env.get(v.id)!
          if (owned.has(x)) dev.release(x)
        }
      })
    return program.outputs.map((v) => env.get(v.id)!)
  }

  return {
    run,
    launches,
    fused,
    describe: `gpujs(${dev.mode}): ${program.equations.length} equations -> ${launches} kernel launches (${fused} fused${aliases ? `, ${aliases} reshapes aliased` : ''})`,
  }
}
