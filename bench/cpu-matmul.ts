/**
 * Micro-benchmark of the cpu backend's matmul kernel (`cpu()`, the JS path,
 * one thread): GFLOP/s of square float32 matmuls, output allocation
 * included, against a naive i-p-j loop for scale (n ≤ 512), timed
 * interleaved (bench/src/table.ts: one call each per round, rotating order),
 * medians; the check column is the kernel's result against the naive loop's.
 *
 *   node --import tsx --conditions=source bench/cpu-matmul.ts
 */
import { cpu } from '@frugal-ts/core'
import type { Aval } from '../packages/core/src/Primitive'
import type { Maker } from './src/contenders'
import { randomFloats } from './src/contenders'
import { fmt, interleaved, printTable } from './src/table'

const backend = cpu()

const naive = (a: Float32Array, b: Float32Array, c: Float32Array, n: number) => {
  c.fill(0)
  for (let i = 0; i < n; i++)
    for (let p = 0; p < n; p++) {
      const x = a[i * n + p]
      for (let j = 0; j < n; j++) c[i * n + j] += x * b[p * n + j]
    }
}

const KERNEL = 'cpu matmul kernel (JS), 1 thread'
const NAIVE = 'naive i-p-j loop, 1 thread'
for (const [n, rounds] of [[256, 20], [512, 10], [1024, 5]] as const) {
  const aval: Aval = { shape: [n, n], dtype: 'float32' }
  const [ha, hb] = [randomFloats(n * n, 1), randomFloats(n * n, 2)]
  const makers: Maker[] = [
    [
      KERNEL,
      () => {
        const [a, b] = [backend.fromHost(ha, aval), backend.fromHost(hb, aval)]
        // the last result is kept (the one before it disposed, so each call allocates its output)
        let last: unknown
        return {
          step: () => {
            if (last !== undefined) backend.dispose(last as never, aval)
            last = backend.kernels.matmul([a, b], [aval, aval], {}, aval)
          },
          output: () => Float32Array.from(last as Float32Array),
          dispose: () => (backend.dispose(a, aval), backend.dispose(b, aval), backend.dispose(last as never, aval)),
        }
      },
    ],
  ]
  if (n <= 512) {
    const c = new Float32Array(n * n)
    makers.push([NAIVE, () => ({ step: () => naive(ha, hb, c, n), output: () => c.slice(), dispose: () => {} })])
  }
  const rows = await interleaved(makers, rounds, 1)
  printTable(`matmul ${n}×${n} on the cpu backend's JS kernel`, rows, {
    baseline: n <= 512 ? NAIVE : KERNEL,
    ratio: 'speed',
    columns: [{ header: 'GFLOP/s', value: (t) => fmt((2 * n ** 3) / (t.median * 1e6)) }],
  })
}
