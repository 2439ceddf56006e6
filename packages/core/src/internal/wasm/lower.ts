/**
 * Lowering the cpu backend's scheduled steps to wasm kernels: elementwise
 * steps and fused chains to SIMD loops, matmul to the packed GEMM (a
 * `transpose` of the last two axes feeding a matmul is folded into the
 * Aᵀ·B / A·Bᵀ variants and dropped when nothing else reads it), reductions
 * to SIMD row and column sums, broadcasts and reshapes that must copy to
 * SIMD copy loops, transposes that keep the last axis, slices, pads and
 * concats to strided SIMD copies, gather and scatterAdd to index loops. A step that cannot be lowered keeps its JS kernel, with
 * the reason.
 * @internal
 */
import { byteSize } from '../../DType'
import type { Aval, PrimitiveParams } from '../../Primitive'
import type { Equation, Program, Var } from '../../Program'
import * as S from '../../Shape'
import type { Step } from '../cpu/fuse'
import { broadcastStrides } from '../cpu/loops'
import type { AddrKernel } from './fused'
import { lowerCopy, lowerFused } from './fused'
import type { Block } from './heap'
import { theHeap } from './heap'
import { gemm, gemmBatch } from './matmul'
import { lowerGather, lowerScatterAdd } from './indexing'
import { lowerReduce } from './reduce'
import type { Pool } from './threads'

/** A step with its wasm kernel (called with the addresses of its outputs, then its inputs), or the reason it has none. */
export interface LoweredStep {
  readonly step: Step
  readonly wasm?: AddrKernel
  readonly why?: string
}

/** perm swaps the last two axes and keeps the others */
const isMatrixTranspose = (e: Equation): boolean => {
  if (e.prim !== 'transpose') return false
  const perm = (e.params as { perm: readonly number[] }).perm
  const r = perm.length
  return r >= 2 && perm.every((p, i) => (i < r - 2 ? p === i : p === (i === r - 2 ? r - 1 : r - 2)))
}

/** Matmul steps annotated with which operands are read transposed (by step index). */
export type Transposed = ReadonlyMap<number, readonly [boolean, boolean]>

/**
 * Folds matrix transposes into the matmuls reading them: the matmul step reads
 * the transpose's input instead, and a transpose no other step or output
 * reads is dropped. Returns the new steps and each matmul's transpose flags.
 */
export const foldTransposes = (program: Program, given: readonly Step[]): { steps: Step[]; transposed: Map<Step, readonly [boolean, boolean]> } => {
  const steps = composeTransposes(program, given)
  const byOut = new Map<number, Step>()
  for (const s of steps) if (s.kind === 'kernel' && isMatrixTranspose(s.eqs[0])) byOut.set(s.outs[0].id, s)
  const transposed = new Map<Step, readonly [boolean, boolean]>()
  let out: Step[] = steps.map((s) => {
    if (s.kind !== 'kernel' || s.eqs[0].prim !== 'matmul') return s
    const src = s.inputs.map((v) => byOut.get(v.id))
    if (!src[0] && !src[1]) return s
    const inputs = s.inputs.map((v, i) => src[i]?.inputs[0] ?? v)
    const folded: Step = { ...s, inputs }
    transposed.set(folded, [src[0] !== undefined, src[1] !== undefined])
    return folded
  })
  const read = new Set(program.outputs.map((v) => v.id))
  for (const s of out) for (const v of s.inputs) read.add(v.id)
  out = out.filter((s) => !byOut.has(s.outs[0].id) || read.has(s.outs[0].id))
  return foldTransposedResults(program, out, transposed)
}

/**
 * A transpose of a transpose's result that moves the last axis reads the
 * first one's input instead, with the composed permutation, when that keeps
 * the last axis (backward passes transpose cotangents back): a SIMD copy
 * instead of a JS kernel, or no work at all when they cancel. The first is
 * dropped when nothing else reads it. Runs before matmuls fold transposes.
 */
