/**
 * The SIMD GEMM micro-architecture, generated as WebAssembly: packing
 * routines and a register-blocked macro-kernel (the GotoBLAS/BLIS scheme).
 *
 * - `packA(src, dst, mc, kc, rs, cs)`: an mc×kc block of A, element (i, p)
 *   at byte `src + i·rs + p·cs`, into panels of MR rows, p-major (MR floats
 *   per p), zero-padded. Strides make Aᵀ operands free: (rs, cs) = (4, 4m).
 * - `packB(src, dst, kc, nc, rs, cs)`: a kc×nc block of B into panels of NR
 *   columns (NR floats per p), zero-padded; contiguous rows copy as v128.
 * - `kernel(ap, bp, c, mc, nc, kc, ldc, acc, tmp)`: C[mc×nc] (row stride
 *   `ldc` bytes) = (acc ? C : 0) + packed A · packed B. Each MR×NR tile
 *   keeps MR·NR/4 f32x4 accumulators in registers through the kc loop (per
 *   p: NR/4 vector loads of B, MR splat-loads of A, MR·NR/4 mul+add, or
 *   fused multiply-adds where the engine has relaxed SIMD); edge
 *   tiles go through `tmp` (MR·NR floats).
 * @internal
 */
import type { Code as CodeT } from './emit'
import { Code, O, V } from './emit'
import { RELAXED_MADD } from './support'

/** Register tile: MR rows × NR columns (NR a multiple of 4). */
export interface Tile {
  readonly mr: number
  readonly nr: number
}

const i32s = (n: number) => [...Array(n)].map(() => 'i32' as const)

/**
 * Four vectors loaded from `addr(0..3)` (four floats each, along k), stored
 * transposed: the t-th result (lane i from vector i) at `dst + t·step + off`.
 * Packs four k-steps of a panel whose source runs along k (A row-major, Bᵀ).
 */
const transpose4 = (c: CodeT, addr: (i: number) => void, dst: number, step: number, off: number) => {
  const r = [0, 1, 2, 3].map(() => c.local('v128'))
  const t = [0, 1, 2, 3].map(() => c.local('v128'))
  r.forEach((x, i) => (addr(i), c.vmem(V.load).set(x)))
  c.get(r[0]).get(r[1]).shuffle32([0, 4, 1, 5]).set(t[0])
  c.get(r[0]).get(r[1]).shuffle32([2, 6, 3, 7]).set(t[1])
  c.get(r[2]).get(r[3]).shuffle32([0, 4, 1, 5]).set(t[2])
  c.get(r[2]).get(r[3]).shuffle32([2, 6, 3, 7]).set(t[3])
  const lanes = [[0, 1, 4, 5], [2, 3, 6, 7]]
  for (let k = 0; k < 4; k++) c.get(dst).get(t[k < 2 ? 0 : 1]).get(t[k < 2 ? 2 : 3]).shuffle32(lanes[k % 2]).vmem(V.store, k * step + off)
}

const packA = ({ mr }: Tile): CodeT => {
  const c = new Code(i32s(6)) // src dst mc kc rs cs
  const [src, dst, mc, kc, rs, cs] = [0, 1, 2, 3, 4, 5]
  const r0 = c.local('i32')
  const p = c.local('i32')
  const q = c.local('i32')
  const rows = c.local('i32')
  c.i32(0).set(r0)
  c.block(() =>
    c.loop(() => {
      c.get(r0).get(mc).op(O.i32GeS).brIf(1)
      c.get(mc).get(r0).op(O.i32Sub).set(rows)
      c.get(src).get(r0).get(rs).op(O.i32Mul).op(O.i32Add).set(q)
      c.i32(0).set(p)
      const scalar = () => {
        for (let ii = 0; ii < mr; ii++) {
          c.get(rows).i32(ii).op(O.i32GtS)
          c.if(
            () => c.get(dst).get(q).get(rs).i32(ii).op(O.i32Mul).op(O.i32Add).mem(O.f32Load, 2).mem(O.f32Store, 2, ii * 4),
            () => c.get(dst).f32(0).mem(O.f32Store, 2, ii * 4),
          )
        }
        c.addTo(dst, mr * 4)
        c.get(q).get(cs).op(O.i32Add).set(q)
        c.addTo(p, 1)
      }
      c.block(() =>
        c.loop(() => {
          c.get(p).get(kc).op(O.i32GeS).brIf(1)
          if (mr % 4 !== 0) {
            scalar()
            c.br(0)
            return
          }
          // a whole panel whose rows are contiguous along k (A row-major): four k-steps as 4×4 transposes
          c.get(rows).i32(mr).op(O.i32GeS).get(cs).i32(4).op(O.i32Eq).op(O.i32And).get(p).i32(4).op(O.i32Add).get(kc).op(O.i32LeS).op(O.i32And)
          c.if(
            () => {
              for (let g = 0; g < mr / 4; g++) transpose4(c, (i) => c.get(q).get(rs).i32(4 * g + i).op(O.i32Mul).op(O.i32Add), dst, mr * 4, g * 16)
              c.addTo(dst, 4 * mr * 4).addTo(q, 16).addTo(p, 4)
            },
            () => {
              // a whole panel contiguous along m (Aᵀ operands): one k-step is mr/4 vector copies
              c.get(rows).i32(mr).op(O.i32GeS).get(rs).i32(4).op(O.i32Eq).op(O.i32And)
              c.if(
                () => {
                  for (let g = 0; g < mr / 4; g++) c.get(dst).get(q).vmem(V.load, g * 16).vmem(V.store, g * 16)
                  c.addTo(dst, mr * 4)
                  c.get(q).get(cs).op(O.i32Add).set(q)
                  c.addTo(p, 1)
                },
                scalar,
              )
            },
          )
          c.br(0)
        }),
      )
      c.addTo(r0, mr).br(0)
    }),
  )
  return c
}

