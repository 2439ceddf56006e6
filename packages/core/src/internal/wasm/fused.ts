/**
 * Elementwise steps (one primitive, or a fused chain from `cpu/fuse.ts`) as
 * one SIMD loop nest: the output shape's axes are coalesced as in the JS
 * loops, the innermost axis runs four lanes at a time with a one-lane tail,
 * each input is read contiguously or, when broadcast along the innermost
 * axis (a scalar, a column vector), splatted once per row. Every
 * intermediate of the chain stays in registers; the group's needed results
 * are stored. Modules are generated once per body and loop pattern (dims and
 * strides are arguments) and cached. Long loops are split by their outermost
 * axis across the worker threads. Without `exact`, a division by a broadcast
 * scalar becomes a multiplication by its reciprocal, computed once per row
 * (within an ulp or two of the quotient; divisions are the slow part of an
 * Adam update).
 * @internal
 */
import type { DType } from '../../DType'
import type { Equation, Var } from '../../Program'
import * as S from '../../Shape'
import { exprKey } from '../cpu/elementwise'
import { broadcastStrides, coalesce } from '../cpu/loops'
import type { Code as CodeT } from './emit'
import { Code, O, V } from './emit'
import { emitLoad, emitOp, emitStore, shiftOf, unsupportedOp } from './ops'
import type { Kernels } from './runtime'
import { instantiate } from './runtime'
import type { Pool } from './threads'
import { shareRanges, sharesOf } from './threads'

/** A lowered kernel: called with the byte address of each operand (outputs first, then inputs). */
export type AddrKernel = (addrs: readonly number[]) => void

type Kind = 'c' | 'b'

/** vectors per iteration of the main loop (2 measured best here; 1 and 4 within noise of it) */
const UNROLL = 2

/** The module function: params are the operands' addresses, the dims, then each operand's outer strides in bytes. */
const generate = (eqs: readonly Equation[], inputs: readonly Var[], outs: readonly Var[], d: number, kinds: readonly Kind[], exact: boolean): CodeT => {
  const nOut = outs.length
  const ops = nOut + inputs.length
  const dtypeOf = (k: number): DType => (k < nOut ? outs[k] : inputs[k - nOut]).aval.dtype
  const params = [...Array(ops + d + ops * (d - 1))].map(() => 'i32' as const)
  const c = new Code(params)
  const dim = (l: number) => ops + l
  const stride = (k: number, l: number) => ops + d + k * (d - 1) + l

  const inner = (ptr: readonly number[]) => {
    const n = dim(d - 1)
    const regs = new Map<number, number>() // var id -> v128 local
    const splats = new Map<number, number>()
    const recips = new Map<number, number>() // var id of a splat divisor -> its reciprocal (inexact mode)
    inputs.forEach((v, j) => {
      if (kinds[nOut + j] !== 'b') return
      const r = c.local('v128')
      c.get(ptr[nOut + j])
      emitLoad(c, v.aval.dtype, false, true)
      c.set(r)
      splats.set(j, r)
      if (!exact && eqs.some((e) => e.prim === 'div' && e.inputs[1].id === v.id)) {
        const q = c.local('v128')
        c.f32x4(1).get(r).v(V.f32x4Div).set(q)
        recips.set(v.id, q)
      }
    })
    const i = c.local('i32')
    const j4 = c.local('i32')
    const addr = (k: number) => c.get(ptr[k]).get(shiftOf[dtypeOf(k)] === 2 ? j4 : i).op(O.i32Add)
    /** one vector (or, with `one`, one element) at element i + `lane` */
    const body = (one: boolean, lane = 0) => {
      if (lane === 0) c.get(i).i32(2).op(O.i32Shl).set(j4)
      const at = (k: number) => lane << shiftOf[dtypeOf(k)]
      // every operand is loaded before any result is stored: an output may take a dying input's buffer
      inputs.forEach((v, j) => {
        const s = splats.get(j)
        if (s !== undefined) return regs.set(v.id, s)
        const r = c.local('v128')
        addr(nOut + j)
        emitLoad(c, v.aval.dtype, one, false, at(nOut + j))
        c.set(r)
        regs.set(v.id, r)
      })
      for (const e of eqs) {
        const r = c.local('v128')
        const ins = e.inputs.map((v) => v.aval.dtype)
        const q = e.prim === 'div' ? recips.get(e.inputs[1].id) : undefined
        if (q !== undefined) c.get(regs.get(e.inputs[0].id)!).get(q).v(V.f32x4Mul)
        else emitOp(c, e.prim, e.params, ins, e.out.aval.dtype, e.inputs.map((v) => regs.get(v.id)!))
        c.set(r)
        regs.set(e.out.id, r)
      }
      outs.forEach((v, k) => {
        addr(k)
        emitStore(c, v.aval.dtype, one, regs.get(v.id)!, at(k))
      })
    }
    c.i32(0).set(i)
    c.forUp(i, n, 4 * UNROLL, () => {
      for (let u = 0; u < UNROLL; u++) body(false, 4 * u)
    })
    c.forUp(i, n, 4, () => body(false))
    c.forUp(i, n, 1, () => body(true))
  }

  const level = (l: number, ptr: readonly number[]) => {
    if (l === d - 1) return inner(ptr)
    const cnt = c.local('i32')
    const q = ptr.map(() => c.local('i32'))
    c.i32(0).set(cnt)
    c.block(() =>
      c.loop(() => {
        c.get(cnt).get(dim(l)).op(O.i32GeS).brIf(1)
        q.forEach((x, k) => c.get(ptr[k]).set(x))
        level(l + 1, q)
        ptr.forEach((x, k) => c.get(x).get(stride(k, l)).op(O.i32Add).set(x))
        c.addTo(cnt, 1).br(0)
      }),
    )
  }
  level(0, [...Array(ops).keys()])
  return c
}

