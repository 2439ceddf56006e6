/**
 * Whole-program execution on the cpu backend: a `Program` is scheduled once
 * (dead code dropped, elementwise chains fused, reshapes aliased), its buffers
 * planned once per donation pattern, and `run` then walks the steps writing
 * into planned buffers: in steady state it allocates nothing but the arrays of
 * the outputs it returns (and not even those when donated inputs can take them).
 *
 * Handles and accounting: every returned output that is not itself a program
 * input or constant counts as a new live handle (the caller disposes it). An
 * output may be the very array of a donated input: donated inputs are
 * consumed, so the caller must not read them again and disposes them as usual
 * (on the cpu backend `dispose` only updates the counters).
 * @internal
 */
import { CoreError } from '../../CoreError'
import type { DType } from '../../DType'
import type { Executable, KernelInfo } from '../../Backend'
import type { Program } from '../../Program'
import * as S from '../../Shape'
import type { Step, StepRun } from './fuse'
import { schedule } from './fuse'
import { planCache, planStats } from './plan'
import { kernelInfoOf, kernelSlots } from './profile'
import type { Plan } from './plan'
import type { CpuHandle } from './types'

/** What compiled programs need from the backend: allocation and live-handle accounting. */
export interface Allocator {
  /** a new zeroed array (counted as an allocation) */
  alloc(dtype: DType, n: number): CpuHandle
  /** counts `h` as a live handle owned by the caller */
  adopt(h: CpuHandle): void
}

/** A compiled cpu program, with what its plan holds. */
export interface CpuExecutable extends Executable<CpuHandle> {
  /** steps that run a kernel (fused chains count once) */
  readonly kernels: number
  /** steps that are fused elementwise chains */
  readonly fused: number
  /** pooled buffers of the plan without donation */
  readonly buffers: number
  /** bytes of those pooled buffers */
  readonly workspaceBytes: number
}

interface Runner {
  readonly fn: StepRun | null
  /** its entry in a run's profile (−1: an alias) */
  readonly kernel: number
  readonly ins: Int32Array
  readonly args: CpuHandle[]
  readonly outs: Int32Array
  readonly dsts: CpuHandle[]
}

/** A plan made concrete: pooled arrays allocated, one entry of `vals` per variable. */
interface Materialized {
  /** the array of each variable (pooled views stay; the rest is filled per run) */
  readonly vals: CpuHandle[]
  /** entries filled per run: [vals index, donated input index or -1 for a fresh array, dtype, size] */
  readonly perRun: readonly (readonly [number, number, DType, number])[]
  /** entries that are reshape aliases (filled as their step runs) */
  readonly aliases: readonly number[]
}

/**
 * Compiles `program` for the cpu backend (see the module comment).
 * @param exact round fused float32 temporaries so results equal op-by-op execution bit for bit
 */
