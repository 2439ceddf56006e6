/**
 * reduceSum and reduceMax as SIMD loops, for the two layouts training
 * programs produce once axes are coalesced (size-1 axes dropped, neighbours
 * merged): over the last axis (`[outer, len]` → one value per row: losses,
 * softmax denominators) and over leading axes (`[outer, rows, cols]` →
 * column sums: bias gradients summed over the batch). float32 sums
 * accumulate in float64 lanes (f64x2) and round once, like the JS kernels;
 * int32 sums wrap; max propagates NaN. Other axis patterns keep the JS kernel.
 * @internal
 */
import type { Equation } from '../../Program'
import * as S from '../../Shape'
import { runs } from '../cpu/reduce'
import { Code, O, V } from './emit'
import type { AddrKernel } from './fused'
import { parallelMin } from './fused'
import type { Kernels } from './runtime'
import { instantiate } from './runtime'
import type { Pool } from './threads'
import { shareRanges, sharesOf } from './threads'

type Kind = 'sumF' | 'maxF' | 'sumI' | 'maxI'
type Layout = 'row' | 'col'

const i32s = (n: number) => [...Array(n)].map(() => 'i32' as const)

/** 32-bit lane ops: combine v128 (accumulator, value), the identity, and the tail load (zero-filled for sums, splat for max). */
const lane32: Record<Exclude<Kind, 'sumF'>, { op: number; init: (c: Code) => void; tail: number }> = {
  maxF: { op: V.f32x4Max, init: (c) => c.f32x4(-Infinity), tail: V.load32Splat },
  sumI: { op: V.i32x4Add, init: (c) => c.i32x4(0), tail: V.load32Zero },
  maxI: { op: V.i32x4MaxS, init: (c) => c.i32x4(-2147483648), tail: V.load32Splat },
}

/** acc (f64x2 locals a0, a1) += the four floats at the address on the stack (stored in local `p`) */
const addF64 = (c: Code, p: number, a0: number, a1: number) => {
  c.get(a0).get(p).vmem(V.load64Zero).v(V.f64x2PromoteLow).v(V.f64x2Add).set(a0)
  c.get(a1).get(p).vmem(V.load64Zero, 8).v(V.f64x2PromoteLow).v(V.f64x2Add).set(a1)
}