const kernels = new Map<string, Kernels>()

/** The number of distinct elementwise modules generated so far. */
export const generatedModules = (): number => kernels.size

/** Why an elementwise step cannot be lowered, or undefined. */
export const unsupportedFused = (eqs: readonly Equation[]): string | undefined => {
  for (const e of eqs) {
    const why = unsupportedOp(e.prim, e.inputs.map((v) => v.aval.dtype))
    if (why) return why
  }
  return undefined
}

/**
 * Lowers an elementwise step writing `outs` (all of the root's shape) from
 * `inputs` (broadcast to it). Returns the kernel, or the reason it cannot.
 */
export const lowerFused = (eqs: readonly Equation[], inputs: readonly Var[], outs: readonly Var[], pool: Pool = serial, exact = true): AddrKernel | string => {
  const why = unsupportedFused(eqs)
  if (why) return why
  const shape = outs[outs.length - 1].aval.shape
  if (shape.some((n) => n === 0)) return () => {}
  const operands = [...outs.map((v) => broadcastStrides(v.aval.shape, shape)), ...inputs.map((v) => broadcastStrides(v.aval.shape, shape))]
  return loopNest(eqs, inputs, outs, shape, operands, pool, exact)
}

/**
 * A strided copy as a SIMD loop: `out` (its elements at `outStrides`, in
 * elements, over `shape`) from `x` (at `inStrides`): a transpose that keeps
 * the last axis, a slice, the interior of a pad, one input of a concat. The
 * kernel is called with the addresses of the first element of each.
 * @example lowerCopy(x, out, [8, 4, 64, 16], [4096, 16, 64, 1], [4096, 1024, 16, 1]) // [8,64,4,16] → [8,4,64,16]
 */
export const lowerCopy = (
  x: Var,
  out: Var,
  shape: readonly number[],
  inStrides: readonly number[],
  outStrides: readonly number[],
  pool: Pool = serial,
): AddrKernel | string => {
  if (shape.some((n) => n === 0)) return () => {}
  const copy = { prim: 'cast', params: { dtype: out.aval.dtype }, inputs: [x], out } as Equation
  const why = unsupportedFused([copy])
  if (why) return why
  return loopNest([copy], [x], [out], shape, [outStrides, inStrides], pool, true)
}

