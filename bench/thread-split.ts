/**
 * When a kernel pays for a second thread: chains of 20 kernel pairs of the
 * shapes a training step runs ([rows, 64] float32, rows from 32 to 2048), in
 * one jitted program each, on the `cpu` backend's wasm path with 1 thread and
 * with 2, timed interleaved (bench/src/table.ts), medians of 30 rounds of 5
 * calls. Each pair is a reduction over the last axis and an elementwise loop
 * that reads it:
 *
 * - `row sum + add`: z = x + Σ_j (z·y) (a reduction, then a plain loop);
 * - `exp chain`: z = e^−z²·y + mean_j z (a loop with a transcendental);
 * - `plain chain`: z = z·y + mean_j z.
 *
 * The thread count per kernel is the backend's own decision from its size
 * (elementwise loops from 2·2¹⁴ elements, 2·2¹² with a transcendental;
 * reductions from 2·2¹⁴): the speed column shows where that decision is
 * right (≥ 1 where it splits, 1 where it does not). The check: 2 threads'
 * result against 1 thread's (the same bits expected; FAIL beyond 0).
 *
 * Run: `pnpm --filter @frugal-ts/bench run thread-split` (ROUNDS=…)
 */
import { execSync } from 'node:child_process'
import { cpus, loadavg } from 'node:os'
import type { Tensor } from '@frugal-ts/core'
import * as core from '@frugal-ts/core'
import * as ad from '@frugal-ts/autodiff'
import type { Maker } from './src/contenders'
import { interleaved, printTable } from './src/table'

const ROUNDS = Number(process.env.ROUNDS ?? 30)
const CALLS = 5
const PAIRS = 20
core.registerBackend('cpu-1t', () => core.cpu({ wasm: true, threads: 1 }))
core.registerBackend('cpu-2t', () => core.cpu({ wasm: true, threads: 2 }))

const chains: Record<string, (z: Tensor, x: Tensor, y: Tensor) => Tensor> = {
  'row sum + add': (z, x, y) => core.add(x, core.sum(core.mul(z, y), -1, true)),
  'exp chain': (z, _x, y) => core.add(core.mul(core.exp(core.neg(core.mul(z, z))), y), core.mean(z, -1, true)),
  'plain chain': (z, _x, y) => core.add(core.mul(z, y), core.mean(z, -1, true)),
}

const contender = (backend: string, chain: (typeof chains)[string], rows: number) => {
  const run = core.withBackend(backend, () => {
    const x = core.keep(core.scope(() => core.mul(core.Key.normal(core.Key.key(1), [rows, 64]), 0.1)))
    const y = core.keep(core.scope(() => core.mul(core.Key.normal(core.Key.key(2), [rows, 64]), 0.1)))
    const f = ad.jit((a: Tensor, b: Tensor) => {
      let z = a
      for (let i = 0; i < PAIRS; i++) z = chain(z, a, b)
      return z
    })
    return { f, x, y }
  })
  let last: Float32Array | undefined
  return {
    step: () =>
      core.withBackend(backend, () => {
        for (let i = 0; i < CALLS; i++) {
          const r = run.f(run.x, run.y)
          if (i === CALLS - 1) last = Float32Array.from(r.dataSync() as Float32Array)
          core.dispose(r)
        }
      }),
    output: () => last!,
    dispose: () => core.dispose([run.x, run.y]),
  }
}

console.log('## thread-split: reductions and elementwise loops on 1 and 2 threads\n')
console.log(`- date ${new Date().toISOString()}, commit ${execSync('git rev-parse --short HEAD').toString().trim()}; ${cpus().length} cores (${cpus()[0]?.model.trim()}), Node ${process.version}; load average before ${loadavg().map((l) => l.toFixed(2)).join(' ')}`)
console.log(`- ${PAIRS} pairs (a reduction over the last axis of [rows, 64] and a loop) per program, ${CALLS} calls per timed run, ${ROUNDS} rounds; ms per call`)
let failed = false
for (const [name, chain] of Object.entries(chains))
  for (const rows of [32, 128, 512, 1024, 2048]) {
    const one = `1 thread, [${rows},64]`
    const two = `2 threads, [${rows},64]`
    const makers: Maker[] = [
      [one, () => contender('cpu-1t', chain, rows)],
      [two, () => contender('cpu-2t', chain, rows)],
    ]
    const rowsOut = (await interleaved(makers, ROUNDS, 3, { print: false })).map((r) =>
      'median' in r.result ? { ...r, result: { ...r.result, median: r.result.median / CALLS, min: r.result.min / CALLS } } : r,
    )
    const bad = printTable(`${name}, ${rows * 64} elements`, rowsOut, { baseline: one, ratio: 'speed', check: { reference: one, tolerance: 0 } })
    failed ||= bad.length > 0
  }
console.log(`\n- load average after ${loadavg().map((l) => l.toFixed(2)).join(' ')}`)
if (failed) process.exitCode = 1
process.exit()