/** row layout: (x, out, rows, len) — out[o] = reduce(x[o, 0..len]) */
const rowCode = (kind: Kind): Code => {
  const c = new Code(i32s(4))
  const [x, out, rows, len] = [0, 1, 2, 3]
  const o = c.local('i32')
  const i = c.local('i32')
  const p = c.local('i32')
  const acc = [c.local('v128'), c.local('v128'), c.local('v128'), c.local('v128')]
  const s = c.local('f64')
  c.i32(0).set(o)
  c.forUp(o, rows, 1, () => {
    c.i32(0).set(i)
    if (kind === 'sumF') {
      for (const a of acc) c.f32(0).op(O.f64PromoteF32).v(V.f64x2Splat).set(a)
      c.forUp(i, len, 8, () => {
        c.get(x).get(i).i32(2).op(O.i32Shl).op(O.i32Add).set(p)
        addF64(c, p, acc[0], acc[1])
        c.get(p).i32(16).op(O.i32Add).set(p)
        addF64(c, p, acc[2], acc[3])
      })
      c.forUp(i, len, 4, () => {
        c.get(x).get(i).i32(2).op(O.i32Shl).op(O.i32Add).set(p)
        addF64(c, p, acc[0], acc[1])
      })
      c.get(acc[0]).get(acc[1]).v(V.f64x2Add).get(acc[2]).get(acc[3]).v(V.f64x2Add).v(V.f64x2Add).set(acc[0])
      c.get(acc[0]).lane(V.f64x2ExtractLane, 0).get(acc[0]).lane(V.f64x2ExtractLane, 1).op(O.f64Add).set(s)
      c.forUp(i, len, 1, () => {
        c.get(s).get(x).get(i).i32(2).op(O.i32Shl).op(O.i32Add).mem(O.f32Load, 2).op(O.f64PromoteF32).op(O.f64Add).set(s)
      })
      c.get(out).get(o).i32(2).op(O.i32Shl).op(O.i32Add).get(s).op(O.f32DemoteF64).mem(O.f32Store, 2)
    } else {
      const { op, init, tail } = lane32[kind]
      init(c)
      c.set(acc[0])
      c.get(acc[0]).set(acc[1])
      c.forUp(i, len, 8, () => {
        c.get(x).get(i).i32(2).op(O.i32Shl).op(O.i32Add).set(p)
        c.get(acc[0]).get(p).vmem(V.load).v(op).set(acc[0])
        c.get(acc[1]).get(p).vmem(V.load, 16).v(op).set(acc[1])
      })
      c.get(acc[0]).get(acc[1]).v(op).set(acc[0])
      c.forUp(i, len, 4, () => c.get(acc[0]).get(x).get(i).i32(2).op(O.i32Shl).op(O.i32Add).vmem(V.load).v(op).set(acc[0]))
      c.forUp(i, len, 1, () => c.get(acc[0]).get(x).get(i).i32(2).op(O.i32Shl).op(O.i32Add).vmem(tail).v(op).set(acc[0]))
      c.get(acc[0]).get(acc[0]).get(acc[0]).shuffle32([2, 3, 2, 3]).v(op).set(acc[0])
      c.get(acc[0]).get(acc[0]).get(acc[0]).shuffle32([1, 1, 1, 1]).v(op).set(acc[0])
      c.get(out).get(o).i32(2).op(O.i32Shl).op(O.i32Add).get(acc[0]).vlane(V.store32Lane, 0)
    }
    c.get(x).get(len).i32(2).op(O.i32Shl).op(O.i32Add).set(x)
  })
  return c
}

/** column layout: (x, out, outer, rows, cols) — out[o, j] = reduce(x[o, 0..rows, j]) */
const colCode = (kind: Kind): Code => {
  const c = new Code(i32s(5))
  const [x, out, outer, rows, cols] = [0, 1, 2, 3, 4]
  const o = c.local('i32')
  const j = c.local('i32')
  const r = c.local('i32')
  const p = c.local('i32')
  const q = c.local('i32')
  const a0 = c.local('v128')
  const a1 = c.local('v128')
  const s = c.local('f64')
  const rowBytes = c.local('i32')
  c.get(cols).i32(2).op(O.i32Shl).set(rowBytes)
  c.i32(0).set(o)
  c.forUp(o, outer, 1, () => {
    const column = (width: 4 | 1) => {
      // p walks down column j of block o; q is out[o, j]
      c.get(x).get(j).i32(2).op(O.i32Shl).op(O.i32Add).set(p)
      c.get(out).get(o).get(cols).op(O.i32Mul).get(j).op(O.i32Add).i32(2).op(O.i32Shl).op(O.i32Add).set(q)
      c.i32(0).set(r)
      if (kind === 'sumF' && width === 4) c.f32(0).op(O.f64PromoteF32).v(V.f64x2Splat).set(a0).get(a0).set(a1)
      else if (kind === 'sumF') c.f32(0).op(O.f64PromoteF32).set(s)
      else lane32[kind].init(c), c.set(a0)
      c.forUp(r, rows, 1, () => {
        if (kind === 'sumF' && width === 4) addF64(c, p, a0, a1)
        else if (kind === 'sumF') c.get(s).get(p).mem(O.f32Load, 2).op(O.f64PromoteF32).op(O.f64Add).set(s)
        else c.get(a0).get(p).vmem(width === 4 ? V.load : lane32[kind].tail).v(lane32[kind].op).set(a0)
        c.get(p).get(rowBytes).op(O.i32Add).set(p)
      })
      if (kind === 'sumF' && width === 4) {
        c.get(q).get(a0).v(V.f32x4DemoteF64x2Zero).vlane(V.store64Lane, 0)
        c.get(q).get(a1).v(V.f32x4DemoteF64x2Zero).vlane(V.store64Lane, 0, 8)
      } else if (kind === 'sumF') c.get(q).get(s).op(O.f32DemoteF64).mem(O.f32Store, 2)
      else if (width === 4) c.get(q).get(a0).vmem(V.store)
      else c.get(q).get(a0).vlane(V.store32Lane, 0)
    }
    c.i32(0).set(j)
    c.forUp(j, cols, 4, () => column(4))
    c.forUp(j, cols, 1, () => column(1))
    c.get(x).get(rows).get(rowBytes).op(O.i32Mul).op(O.i32Add).set(x)
  })
  return c
}