/** The loop nest over `shape` of `eqs`, each operand (outputs, then inputs) at its element strides. */
const loopNest = (
  eqs: readonly Equation[],
  inputs: readonly Var[],
  outs: readonly Var[],
  shape: readonly number[],
  operands: readonly (readonly number[])[],
  pool: Pool,
  exact: boolean,
): AddrKernel | string => {
  const { dims, strides } = coalesce(shape, operands)
  const d = dims.length
  const kinds: Kind[] = []
  for (const s of strides) {
    const inner = s[d - 1]
    if (inner !== 0 && inner !== 1) return 'an operand is strided along the innermost axis'
    kinds.push(inner === 1 ? 'c' : 'b')
  }
  const wiring = new Map<number, string>(inputs.map((v, j) => [v.id, `a${j}`]))
  const body = eqs.map((e, m) => {
    wiring.set(e.out.id, `t${m}`)
    return `${exprKey(e.prim, e.params, e.inputs.map((v) => v.aval.dtype), e.out.aval.dtype)}(${e.inputs.map((v) => wiring.get(v.id)).join(',')})`
  })
  const key = `${exact ? '' : '~'}${inputs.map((v) => v.aval.dtype).join(',')}|${body.join(';')}|${outs.map((v) => `${wiring.get(v.id)}:${v.aval.dtype}`).join(',')}|${d}${kinds.join('')}`
  let k = kernels.get(key)
  if (k === undefined) {
    k = instantiate([{ name: 'run', code: generate(eqs, inputs, outs, d, kinds, exact) }])
    kernels.set(key, k)
  }
  const f = k.exports.run
  const bytesOf = (j: number) => 1 << shiftOf[(j < outs.length ? outs[j] : inputs[j - outs.length]).aval.dtype]
  const ops = operands.length
  const args: number[] = [...operands.map(() => 0), ...dims]
  strides.forEach((s, j) => {
    for (let l = 0; l < d - 1; l++) args.push(s[l] * bytesOf(j))
  })
  // threads split the outermost loop; each share starts at a multiple of 16 elements of it. A chain
  // with a transcendental (tens of instructions per vector) pays for a share of a quarter of the elements
  const total = S.size(shape)
  const least = parallelMin(pool) / (eqs.some((e) => TRANSCENDENTAL.has(e.prim)) ? 4 : 1)
  const parts = Math.min(pool.size, Math.floor(total / least), d === 1 ? Math.floor(dims[0] / 16) : dims[0])
  if (parts <= 1)
    return (addrs) => {
      for (let j = 0; j < addrs.length; j++) args[j] = addrs[j]
      f(...args)
    }
  const shares = shareRanges(dims[0], parts, d === 1 ? 16 : 1)
  const shareArgs = shares.map(() => [...args])
  const step0 = strides.map((s, j) => s[0] * bytesOf(j))
  const run = sharesOf(pool, k, 'run')
  return (addrs) => {
    shares.forEach((sh, t) => {
      for (let j = 0; j < ops; j++) shareArgs[t][j] = addrs[j] + sh.start * step0[j]
      shareArgs[t][ops] = sh.count
    })
    run(shareArgs)
  }
}

/**
 * Elements a share of a parallel elementwise loop (or reduction) gets at least. Measured on 2
 * cores by bench/thread-split.ts, with reductions split alike: from 2¹⁵ elements a plain chain
 * ran 1.41× one thread's speed, a chain with exp from 2¹³ 1.61× (results/thread-split); with
 * both a quarter of this, 2¹³-element plain chains ran 0.63–0.78×. That is with Node's workers, which
 * poll a shared slot; browser workers get each share by message, and keep the 4× larger shares
 * these loops split at before that measurement.
 */
const PARALLEL_MIN = 1 << 14

/** Elements a share of a parallel elementwise loop (or reduction) on `pool` gets at least. */
export const parallelMin = (pool: Pool): number => (pool.byMessage ? 4 * PARALLEL_MIN : PARALLEL_MIN)

/** primitives computed by a polynomial of tens of instructions per vector (`math.ts`) */
const TRANSCENDENTAL = new Set(['exp', 'log', 'tanh', 'sin', 'cos', 'pow'])

const serial: Pool = { size: 1, reason: '', run: (here) => here(), jobs: 0, byMessage: false }
