/**
 * Matrix products on the wasm GEMM (`gemm.ts`): the transposed variants
 * A·Bᵀ and Aᵀ·B through packing strides, batched matmul with
 * numpy-broadcast batch axes, and large products split by rows of C across
 * the worker threads (each thread packs into its own scratch).
 * @internal
 */
import type { Block } from './heap'
import { theHeap } from './heap'
import type { Tile } from './gemm'
import { gemmFuncs } from './gemm'
import type { Kernels } from './runtime'
import { instantiate } from './runtime'
import { detect } from './support'
import type { Pool } from './threads'
import { shareRanges, sharesOf } from './threads'

/**
 * The register tile and cache blocks: 4×8 (8 accumulators, no spills with
 * 16 xmm registers), 64 rows × 256 deep (a 64 KiB packed block of A).
 * Measured on a 2-core AVX2 EPYC against 5×8, 6×8, 4×12, 3×16, 4×16, 2×16.
 */
export const blocking = { tile: { mr: 4, nr: 8 } as Tile, mc: 64, kc: 256 }

/** multiply-adds below which a product stays on one thread */
const PARALLEL_MIN = 1 << 19

let gemmModule: Kernels | undefined
const moduleFor = (): Kernels => (gemmModule ??= instantiate(gemmFuncs(blocking.tile, blocking.mc, blocking.kc, detect().fma)))

/** Per thread: blocks for the packed A block, the packed B slice and the edge tile (grown on demand). */
const scratch: { a: Block | null; b: Block | null; tmp: Block | null }[] = []

const ensure = (t: number, slot: 'a' | 'b' | 'tmp', bytes: number): number => {
  const heap = theHeap()
  const s = (scratch[t] ??= { a: null, b: null, tmp: null })
  const have = s[slot]
  if (have && have.bytes >= bytes) return have.off
  if (have) heap.freeBlock(have)
  const b = heap.block(Math.max(bytes, (have?.bytes ?? 0) * 2))
  s[slot] = b
  return b.off
}

/**
 * The arguments of the module's gemm for an m-row product on thread t's
 * scratch; `stored` is the row count of the whole stored Aᵀ (k × stored)
 * when these m rows are a share of it.
 */
const gemmArgs = (t: number, a: number, b: number, c: number, m: number, k: number, n: number, ta: boolean, tb: boolean, stored = m): number[] => {
  const { tile, mc, kc } = blocking
  const [ars, acs] = ta ? [4, 4 * stored] : [4 * k, 4]
  const [brs, bcs] = tb ? [4, 4 * k] : [4 * n, 4]
  const kcMax = Math.min(kc, k)
  const bBytes = kcMax * Math.ceil(n / tile.nr) * tile.nr * 4
  const aBytes = kcMax * Math.ceil(Math.min(mc, m) / tile.mr) * tile.mr * 4
  return [a, b, c, m, k, n, ars, acs, brs, bcs, n * 4, ensure(t, 'a', aBytes), ensure(t, 'b', bBytes), ensure(t, 'tmp', tile.mr * tile.nr * 4)]
}

/**
 * `count` products C_i[m×n] = op(A_i)·op(B_i) of the same shapes, the i-th
 * operands `aStep`, `bStep`, `cStep` bytes after the previous (0: the
 * same for all), in one wasm call per thread: the batch is split across
 * `pool`'s threads when the whole is large (attention's per-head products
 * are too small to split by rows).
 */
export const gemmBatch = (
  a: number, b: number, c: number, count: number, aStep: number, bStep: number, cStep: number,
  m: number, k: number, n: number, ta: boolean, tb: boolean, pool?: Pool,
): void => {
  if (count === 1) return gemm(a, b, c, m, k, n, ta, tb, pool) // one product: split by rows
  if (count === 0 || m === 0 || n === 0) return
  if (k === 0) {
    new Float32Array(theHeap().memory.buffer, c, count * m * n).fill(0)
    return
  }
  const mod = moduleFor()
  const parts = pool ? Math.max(1, Math.min(pool.size, Math.floor((count * m * k * n) / PARALLEL_MIN), count)) : 1
  const shares = shareRanges(count, parts).map((sh, t) => [
    ...gemmArgs(t, a + sh.start * aStep, b + sh.start * bStep, c + sh.start * cStep, m, k, n, ta, tb),
    sh.count, aStep, bStep, cStep,
  ])
  if (parts <= 1) {
    mod.exports.gemmBatch(...shares[0])
    return
  }
  sharesOf(pool!, mod, 'gemmBatch')(shares)
}

/**
 * C[m×n] = op(A)·op(B) on byte addresses, row-major, C contiguous:
 * op(A) = A (m×k) or, with `ta`, Aᵀ of a stored k×m; op(B) = B (k×n) or,
 * with `tb`, Bᵀ of a stored n×k. Runs on `pool`'s threads when large.
 */
export const gemm = (a: number, b: number, c: number, m: number, k: number, n: number, ta: boolean, tb: boolean, pool?: Pool): void => {
  if (m === 0 || n === 0) return
  if (k === 0) {
    new Float32Array(theHeap().memory.buffer, c, m * n).fill(0)
    return
  }
  const { tile } = blocking
  const mod = moduleFor()
  const ars = ta ? 4 : 4 * k
  const parts = pool ? Math.min(pool.size, Math.floor((m * k * n) / PARALLEL_MIN), Math.floor(m / tile.mr)) : 1
  const share = (t: number, r0: number, rows: number): number[] => gemmArgs(t, a + r0 * ars, b, c + r0 * n * 4, rows, k, n, ta, tb, m)
  if (parts <= 1) {
    mod.exports.gemm(...share(0, 0, m))
    return
  }
  sharesOf(pool!, mod, 'gemm')(shareRanges(m, parts, tile.mr).map((sh, t) => share(t, sh.start, sh.count)))
}