const modules = new Map<string, Kernels>()
const kernelFor = (kind: Kind, layout: Layout) => {
  const key = `${kind}${layout}`
  let k = modules.get(key)
  if (!k) {
    k = instantiate([{ name: 'run', code: layout === 'row' ? rowCode(kind) : colCode(kind) }])
    modules.set(key, k)
  }
  return k
}

/**
 * The kernel `run(x, out, groups, ...rest)` over `groups` independent groups (rows of the row
 * layout, blocks of the column layout; a group reads `inStep` bytes and writes `outStep`), split
 * by groups across `pool`'s threads from `parallelMin(pool)` elements of input a share, as elementwise
 * loops are: split alike, a softmax's max, exp and sum keep each row on the core that made it
 * (bench/thread-split.ts, 2 cores: z·y + mean(z) on [2048,64], its loops split and its means not,
 * ran 1.00× the speed of one thread; both split, 1.70×). Each group is reduced whole by one
 * thread, in the same order as on one thread, so the values are the same bit for bit.
 */
const splitByGroups = (k: Kernels, groups: number, rest: readonly number[], inStep: number, outStep: number, pool: Pool): AddrKernel => {
  const f = k.exports.run
  const elements = (groups * inStep) / 4
  const parts = Math.min(pool.size, Math.floor(elements / parallelMin(pool)), groups)
  if (parts <= 1) return ([o, a]) => f(a, o, groups, ...rest)
  const shares = shareRanges(groups, parts)
  const shareArgs = shares.map(() => [0, 0, 0, ...rest])
  const run = sharesOf(pool, k, 'run')
  return ([o, a]) => {
    shares.forEach((sh, t) => {
      const args = shareArgs[t]
      args[0] = a + sh.start * inStep
      args[1] = o + sh.start * outStep
      args[2] = sh.count
    })
    run(shareArgs)
  }
}

/** The reduction kernel (addresses [out, x]) on `pool`'s threads, or why it keeps the JS kernel. */
export const lowerReduce = (e: Equation, pool: Pool): AddrKernel | string => {
  const x = e.inputs[0].aval
  const axes = (e.params as { axes: readonly number[] }).axes
  if (S.size(x.shape) === 0) return 'an empty reduction runs its JS kernel'
  const kind = `${e.prim === 'reduceSum' ? 'sum' : 'max'}${x.dtype === 'int32' ? 'I' : 'F'}` as Kind
  const rs = runs(x.shape, axes)
  const pat = rs.map((r) => (r.reduced ? 'R' : 'K')).join('')
  const n = rs.map((r) => r.n)
  if (pat === 'R' || pat === 'KR') {
    const [rows, len] = pat === 'R' ? [1, n[0]] : [n[0], n[1]]
    return splitByGroups(kernelFor(kind, 'row'), rows, [len], len * 4, 4, pool)
  }
  if (pat === 'RK' || pat === 'KRK') {
    const [outer, rows, cols] = pat === 'RK' ? [1, n[0], n[1]] : [n[0], n[1], n[2]]
    return splitByGroups(kernelFor(kind, 'col'), outer, [rows, cols], rows * cols * 4, cols * 4, pool)
  }
  return `${e.prim} over axes [${axes.join(',')}] of ${S.show(x.shape)} (pattern ${pat || 'copy'}) runs its JS kernel`
}