const packB = ({ nr }: Tile): CodeT => {
  const c = new Code(i32s(6)) // src dst kc nc rs cs
  const [src, dst, kc, nc, rs, cs] = [0, 1, 2, 3, 4, 5]
  const s0 = c.local('i32')
  const p = c.local('i32')
  const q = c.local('i32')
  const w = c.local('i32')
  c.i32(0).set(s0)
  c.block(() =>
    c.loop(() => {
      c.get(s0).get(nc).op(O.i32GeS).brIf(1)
      c.get(nc).get(s0).op(O.i32Sub).set(w)
      c.get(src).get(s0).get(cs).op(O.i32Mul).op(O.i32Add).set(q)
      c.i32(0).set(p)
      c.block(() =>
        c.loop(() => {
          c.get(p).get(kc).op(O.i32GeS).brIf(1)
          // a whole panel of Bᵀ (columns contiguous along k): four k-steps as 4×4 transposes
          c.get(w).i32(nr).op(O.i32GeS).get(rs).i32(4).op(O.i32Eq).op(O.i32And).get(p).i32(4).op(O.i32Add).get(kc).op(O.i32LeS).op(O.i32And)
          c.if(
            () => {
              for (let g = 0; g < nr / 4; g++) transpose4(c, (j) => c.get(q).get(cs).i32(4 * g + j).op(O.i32Mul).op(O.i32Add), dst, nr * 4, g * 16)
              c.addTo(dst, 4 * nr * 4).addTo(q, 16).addTo(p, 4)
            },
            () => {
              c.get(w).i32(nr).op(O.i32GeS).get(cs).i32(4).op(O.i32Eq).op(O.i32And)
              c.if(
                () => {
                  for (let v = 0; v < nr / 4; v++) c.get(dst).get(q).vmem(V.load, v * 16).vmem(V.store, v * 16)
                },
                () => {
                  for (let jj = 0; jj < nr; jj++) {
                    c.get(w).i32(jj).op(O.i32GtS)
                    c.if(
                      () => c.get(dst).get(q).get(cs).i32(jj).op(O.i32Mul).op(O.i32Add).mem(O.f32Load, 2).mem(O.f32Store, 2, jj * 4),
                      () => c.get(dst).f32(0).mem(O.f32Store, 2, jj * 4),
                    )
                  }
                },
              )
              c.addTo(dst, nr * 4)
              c.get(q).get(rs).op(O.i32Add).set(q)
              c.addTo(p, 1)
            },
          )
          c.br(0)
        }),
      )
      c.addTo(s0, nr).br(0)
    }),
  )
  return c
}

