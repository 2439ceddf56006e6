/**
 * Micro-benchmark of the cpu backend's matmul kernel: GFLOP/s of square
 * float32 matmuls (one thread, best of 5 timings, output allocation included),
 * against a naive i-p-j loop for scale.
 *
 *   npx tsx bench/cpu-matmul.ts
 */
import { cpu } from '@frugal-ts/core'
import type { Aval } from '../packages/core/src/Primitive'

const backend = cpu()

const random = (n: number): Float32Array => {
  const a = new Float32Array(n)
  for (let i = 0; i < n; i++) a[i] = Math.random() * 2 - 1
  return a
}

/**
 * Seconds per call of `f`: the best of `trials` timings of at least `minMs`
 * each, after one warm-up call (the best filters out noise from other load).
 */
const time = (f: () => void, minMs = 300, trials = 5): number => {
  f()
  let best = Infinity
  for (let k = 0; k < trials; k++) {
    let reps = 0
    const t0 = performance.now()
    let t = 0
    do {
      f()
      reps++
      t = performance.now() - t0
    } while (t < minMs)
    best = Math.min(best, t / 1e3 / reps)
  }
  return best
}

const naive = (a: Float32Array, b: Float32Array, c: Float32Array, n: number) => {
  c.fill(0)
  for (let i = 0; i < n; i++)
    for (let p = 0; p < n; p++) {
      const x = a[i * n + p]
      for (let j = 0; j < n; j++) c[i * n + j] += x * b[p * n + j]
    }
}

const rows: string[][] = [['n', 'cpu matmul GFLOP/s', 'ms/call', 'naive GFLOP/s']]
for (const n of [256, 512, 1024]) {
  const aval: Aval = { shape: [n, n], dtype: 'float32' }
  const a = backend.fromHost(random(n * n), aval)
  const b = backend.fromHost(random(n * n), aval)
  const flops = 2 * n ** 3
  const s = time(() => backend.dispose(backend.kernels.matmul([a, b], [aval, aval], {}, aval), aval))
  const c = new Float32Array(n * n)
  const sn = n <= 512 ? time(() => naive(a as Float32Array, b as Float32Array, c, n), 300, 2) : NaN
  rows.push([`${n}²`, (flops / s / 1e9).toFixed(2), (s * 1e3).toFixed(1), Number.isNaN(sn) ? '-' : (flops / sn / 1e9).toFixed(2)])
}
const width = rows[0].map((_, j) => Math.max(...rows.map((r) => r[j].length)))
for (const r of rows) console.log(r.map((x, j) => x.padStart(width[j])).join('  '))
