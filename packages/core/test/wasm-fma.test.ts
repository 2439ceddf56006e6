import { spawnSync } from 'node:child_process'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'

/** runs the GEMM child with FRUGAL_WASM_FMA set to `fma` and returns its report */
const child = (fma: string): { path: string; rows: { m: number; k: number; n: number; error: number; bits: number[] }[] } => {
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--conditions=source', join(__dirname, 'children', 'gemm.ts')], {
    encoding: 'utf8',
    env: { ...process.env, FRUGAL_WASM_FMA: fma },
  })
  expect(r.status, r.stderr).toBe(0)
  return JSON.parse(r.stdout.trim().split('\n').at(-1)!)
}

describe('wasm GEMM with and without fused multiply-add', () => {
  it('uses relaxed SIMD FMA on this Node (enabled at run time on Node 20) and says so; FRUGAL_WASM_FMA=0 keeps mul+add', () => {
    const on = child('1')
    const off = child('0')
    expect(on.path).toMatch(/fused multiply-add\)$/)
    expect(off.path).not.toMatch(/fused multiply-add/)
    // both against a float64 product, in units of k·ε: measured 0.14–1.25 with FMA, 0.16–1.47 without
    for (const r of [...on.rows, ...off.rows]) expect(r.error, `${r.m}×${r.k}×${r.n}`).toBeLessThan(3)
    // one rounding per multiply-add instead of two: the FMA kernel really ran (its results differ in the last bits)
    expect(on.rows.some((r, i) => r.bits.some((b, j) => b !== off.rows[i].bits[j]))).toBe(true)
  }, 120_000)
})