const kernel = ({ mr, nr }: Tile, fma: boolean): CodeT => {
  const c = new Code(i32s(9)) // ap bp c mc nc kc ldc acc tmp
  const [ap, bp, cp, mc, nc, kc, ldc, acc, tmp] = [0, 1, 2, 3, 4, 5, 6, 7, 8]
  const nv = nr / 4
  const s0 = c.local('i32')
  const r0 = c.local('i32')
  const pa = c.local('i32')
  const pb = c.local('i32')
  const pbBase = c.local('i32')
  const paBase = c.local('i32')
  const p = c.local('i32')
  const row = c.local('i32')
  const ii = c.local('i32')
  const jj = c.local('i32')
  const rows = c.local('i32')
  const cols = c.local('i32')
  const at = c.local('i32')
  const t = c.local('f32')
  const acc4 = [...Array(mr * nv)].map(() => c.local('v128'))
  const b = [...Array(nv)].map(() => c.local('v128'))
  const a = c.local('v128')
  const zero = c.local('v128')
  c.i32x4(0).set(zero)
  c.i32(0).set(s0).get(bp).set(pbBase)
  c.block(() =>
    c.loop(() => {
      c.get(s0).get(nc).op(O.i32GeS).brIf(1)
      c.i32(0).set(r0).get(ap).set(paBase)
      c.block(() =>
        c.loop(() => {
          c.get(r0).get(mc).op(O.i32GeS).brIf(1)
          for (const x of acc4) c.get(zero).set(x)
          c.get(paBase).set(pa).get(pbBase).set(pb).get(kc).set(p)
          c.block(() =>
            c.loop(() => {
              c.get(p).op(O.i32Eqz).brIf(1)
              for (let v = 0; v < nv; v++) c.get(pb).vmem(V.load, v * 16).set(b[v])
              for (let i = 0; i < mr; i++) {
                c.get(pa).vmem(V.load32Splat, i * 4).set(a)
                for (let v = 0; v < nv; v++) fma ? c.get(a).get(b[v]).get(acc4[i * nv + v]).v(RELAXED_MADD).set(acc4[i * nv + v]) : c.get(acc4[i * nv + v]).get(a).get(b[v]).v(V.f32x4Mul).v(V.f32x4Add).set(acc4[i * nv + v])
              }
              c.addTo(pa, mr * 4).addTo(pb, nr * 4).get(p).i32(1).op(O.i32Sub).set(p).br(0)
            }),
          )
          c.get(mc).get(r0).op(O.i32Sub).set(rows).get(nc).get(s0).op(O.i32Sub).set(cols)
          c.get(cp).get(r0).get(ldc).op(O.i32Mul).op(O.i32Add).get(s0).i32(2).op(O.i32Shl).op(O.i32Add).set(row)
          c.get(rows).i32(mr).op(O.i32GeS).get(cols).i32(nr).op(O.i32GeS).op(O.i32And)
          c.if(
            () => {
              const stores = (add: boolean) => () => {
                for (let i = 0; i < mr; i++) {
                  for (let v = 0; v < nv; v++) {
                    c.get(row).get(acc4[i * nv + v])
                    if (add) c.get(row).vmem(V.load, v * 16).v(V.f32x4Add)
                    c.vmem(V.store, v * 16)
                  }
                  c.get(row).get(ldc).op(O.i32Add).set(row)
                }
              }
              c.get(acc).if(stores(true), stores(false))
            },
            () => {
              for (let i = 0; i < mr; i++)
                for (let v = 0; v < nv; v++) c.get(tmp).get(acc4[i * nv + v]).vmem(V.store, (i * nv + v) * 16)
              // C[ii, jj] = (acc ? C : 0) + tmp[ii, jj] over the valid part of the tile
              c.i32(0).set(ii)
              c.block(() =>
                c.loop(() => {
                  c.get(ii).get(rows).op(O.i32GeS).get(ii).i32(mr).op(O.i32GeS).op(O.i32Or).brIf(1)
                  c.i32(0).set(jj)
                  c.block(() =>
                    c.loop(() => {
                      c.get(jj).get(cols).op(O.i32GeS).get(jj).i32(nr).op(O.i32GeS).op(O.i32Or).brIf(1)
                      c.get(tmp).get(ii).i32(nr).op(O.i32Mul).get(jj).op(O.i32Add).i32(2).op(O.i32Shl).op(O.i32Add).mem(O.f32Load, 2).set(t)
                      c.get(row).get(jj).i32(2).op(O.i32Shl).op(O.i32Add).set(at)
                      c.get(acc).if(() => c.get(t).get(at).mem(O.f32Load, 2).op(O.f32Add).set(t))
                      c.get(at).get(t).mem(O.f32Store, 2)
                      c.addTo(jj, 1).br(0)
                    }),
                  )
                  c.get(row).get(ldc).op(O.i32Add).set(row)
                  c.addTo(ii, 1).br(0)
                }),
              )
            },
          )
          c.get(paBase).get(kc).i32(mr * 4).op(O.i32Mul).op(O.i32Add).set(paBase)
          c.addTo(r0, mr).br(0)
        }),
      )
      c.get(pbBase).get(kc).i32(nr * 4).op(O.i32Mul).op(O.i32Add).set(pbBase)
      c.addTo(s0, nr).br(0)
    }),
  )
  return c
}

