/**
 * Whole programs on WebAssembly: the cpu schedule (dead code dropped,
 * elementwise chains fused, reshapes aliased), matrix transposes folded into
 * matmuls, every step lowered to a wasm kernel where it can be (the rest keep
 * their JS kernels, which run on views of the same memory), buffers planned
 * once per donation pattern (`cpu/plan.ts`) and placed in wasm memory.
 *
 * Handles that already live in wasm memory (the backend's own, with shared
 * memory) are read and written in place; other arrays are staged: copied in
 * before the run, and outputs copied out after it. In steady state a run
 * allocates nothing but the outputs it returns (nothing at all when donated
 * inputs take them).
 * @internal
 */
import type { KernelInfo } from '../../Backend'
import { CoreError } from '../../CoreError'
import type { DType, TypedArray } from '../../DType'
import { byteSize } from '../../DType'
import type { Program } from '../../Program'
import * as S from '../../Shape'
import type { CpuExecutable } from '../cpu/compile'
import { usableDonations } from '../cpu/compile'
import { mergeSiblings, schedule } from '../cpu/fuse'
import { planCache, planStats } from '../cpu/plan'
import type { Plan } from '../cpu/plan'
import { kernelInfoOf, kernelSlots } from '../cpu/profile'
import type { CpuHandle } from '../cpu/types'
import type { Block, Heap } from './heap'
import type { LoweredStep } from './lower'
import { unsupportedFused } from './fused'
import { foldTransposes, lowerStep } from './lower'
import type { Pool } from './threads'

/** What wasm programs need from the backend. */
export interface WasmAllocator {
  readonly heap: Heap
  /** a new output handle (resident in wasm memory when the backend keeps handles there), counted */
  handle(dtype: DType, n: number): CpuHandle
  /** a block of wasm memory for the executable's own buffers, counted */
  block(bytes: number): Block
  /** counts `h` as a live handle owned by the caller */
  adopt(h: CpuHandle): void
  /** reports a step that stays on the JS path (once per reason, by the backend's policy) */
  fallback(reason: string): void
  /** the threads large kernels are split across */
  readonly pool: Pool
}

interface Runner {
  readonly lowered: LoweredStep
  /** its entry in a run's profile (−1: an alias) */
  readonly kernel: number
  readonly ins: Int32Array
  readonly outs: Int32Array
  readonly addrs: number[]
  readonly args: CpuHandle[]
  readonly dsts: CpuHandle[]
}

interface Materialized {
  readonly plan: Plan
  /** byte address of each dense variable during a run */
  readonly addr: Float64Array
  readonly views: CpuHandle[]
  /** pooled variables: [dense index, slot]; their views are rebuilt after a grow of a non-shared memory */
  readonly pooled: readonly (readonly [number, number])[]
  readonly pools: Block[]
  /** per external input: a staging block (made on first need) */
  readonly stage: (Block | null)[]
  /** per dense variable written fresh: a staging block when handles are not resident */
  readonly outStage: Map<number, Block>
  /** per run: [dense index, donated input or -1, dtype, size] */
  readonly perRun: readonly (readonly [number, number, DType, number])[]
  /** dense index -> the donated input whose buffer it takes */
  readonly donor: Map<number, number>
  generation: number
}

const none = new Float32Array(0)

/** how a matmul with folded transposes reads its operands, for profiles */
const transposeNote = (flags: readonly [boolean, boolean] | undefined): string | undefined =>
  flags && (flags[0] || flags[1]) ? `${flags[0] ? 'Aᵀ' : 'A'}·${flags[1] ? 'Bᵀ' : 'B'}` : undefined

/**
 * The register budget of merged long loops (`mergeSiblings`): streams plus
 * broadcast values, against the 16 vector registers of x86-64 (arm64 has
 * 32). Measured here on 1 M-float leaves (fastest of 25 runs): signSGD
 * leaves merged four or five to a loop take 0.92× the time of one loop per
 * leaf; three Adam leaves in one loop (21 streams, 8 to 12 values) took
 * 1.2× to 1.7× three loops, as V8 spilled registers in the loop.
 */
const MERGE_BUDGET = 16

/**
 * Compiles `program` to wasm kernels (see the module comment). `exact`: every
 * result equals op-by-op execution bit for bit (up to the approximated exp,
 * log, tanh and summation order); without it, fused divisions by scalars
 * multiply by reciprocals and JS fallbacks run in float64. `merge`: independent
 * elementwise loops of one shape run as one (`mergeSiblings`).
 */