export const compileProgram = (program: Program, mem: Allocator, exact = true): CpuExecutable => {
  const steps = schedule(program, exact)
  const index = new Map<number, number>() // var id -> dense index into vals
  const dense = (id: number) => {
    if (!index.has(id)) index.set(id, index.size)
    return index.get(id)!
  }
  program.inputs.forEach((v) => dense(v.id))
  program.consts.forEach((c) => dense(c.var.id))
  const slots = kernelSlots(steps)
  const runners: Runner[] = steps.map((s: Step, i) => ({
    fn: s.run ?? null,
    kernel: slots[i],
    ins: Int32Array.from(s.inputs.map((v) => dense(v.id))),
    args: new Array<CpuHandle>(s.inputs.length),
    outs: Int32Array.from(s.outs.map((v) => dense(v.id))),
    dsts: new Array<CpuHandle>(s.outs.length),
  }))
  const outIdx = program.outputs.map((v) => dense(v.id))
  const nExternal = program.inputs.length + program.consts.length
  const avalOf = new Map<number, { dtype: DType; size: number }>()
  for (const s of steps) for (const v of s.outs) avalOf.set(index.get(v.id)!, { dtype: v.aval.dtype, size: S.size(v.aval.shape) })

  const materialize = (plan: Plan): Materialized => {
    const vals = new Array<CpuHandle>(index.size)
    const pools = plan.slots.map((s) => mem.alloc(s.dtype, s.size))
    const perRun: [number, number, DType, number][] = []
    const aliases: number[] = []
    for (const [id, st] of plan.storage) {
      const i = index.get(id)!
      const a = avalOf.get(i)
      if (st.kind === 'pool') vals[i] = pools[st.slot].subarray(0, a!.size)
      else if (st.kind === 'fresh') perRun.push([i, -1, a!.dtype, a!.size])
      else if (st.kind === 'donated') perRun.push([i, st.index, a!.dtype, a!.size])
      else if (st.kind === 'alias') aliases.push(i)
    }
    return { vals, perRun, aliases }
  }

  // one plan (and one set of pooled buffers) per donation pattern seen
  const plans = planCache(program, steps, materialize)
  const { kernels, fused, buffers, workspaceBytes } = planStats(program, steps)
  const aliased = steps.length - kernels
  let info: KernelInfo[] | undefined

  const run = (inputs: readonly CpuHandle[], consts: readonly CpuHandle[], donate: readonly number[] = [], profile?: Float64Array): CpuHandle[] => {
    if (inputs.length !== program.inputs.length || consts.length !== program.consts.length)
      throw new CoreError(
        `cpu compile: run expects ${program.inputs.length} inputs and ${program.consts.length} consts, got ${inputs.length} and ${consts.length}`,
      )
    if (profile !== undefined && profile.length !== kernels)
      throw new CoreError(`cpu compile: run's profile needs one entry per kernel (${kernels}), got ${profile.length}`)
    const m = plans.get(usableDonations(inputs, consts, donate))
    const vals = m.vals
    for (let i = 0; i < inputs.length; i++) vals[i] = inputs[i]
    for (let i = 0; i < consts.length; i++) vals[inputs.length + i] = consts[i]
    for (const [i, src, dtype, n] of m.perRun) vals[i] = src < 0 ? mem.alloc(dtype, n) : inputs[src]
    try {
      for (const r of runners) {
        if (r.fn === null) {
          vals[r.outs[0]] = vals[r.ins[0]]
          continue
        }
        const { args, dsts } = r
        for (let j = 0; j < args.length; j++) args[j] = vals[r.ins[j]]
        for (let j = 0; j < dsts.length; j++) dsts[j] = vals[r.outs[j]]
        if (profile === undefined) r.fn(args, dsts)
        else {
          const t0 = performance.now()
          r.fn(args, dsts)
          profile[r.kernel] += performance.now() - t0
        }
      }
      const outs = outIdx.map((i) => vals[i])
      // each computed output is adopted once: a variable listed twice is one handle (counted, and disposed, once)
      outIdx.forEach((i, j) => {
        if (i >= nExternal && outIdx.indexOf(i) === j) mem.adopt(outs[j])
      })
      return outs
    } finally {
      forget(m, runners, nExternal)
    }
  }

  return {
    run,
    kernels,
    fused,
    buffers,
    workspaceBytes,
    // pooled buffers are plain arrays: dropping the plans lets them be collected
    dispose: () => plans.clear(),
    // made when a profile first asks
    get kernelInfo() {
      return (info ??= steps.filter((s) => s.kind !== 'alias').map((s) => kernelInfoOf(s, 'js')))
    },
    describe: `cpu: ${program.equations.length} equations -> ${kernels} kernels (${fused} fused${aliased ? `, ${aliased} reshapes aliased` : ''}), ${buffers} buffers planned`,
  }
}

/** Drops references to the caller's arrays so the executable does not keep them alive. */
const forget = (m: Materialized, runners: readonly Runner[], nExternal: number) => {
  const vals = m.vals
  for (let i = 0; i < nExternal; i++) vals[i] = undefined as unknown as CpuHandle
  for (const [i] of m.perRun) vals[i] = undefined as unknown as CpuHandle
  for (const i of m.aliases) vals[i] = undefined as unknown as CpuHandle
  for (const r of runners) {
    r.args.fill(undefined as unknown as CpuHandle)
    r.dsts.fill(undefined as unknown as CpuHandle)
  }
}

/** The donated input indices that are safe to reuse: in range, and not shared with another input or a const. */
export const usableDonations = (inputs: readonly CpuHandle[], consts: readonly CpuHandle[], donate: readonly number[]): number[] => {
  if (donate.length === 0) return donate as number[]
  // how often each handle is passed (a constant counts twice): only a handle passed once may be overwritten
  const uses = new Map<CpuHandle, number>()
  for (const x of inputs) uses.set(x, (uses.get(x) ?? 0) + 1)
  for (const x of consts) uses.set(x, (uses.get(x) ?? 0) + 2)
  const ok = new Set<number>()
  for (const d of donate) {
    if (!Number.isInteger(d) || d < 0 || d >= inputs.length)
      throw new CoreError(`cpu compile: donate index ${d} is out of range [0, ${inputs.length})`)
    if (uses.get(inputs[d]) === 1) ok.add(d)
  }
  return [...ok].sort((a, b) => a - b)
}