const composeTransposes = (program: Program, steps: readonly Step[]): Step[] => {
  const byOut = new Map<number, Step>()
  for (const s of steps) if (s.kind === 'kernel' && s.eqs[0].prim === 'transpose') byOut.set(s.outs[0].id, s)
  let changed = false
  const out = steps.map((t) => {
    const u = t.kind === 'kernel' && t.eqs[0].prim === 'transpose' ? byOut.get(t.inputs[0].id) : undefined
    if (!u) return t
    const p = (u.eqs[0].params as PrimitiveParams['transpose']).perm
    const q = (t.eqs[0].params as PrimitiveParams['transpose']).perm
    const r = q.map((i) => p[i])
    // only where it turns a JS transpose (of the last axis) into a SIMD copy (one that keeps it)
    const last = q.length - 1
    if (q[last] === last || r[last] !== last) return t
    changed = true
    const x = u.inputs[0]
    const e: Equation = { ...t.eqs[0], inputs: [x], params: { perm: r } }
    // a transpose back (kᵀ's transpose in the backward pass of q·kᵀ) is the input itself: an alias, no work
    if (r.every((a, i) => a === i)) return { kind: 'alias', eqs: [e], inputs: [x], outs: t.outs, inPlace: false } satisfies Step
    return { ...t, eqs: [e], inputs: [x], run: undefined }
  })
  if (!changed) return out
  const read = new Set(program.outputs.map((v) => v.id))
  for (const s of out) for (const v of s.inputs) read.add(v.id)
  return out.filter((s) => !byOut.has(s.outs[0].id) || read.has(s.outs[0].id))
}

/**
 * The other side: a matrix transpose whose only input is a matmul's result
 * that nothing else reads (backward passes: the cotangent of kᵀ in q·kᵀ)
 * becomes the matmul itself computing the transposed result,
 * (op(A)·op(B))ᵀ = op(B)ᵀ·op(A)ᵀ — the operands swapped and their transpose
 * flags flipped — and the transpose is dropped.
 */
const foldTransposedResults = (
  program: Program,
  steps: readonly Step[],
  transposed: Map<Step, readonly [boolean, boolean]>,
): { steps: Step[]; transposed: Map<Step, readonly [boolean, boolean]> } => {
  const reads = new Map<number, number>()
  for (const v of program.outputs) reads.set(v.id, (reads.get(v.id) ?? 0) + 2)
  for (const s of steps) for (const v of s.inputs) reads.set(v.id, (reads.get(v.id) ?? 0) + 1)
  const matmulOf = new Map<number, Step>()
  for (const s of steps) if (s.kind === 'kernel' && s.eqs[0].prim === 'matmul' && s.inputs.length === 2) matmulOf.set(s.outs[0].id, s)
  const replaced = new Map<Step, Step>()
  const dropped = new Set<Step>()
  for (const t of steps) {
    if (t.kind !== 'kernel' || !isMatrixTranspose(t.eqs[0])) continue
    const m = matmulOf.get(t.inputs[0].id)
    if (!m || replaced.has(m) || reads.get(m.outs[0].id) !== 1) continue
    const [ta, tb] = transposed.get(m) ?? [false, false]
    const e = m.eqs[0]
    const out = t.outs[0]
    const swapped: Step = { kind: 'kernel', eqs: [{ ...e, inputs: [m.inputs[1], m.inputs[0]], out }], inputs: [m.inputs[1], m.inputs[0]], outs: [out], inPlace: false }
    transposed.delete(m)
    transposed.set(swapped, [!tb, !ta])
    replaced.set(m, swapped)
    dropped.add(t)
  }
  if (dropped.size === 0) return { steps: [...steps], transposed }
  return { steps: steps.filter((s) => !dropped.has(s)).map((s) => replaced.get(s) ?? s), transposed }
}

/**
 * The batched matmul kernel for operands `a`, `b` (as stored: with `ta`/`tb`
 * their last two axes are read transposed) and result `out`: called with
 * the addresses [out, a, b].
 */