export const compileWasm = (program: Program, mem: WasmAllocator, exact = true, resident = mem.heap.shared, merge = true): CpuExecutable => {
  const heap = mem.heap
  const scheduled = schedule(program, exact)
  const merged = merge ? mergeSiblings(scheduled, exact, { budget: MERGE_BUDGET, accepts: (eqs) => unsupportedFused(eqs) === undefined }) : scheduled
  const folded = foldTransposes(program, merged)
  const steps = folded.steps
  const lowered = steps.map((s) => lowerStep(s, folded.transposed.get(s), mem.pool, exact))
  const index = new Map<number, number>()
  const dense = (id: number) => {
    if (!index.has(id)) index.set(id, index.size)
    return index.get(id)!
  }
  program.inputs.forEach((v) => dense(v.id))
  program.consts.forEach((c) => dense(c.var.id))
  const slots = kernelSlots(steps)
  const runners: Runner[] = lowered.map((l, i) => ({
    lowered: l,
    kernel: slots[i],
    ins: Int32Array.from(l.step.inputs.map((v) => dense(v.id))),
    outs: Int32Array.from(l.step.outs.map((v) => dense(v.id))),
    addrs: new Array<number>(l.step.inputs.length + l.step.outs.length).fill(0),
    args: new Array<CpuHandle>(l.step.inputs.length).fill(none),
    dsts: new Array<CpuHandle>(l.step.outs.length).fill(none),
  }))
  const outIdx = program.outputs.map((v) => dense(v.id))
  /** the first position of each output's variable among the outputs */
  const firstOut = outIdx.map((i) => outIdx.indexOf(i))
  const nIn = program.inputs.length
  const nExternal = nIn + program.consts.length
  const avalOf = new Map<number, { dtype: DType; size: number }>()
  for (const s of steps) for (const v of s.outs) avalOf.set(index.get(v.id)!, { dtype: v.aval.dtype, size: S.size(v.aval.shape) })
  const externalAval = [...program.inputs, ...program.consts.map((c) => c.var)].map((v) => ({ dtype: v.aval.dtype, size: S.size(v.aval.shape) }))
  for (const l of lowered) if (l.why && l.step.kind !== 'alias' && !l.why.endsWith('runs its JS kernel')) mem.fallback(l.why)

  const materialize = (plan: Plan): Materialized => {
    const pools = plan.slots.map((s) => mem.block(s.size * byteSize[s.dtype]))
    const m: Materialized = {
      plan, pools, addr: new Float64Array(index.size), views: new Array<CpuHandle>(index.size).fill(none),
      pooled: [], stage: new Array<Block | null>(nExternal).fill(null), outStage: new Map(), perRun: [], donor: new Map(), generation: -1,
    }
    for (const [id, st] of plan.storage) {
      const i = index.get(id)!
      const a = avalOf.get(i)!
      if (st.kind === 'pool') {
        ;(m.pooled as [number, number][]).push([i, st.slot])
        m.addr[i] = pools[st.slot].off
      } else if (st.kind === 'fresh') {
        ;(m.perRun as [number, number, DType, number][]).push([i, -1, a.dtype, a.size])
        if (!resident) m.outStage.set(i, mem.block(a.size * byteSize[a.dtype]))
      } else if (st.kind === 'donated') {
        ;(m.perRun as [number, number, DType, number][]).push([i, st.index, a.dtype, a.size])
        m.donor.set(i, st.index)
      }
    }
    return m
  }

  /** (re)builds the views of planned buffers; needed once, and after every grow of a non-shared memory */
  const refresh = (m: Materialized) => {
    if (m.generation === heap.generation || (m.generation >= 0 && heap.shared)) return
    for (const [i, slot] of m.pooled) m.views[i] = heap.view(avalOf.get(i)!.dtype, m.pools[slot].off, avalOf.get(i)!.size)
    m.generation = heap.generation
  }

  const plans = planCache(program, steps, materialize)

  const staged = new Uint8Array(nExternal)
  const run = (inputs: readonly CpuHandle[], consts: readonly CpuHandle[], donate: readonly number[] = [], profile?: Float64Array): CpuHandle[] => {
    if (inputs.length !== nIn || consts.length !== program.consts.length)
      throw new CoreError(`cpu compile: run expects ${nIn} inputs and ${program.consts.length} consts, got ${inputs.length} and ${consts.length}`)
    if (profile !== undefined && profile.length !== kernels)
      throw new CoreError(`cpu compile: run's profile needs one entry per kernel (${kernels}), got ${profile.length}`)
    const m = plans.get(usableDonations(inputs, consts, donate))
    const { addr, views } = m
    const ext = (e: number) => (e < nIn ? inputs[e] : consts[e - nIn])
    // allocate first (a grow of a non-shared memory detaches views), then take addresses and views
    for (let e = 0; e < nExternal; e++) {
      staged[e] = heap.offsetOf(ext(e)) < 0 && externalAval[e].size > 0 ? 1 : 0
      if (staged[e] && m.stage[e] === null) m.stage[e] = mem.block(externalAval[e].size * byteSize[externalAval[e].dtype])
    }
    const fresh: CpuHandle[] = []
    if (resident) for (const [, src, dtype, n] of m.perRun) if (src < 0) fresh.push(mem.handle(dtype, n))
    refresh(m)
    for (let e = 0; e < nExternal; e++) {
      const h = ext(e)
      if (staged[e]) {
        const b = m.stage[e]!
        const v = heap.view(externalAval[e].dtype, b.off, externalAval[e].size)
        v.set(h)
        addr[e] = b.off
        views[e] = v
      } else {
        addr[e] = Math.max(0, heap.offsetOf(h))
        views[e] = h
      }
    }
    let f = 0
    for (const [i, src, dtype, n] of m.perRun) {
      if (src >= 0) (addr[i] = addr[src]), (views[i] = views[src])
      else if (resident) (views[i] = fresh[f++]), (addr[i] = heap.offsetOf(views[i]))
      else (addr[i] = m.outStage.get(i)!.off), (views[i] = heap.view(dtype, addr[i], n))
    }
    try {
      for (const r of runners) {
        const { lowered: l, ins, outs } = r
        const t0 = profile !== undefined && r.kernel >= 0 ? performance.now() : 0
        if (l.step.kind === 'alias') {
          addr[outs[0]] = addr[ins[0]]
          views[outs[0]] = views[ins[0]]
        } else if (l.wasm) {
          const a = r.addrs
          for (let j = 0; j < outs.length; j++) a[j] = addr[outs[j]]
          for (let j = 0; j < ins.length; j++) a[outs.length + j] = addr[ins[j]]
          l.wasm(a)
        } else {
          for (let j = 0; j < ins.length; j++) r.args[j] = views[ins[j]]
          for (let j = 0; j < outs.length; j++) r.dsts[j] = views[outs[j]]
          l.step.run!(r.args, r.dsts)
        }
        if (profile !== undefined && r.kernel >= 0) profile[r.kernel] += performance.now() - t0
      }
      return collect(m, inputs, ext)
    } finally {
      for (let e = 0; e < nExternal; e++) views[e] = none
      for (const [i] of m.perRun) views[i] = none
      for (const r of runners) r.args.fill(none), r.dsts.fill(none)
    }
  }

  /** the output handles: staged results copied out, every non-external output adopted */
  const collect = (m: Materialized, inputs: readonly CpuHandle[], ext: (e: number) => CpuHandle): CpuHandle[] => {
    const { donor } = m
    const out: CpuHandle[] = []
    outIdx.forEach((i, k) => {
      let h = firstOut[k] < k ? out[firstOut[k]] : undefined
      if (h === undefined) {
        const src = donor.get(i)
        if (i < nExternal) h = ext(i)
        else if (src !== undefined) {
          h = inputs[src]
          if (staged[src]) (h as TypedArray).set(m.views[i])
        } else if (resident) h = m.views[i]
        else {
          const a = avalOf.get(i)!
          h = mem.handle(a.dtype, a.size)
          h.set(m.views[i])
        }
      }
      // a repeated output is the same handle: adopted (counted, and disposed) once
      if (i >= nExternal && firstOut[k] === k) mem.adopt(h)
      out.push(h)
    })
    return out
  }

  const { kernels, fused, buffers, workspaceBytes } = planStats(program, steps)
  let info: KernelInfo[] | undefined
  const wasmSteps = lowered.filter((l) => l.wasm).length
  const js = lowered.filter((l) => !l.wasm && l.step.kind !== 'alias').map((l) => l.step.eqs.map((e) => e.prim).join('+'))
  const foldedCount = folded.transposed.size
  /** frees every plan's pooled, staging and output-staging blocks, so later programs reuse the memory */
  const dispose = () => {
    for (const m of plans.all()) {
      for (const b of m.pools) heap.freeBlock(b)
      for (const b of m.stage) if (b !== null) heap.freeBlock(b)
      for (const b of m.outStage.values()) heap.freeBlock(b)
    }
    plans.clear()
  }

  return {
    run,
    kernels,
    fused,
    buffers,
    workspaceBytes,
    dispose,
    // made when a profile first asks
    get kernelInfo() {
      return (info ??= lowered.filter((l) => l.step.kind !== 'alias').map((l) => kernelInfoOf(l.step, l.wasm ? 'wasm' : 'js', transposeNote(folded.transposed.get(l.step)))))
    },
    describe:
      `cpu/wasm-simd: ${program.equations.length} equations -> ${kernels} kernels (${fused} fused${foldedCount ? `, ${foldedCount} matmuls with folded transposes` : ''}), ` +
      `${wasmSteps} in wasm, ${js.length} on JS${js.length ? ` [${js.join(', ')}]` : ''}, ${buffers} buffers planned, ` +
      `${resident ? 'handles resident in shared wasm memory' : 'inputs and outputs copied'}, ${mem.pool.size} thread${mem.pool.size > 1 ? 's' : ''}`,
  }
}