/**
 * `gemm(a, b, c, m, k, n, ars, acs, brs, bcs, ldc, ap, bp, tmp)`: the cache
 * blocking loops around the kernel — for each KC slice of k, B packed once
 * into `bp`; for each MC block of rows, A packed into `ap`, then the kernel
 * (accumulating after the first slice). Element (i, p) of A is at
 * `a + i·ars + p·acs`, (p, j) of B at `b + p·brs + j·bcs`; C has row stride
 * `ldc` bytes. Calls functions 0–2 (packA, packB, kernel).
 */
const driver = (mc: number, kc: number): CodeT => {
  const c = new Code(i32s(14))
  const [a, b, cp, m, k, n, ars, acs, brs, bcs, ldc, ap, bp, tmp] = [...Array(14).keys()]
  const pc = c.local('i32')
  const ic = c.local('i32')
  const kk = c.local('i32')
  const mm = c.local('i32')
  const min = (x: () => void, cap: number, into: number) => {
    x()
    c.i32(cap).op(O.i32LtS)
    c.if(() => (x(), c.set(into)), () => c.i32(cap).set(into))
  }
  c.i32(0).set(pc)
  c.block(() =>
    c.loop(() => {
      c.get(pc).get(k).op(O.i32GeS).brIf(1)
      min(() => c.get(k).get(pc).op(O.i32Sub), kc, kk)
      c.get(b).get(pc).get(brs).op(O.i32Mul).op(O.i32Add).get(bp).get(kk).get(n).get(brs).get(bcs).op(O.call, 1)
      c.i32(0).set(ic)
      c.block(() =>
        c.loop(() => {
          c.get(ic).get(m).op(O.i32GeS).brIf(1)
          min(() => c.get(m).get(ic).op(O.i32Sub), mc, mm)
          c.get(a).get(ic).get(ars).op(O.i32Mul).op(O.i32Add).get(pc).get(acs).op(O.i32Mul).op(O.i32Add)
          c.get(ap).get(mm).get(kk).get(ars).get(acs).op(O.call, 0)
          c.get(ap).get(bp).get(cp).get(ic).get(ldc).op(O.i32Mul).op(O.i32Add).get(mm).get(n).get(kk).get(ldc)
          c.get(pc).i32(0).op(O.i32GtS).get(tmp).op(O.call, 2)
          c.addTo(ic, mc).br(0)
        }),
      )
      c.addTo(pc, kc).br(0)
    }),
  )
  return c
}

/**
 * `gemmBatch(a, b, c, m, k, n, ars, acs, brs, bcs, ldc, ap, bp, tmp, count,
 * aStep, bStep, cStep)`: `count` products of the same shapes, the i-th at
 * a + i·aStep, b + i·bStep, c + i·cStep (a step of 0 broadcasts that
 * operand): one call for the small per-head products of attention instead of
 * one per head. Calls function 3 (gemm).
 */
const batchDriver = (): CodeT => {
  const c = new Code(i32s(18))
  const [a, b, cp, count, aStep, bStep, cStep] = [0, 1, 2, 14, 15, 16, 17]
  const t = c.local('i32')
  c.i32(0).set(t)
  c.block(() =>
    c.loop(() => {
      c.get(t).get(count).op(O.i32GeS).brIf(1)
      for (let j = 0; j < 14; j++) c.get(j)
      c.op(O.call, 3)
      c.get(a).get(aStep).op(O.i32Add).set(a)
      c.get(b).get(bStep).op(O.i32Add).set(b)
      c.get(cp).get(cStep).op(O.i32Add).set(cp)
      c.addTo(t, 1).br(0)
    }),
  )
  return c
}

/**
 * The functions of a GEMM module for register tile `t` and cache blocks
 * `mc` × `kc`; with `fma` the kernel's multiply-adds are relaxed SIMD's
 * `f32x4.relaxed_madd` (one fused instruction where the CPU has FMA: 1.3–1.4×
 * the speed of separate mul and add here, and one rounding instead of two).
 */
export const gemmFuncs = (t: Tile, mc: number, kc: number, fma = false) => [
  { name: 'packA', code: packA(t) },
  { name: 'packB', code: packB(t) },
  { name: 'kernel', code: kernel(t, fma) },
  { name: 'gemm', code: driver(mc, kc) },
  { name: 'gemmBatch', code: batchDriver() },
]
