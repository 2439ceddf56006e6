/**
 * gather and scatterAdd as wasm loops, with the JS kernels' view of the data
 * as `[before, n, after]` around the indexed axis (`cpu/indexing.ts`): rows
 * of `after` elements move by index, one element at a time (the rows of
 * FRUGAL's RandK coordinates are single elements, so there is nothing to
 * vectorise). An index outside [0, n) traps before anything is written
 * through it; the kernel then runs the JS kernel's check, which throws the
 * CoreError naming the index and its position.
 * @internal
 */
import type { DType } from '../../DType'
import type { Aval, PrimitiveParams } from '../../Primitive'
import * as S from '../../Shape'
import { checkIndices } from '../cpu/indexing'
import { Code, O } from './emit'
import type { AddrKernel } from './fused'
import { theHeap } from './heap'
import type { Kernels } from './runtime'
import { instantiate } from './runtime'

const UNREACHABLE = 0x00

/** Traps unless the i32 local `j` is in [0, n) (one unsigned compare). */
const checked = (c: Code, j: number, n: number) => c.get(j).get(n).op(O.i32GeU).if(() => c.op(UNREACHABLE))

/** Loads the element at the address on the stack (`w` bytes, as i32, or f32 to add). */
const load = (c: Code, w: number, float: boolean) => c.mem(w === 1 ? O.i32Load8U : float ? O.f32Load : O.i32Load, w === 1 ? 0 : 2)
const store = (c: Code, w: number, float: boolean) => c.mem(w === 1 ? O.i32Store8 : float ? O.f32Store : O.i32Store, w === 1 ? 0 : 2)

/** gather(out, src, ix, before, n, k, after): out[a, i, :] = src[a, ix[i], :], elements of `w` bytes. */
const gatherCode = (w: number): Code => {
  const c = new Code(['i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32'])
  const [out, src, ix, before, n, k, after] = [0, 1, 2, 3, 4, 5, 6]
  const [a, i, j, from, t, row, base, end] = Array.from({ length: 8 }, () => c.local('i32'))
  c.get(after).i32(w).op(O.i32Mul).set(row) // bytes per row
  c.get(k).i32(4).op(O.i32Mul).set(end) // bytes of indices
  c.i32(0).set(a)
  c.forUp(a, before, 1, () => {
    c.get(src).get(a).get(n).op(O.i32Mul).get(row).op(O.i32Mul).op(O.i32Add).set(base)
    c.i32(0).set(i)
    c.forUp(i, end, 4, () => {
      c.get(ix).get(i).op(O.i32Add).mem(O.i32Load, 2).set(j)
      checked(c, j, n)
      c.get(base).get(j).get(row).op(O.i32Mul).op(O.i32Add).set(from)
      c.i32(0).set(t)
      c.forUp(t, row, w, () => {
        c.get(out).get(t).op(O.i32Add)
        c.get(from).get(t).op(O.i32Add)
        load(c, w, false)
        store(c, w, false)
      })
      c.get(out).get(row).op(O.i32Add).set(out)
    })
  })
  return c
}

/**
 * scatterAdd(out, ix, src, before, n, k, after): out = zeros, then
 * out[a, ix[i], :] += src[a, i, :] (float32 adds, int32 adds, bool ors).
 */
const scatterCode = (dtype: DType): Code => {
  const w = dtype === 'bool' ? 1 : 4
  const float = dtype === 'float32'
  const c = new Code(['i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32'])
  const [out, ix, src, before, n, k, after] = [0, 1, 2, 3, 4, 5, 6]
  const [a, i, j, to, t, row, base, end, total] = Array.from({ length: 9 }, () => c.local('i32'))
  c.get(after).i32(w).op(O.i32Mul).set(row)
  c.get(k).i32(4).op(O.i32Mul).set(end)
  // every index is checked before anything is written
  c.i32(0).set(i)
  c.forUp(i, end, 4, () => {
    c.get(ix).get(i).op(O.i32Add).mem(O.i32Load, 2).set(j)
    checked(c, j, n)
  })
  c.get(before).get(n).op(O.i32Mul).get(row).op(O.i32Mul).set(total)
  c.get(out).i32(0).get(total).op(0xfc, 0x0b, 0x00) // memory.fill out, 0, total
  c.i32(0).set(a)
  c.forUp(a, before, 1, () => {
    c.get(out).get(a).get(n).op(O.i32Mul).get(row).op(O.i32Mul).op(O.i32Add).set(base)
    c.i32(0).set(i)
    c.forUp(i, end, 4, () => {
      c.get(base).get(ix).get(i).op(O.i32Add).mem(O.i32Load, 2).get(row).op(O.i32Mul).op(O.i32Add).set(to)
      c.i32(0).set(t)
      c.forUp(t, row, w, () => {
        c.get(to).get(t).op(O.i32Add)
        c.get(to).get(t).op(O.i32Add)
        load(c, w, float)
        c.get(src).get(t).op(O.i32Add)
        load(c, w, float)
        c.op(float ? O.f32Add : w === 1 ? O.i32Or : O.i32Add)
        store(c, w, float)
      })
      c.get(src).get(row).op(O.i32Add).set(src)
    })
  })
  return c
}

const modules = new Map<string, Kernels>()
const moduleOf = (key: string, code: () => Code): Kernels => {
  let m = modules.get(key)
  if (!m) {
    m = instantiate([{ name: 'run', code: code() }])
    modules.set(key, m)
  }
  return m
}

/** On a trap, the JS check says which index was out of range; anything else is rethrown. */
const explained = (op: string, run: () => void, ixAddr: number, k: number, n: number, axis: number): void => {
  try {
    run()
  } catch (e) {
    if (!(e instanceof WebAssembly.RuntimeError)) throw e
    checkIndices(op, theHeap().view('int32', ixAddr, k) as Int32Array, k, n, axis)
    throw e
  }
}

/** The gather kernel, called with the addresses [out, x, indices]. */
export const lowerGather = (avals: readonly Aval[], p: PrimitiveParams['gather']): AddrKernel => {
  const [x, idx] = avals
  const w = x.dtype === 'bool' ? 1 : 4
  const f = moduleOf(`gather${w}`, () => gatherCode(w)).exports.run
  const n = x.shape[p.axis]
  const before = S.size(x.shape.slice(0, p.axis))
  const after = S.size(x.shape.slice(p.axis + 1))
  const k = S.size(idx.shape)
  return ([out, src, ix]) => explained('gather', () => f(out, src, ix, before, n, k, after), ix, k, n, p.axis)
}

/** The scatterAdd kernel, called with the addresses [out, indices, updates]. */
export const lowerScatterAdd = (avals: readonly Aval[], p: PrimitiveParams['scatterAdd'], out: Aval): AddrKernel => {
  const [idx, u] = avals
  const f = moduleOf(`scatter${out.dtype}`, () => scatterCode(out.dtype)).exports.run
  const k = S.size(idx.shape)
  const before = S.size(u.shape.slice(0, p.axis))
  const after = S.size(u.shape.slice(p.axis + idx.shape.length))
  return ([o, ix, src]) => explained('scatterAdd', () => f(o, ix, src, before, p.size, k, after), ix, k, p.size, p.axis)
}