export const lowerMatmul = (a: Aval, bv: Aval, outAval: Aval, ta: boolean, tb: boolean, pool: Pool): AddrKernel => {
  const out = outAval.shape
  const r = out.length
  const [m, n] = [out[r - 2], out[r - 1]]
  const aShape = a.shape
  const k = aShape[aShape.length - (ta ? 2 : 1)]
  const batch = out.slice(0, -2)
  const nb = S.size(batch)
  const aStr = broadcastStrides(aShape.slice(0, -2), batch).map((s) => s * m * k * 4)
  const bStr = broadcastStrides(bv.shape.slice(0, -2), batch).map((s) => s * k * n * 4)
  if (nb === 0 || m === 0 || n === 0) return () => {}
  const foldable = !ta && bStr.every((s) => s === 0) && S.size(aShape.slice(0, -2)) === nb
  if (foldable) return ([c, a, b]) => gemm(a, b, c, nb * m, k, n, false, tb, pool)
  // batch axes that step each operand evenly (whole or broadcast along all of them): one batched call
  const even = (str: readonly number[]) => str.every((s, i) => i === str.length - 1 || s === str[i + 1] * batch[i + 1])
  if (even(aStr) && even(bStr)) {
    const [aStep, bStep] = [aStr.at(-1) ?? 0, bStr.at(-1) ?? 0]
    return ([c, a, b]) => gemmBatch(a, b, c, nb, aStep, bStep, m * n * 4, m, k, n, ta, tb, pool)
  }
  const idx = new Array<number>(batch.length).fill(0)
  return ([c, a0, b0]) => {
    idx.fill(0)
    let a = a0
    let b = b0
    for (let t = 0; t < nb; t++) {
      gemm(a, b, c + t * m * n * 4, m, k, n, ta, tb, pool)
      for (let i = batch.length - 1; i >= 0; i--) {
        a += aStr[i]
        b += bStr[i]
        if (++idx[i] < batch[i]) break
        a -= aStr[i] * batch[i]
        b -= bStr[i] * batch[i]
        idx[i] = 0
      }
    }
  }
}

let zeros: Block | undefined
/** 16 zero bytes in wasm memory (never written): the source of fills */
const zeroBlock = (): Block => {
  if (!zeros) {
    zeros = theHeap().block(16)
    new Uint8Array(theHeap().memory.buffer, zeros.off, 16).fill(0) // a reused block holds old bytes
  }
  return zeros
}

/** the element offset of index `at` under `strides` */
const offsetOf = (at: readonly number[], strides: readonly number[]): number => at.reduce((o, a, i) => o + a * strides[i], 0)

/**
 * Data movement as strided SIMD copies: a transpose that keeps the last axis
 * (attention's head split and merge), a slice, a zero pad (the output is
 * zeroed, then the input copied into its interior) and a concat (one copy per
 * input). Called with the addresses [out, ...inputs]; the reason when the
 * innermost axis would be strided (a transpose of the last axis keeps its JS kernel).
 */
const lowerMovement = (e: Equation, pool: Pool): AddrKernel | string => {
  const out = e.out
  const bytes = byteSize[out.aval.dtype]
  const oSt = S.strides(out.aval.shape)
  switch (e.prim) {
    case 'transpose': {
      const { perm } = e.params as PrimitiveParams['transpose']
      if (perm[perm.length - 1] !== perm.length - 1) return 'a transpose of the last axis runs its JS kernel'
      const xSt = S.strides(e.inputs[0].aval.shape)
      return lowerCopy(e.inputs[0], out, out.aval.shape, perm.map((p) => xSt[p]), oSt, pool)
    }
    case 'slice': {
      const { start, size } = e.params as PrimitiveParams['slice']
      const xSt = S.strides(e.inputs[0].aval.shape)
      const k = lowerCopy(e.inputs[0], out, size, xSt, oSt, pool)
      if (typeof k === 'string') return k
      const from = offsetOf(start, xSt) * bytes
      const addrs = [0, 0]
      return ([o, x]) => ((addrs[0] = o), (addrs[1] = x + from), k(addrs))
    }
    case 'pad': {
      const { lo } = e.params as PrimitiveParams['pad']
      const x = e.inputs[0]
      const k = lowerCopy(x, out, x.aval.shape, S.strides(x.aval.shape), oSt, pool)
      if (typeof k === 'string') return k
      // the zeros are a SIMD copy of a zero scalar read broadcast (a JS fill of shared memory goes byte by byte: 7× slower)
      const zero: Var = { id: -1, aval: { shape: [], dtype: out.aval.dtype } }
      const fill = lowerCopy(zero, out, out.aval.shape, out.aval.shape.map(() => 0), oSt, pool)
      if (typeof fill === 'string') return fill
      const to = offsetOf(lo, oSt) * bytes
      const addrs = [0, 0]
      return ([o, xa]) => {
        ;(addrs[0] = o), (addrs[1] = zeroBlock().off), fill(addrs)
        ;(addrs[0] = o + to), (addrs[1] = xa), k(addrs)
      }
    }
    case 'concat': {
      const { axis } = e.params as PrimitiveParams['concat']
      let at = 0
      const parts: { k: AddrKernel; to: number }[] = []
      for (const x of e.inputs) {
        const k = lowerCopy(x, out, x.aval.shape, S.strides(x.aval.shape), oSt, pool)
        if (typeof k === 'string') return k
        parts.push({ k, to: at * oSt[axis] * bytes })
        at += x.aval.shape[axis]
      }
      const addrs = [0, 0]
      return (a) => {
        for (let j = 0; j < parts.length; j++) (addrs[0] = a[0] + parts[j].to), (addrs[1] = a[1 + j]), parts[j].k(addrs)
      }
    }
    default:
      return `${e.prim} is not data movement`
  }
}

/**
 * Lowers one step (see the module comment); large matmuls and elementwise
 * loops use `pool`'s threads; without `exact`, fused divisions by scalars
 * become multiplications by reciprocals.
 */
export const lowerStep = (s: Step, flags: readonly [boolean, boolean] | undefined, pool: Pool, exact = true): LoweredStep => {
  if (s.kind === 'alias') return { step: s }
  if (s.kind === 'fused') {
    const k = lowerFused(s.eqs, s.inputs, s.outs, pool, exact)
    return typeof k === 'string' ? { step: s, why: k } : { step: s, wasm: k }
  }
  const e = s.eqs[0]
  switch (e.prim) {
    case 'matmul':
      return { step: s, wasm: lowerMatmul(s.inputs[0].aval, s.inputs[1].aval, e.out.aval, flags?.[0] ?? false, flags?.[1] ?? false, pool) }
    case 'gather':
      return { step: s, wasm: lowerGather(s.inputs.map((v) => v.aval), e.params as PrimitiveParams['gather']) }
    case 'scatterAdd':
      return { step: s, wasm: lowerScatterAdd(s.inputs.map((v) => v.aval), e.params as PrimitiveParams['scatterAdd'], e.out.aval) }
    case 'reduceSum':
    case 'reduceMax': {
      const k = lowerReduce(e, pool)
      return typeof k === 'string' ? { step: s, why: k } : { step: s, wasm: k }
    }
    case 'broadcast':
    case 'reshape': {
      // a copy loop: an identity cast from the input, read broadcast (or, for reshape, as the output's shape)
      const x = e.prim === 'reshape' ? { id: s.inputs[0].id, aval: e.out.aval } : s.inputs[0]
      const copy = { prim: 'cast', params: { dtype: e.out.aval.dtype }, inputs: [x], out: e.out } as Equation
      const k = lowerFused([copy], [x], [e.out], pool, exact)
      return typeof k === 'string' ? { step: s, why: k } : { step: s, wasm: k }
    }
    case 'transpose':
    case 'slice':
    case 'pad':
    case 'concat': {
      const k = lowerMovement(e, pool)
      // a copy whose innermost axis is strided (a column of a concat, a transpose of the last axis) keeps its JS kernel, as planned
      return typeof k === 'string' ? { step: s, why: k.endsWith('runs its JS kernel') ? k : `${e.prim} with a strided innermost axis runs its JS kernel` } : { step: s, wasm: k }
    }
    default: {
      if (!s.inPlace) return { step: s, why: `${e.prim} runs its JS kernel` }
      const k = lowerFused(s.eqs, s.inputs, s.outs, pool, exact)
      return typeof k === 'string' ? { step: s, why: k } : { step: s, wasm: k }
    }
  }
}
