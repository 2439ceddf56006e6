/**
 * The gpu.js backend (`@frugal-ts/backend-gpujs`) in every gpu.js mode that
 * runs here (headlessgl under an X display, webasm, cpu), against frugal-ts's
 * reference `cpu` backend:
 *
 * 1. matmul 512² (eager, result read back): ms and GFLOP/s.
 * 2. One Adam step over 10 M parameters: the jitted step (`compile` fuses the
 *    chain into one kernel per output: p, m, v) against the same step run
 *    eagerly, one gpu.js kernel per primitive (21 of them). Target: fused ≤ 0.5× unfused.
 *    Each call ends by reading one element of the new parameters, which
 *    waits for every kernel queued before it (GL runs in order) without
 *    timing a 40 MB readback.
 * 3. MLP 784-256-10, batch 64, `jit(valueAndGrad(loss))`, loss and all
 *    gradients read back every step.
 *
 * Every table's contenders are timed interleaved (bench/src/table.ts: one
 * call each per round, rotating order), so load falls on all of them alike.
 *
 * Run from the repository root (under xvfb-run -a for headless-gl):
 *   xvfb-run -a node --import tsx --conditions=source bench/gpujs-backend.ts
 */
import type { Tensor } from '@frugal-ts/core'
import * as core from '@frugal-ts/core'
import * as ad from '@frugal-ts/autodiff'
import { availableModes, gpujsBackend } from '@frugal-ts/backend-gpujs'
import type { GpujsBackend } from '@frugal-ts/backend-gpujs'
import { randomFloats } from './src/contenders'
import type { Contender, Maker } from './src/contenders'
import { fmt, interleaved, printTable, ratioOf } from './src/table'
import { BATCH, HIDDEN, IN, OUT, flat, mlpData } from './src/mlp'

const { add, dispose, div, fromArray, keep, matmul, mul, pow, scope, slice, sqrt, sub, tensor, withBackend } = core

const modes = availableModes()
const backends = new Map<string, GpujsBackend>()
for (const mode of modes) {
  const b = gpujsBackend({ mode, name: `gpujs-${mode}` })
  core.registerBackend(b.name, () => b)
  backends.set(b.name, b)
}
// the reference: our default cpu backend on one thread (gpu.js's cpu and webasm modes run on one)
core.registerBackend('cpu-1t', () => core.cpu({ wasm: true, threads: 1 }))
const contenders = ['cpu-1t', ...backends.keys()]
console.log(`gpu.js modes available here: ${modes.join(', ')}${modes.includes('headlessgl') ? '' : ' (no headlessgl: run under xvfb-run -a)'}`)

// ---- 1. matmul 512² ----

const N = 512
const ma = randomFloats(N * N, 1)
const mb = randomFloats(N * N, 2)

/** A contender whose every call runs on backend `name` (`withBackend`), its last result kept as the check output. */
const on = (name: string, make: () => { run: () => Float32Array; dispose: () => void; note?: () => string }): Contender => {
  const c = withBackend(name, make)
  let last: Float32Array | undefined
  return {
    step: () => void (last = withBackend(name, c.run)),
    output: () => last ?? new Float32Array(0),
    note: c.note && (() => withBackend(name, c.note!)),
    dispose: () => withBackend(name, c.dispose),
  }
}

const matmulOn = (name: string) => () =>
  on(name, () => {
    const [A, B] = [fromArray(ma, [N, N]), fromArray(mb, [N, N])]
    return { run: () => scope(() => matmul(A, B).dataSync() as Float32Array), dispose: () => dispose([A, B]) }
  })

const matmulRows = await interleaved(contenders.map((name): Maker => [name === 'cpu-1t' ? 'frugal cpu (reference)' : name, matmulOn(name)]), 10, 2)
printTable(`matmul ${N}x${N} · ${N}x${N}, eager, result read back`, matmulRows, {
  baseline: 'frugal cpu (reference)',
  ratio: 'speed',
  columns: [{ header: 'GFLOP/s', value: (t) => fmt((2 * N ** 3) / (t.median * 1e6)) }],
  // gpu.js's cpu and webasm modes and the reference run on this thread; headlessgl on the GPU
  threads: (name: string) => (name.includes('headlessgl') ? 'GPU' : '1'),
})

// ---- 2. Adam over 10 M parameters: fused (jit) vs one kernel per primitive ----

const P = 10_000_000
const [b1, b2, lr, eps] = [0.9, 0.999, 1e-3, 1e-8]

/** m = b1 m + (1-b1) g; v = b2 v + (1-b2) g²; p -= lr m̂/(√v̂+eps): 21 primitives */
const adam = (p: Tensor, m: Tensor, v: Tensor, g: Tensor, t: Tensor) => {
  const m2 = add(mul(m, b1), mul(g, 1 - b1))
  const v2 = add(mul(v, b2), mul(mul(g, g), 1 - b2))
  const mhat = div(m2, sub(1, pow(b1, t)))
  const vhat = div(v2, sub(1, pow(b2, t)))
  return { p: sub(p, mul(lr, div(mhat, add(sqrt(vhat), eps)))), m: m2, v: v2 }
}

const adamData = { p: randomFloats(P, 3), g: randomFloats(P, 4, 0.1) }

const adamOn = (name: string, fused: boolean) => () =>
  on(name, () => {
    let state = keep({ p: fromArray(adamData.p, [P]), m: core.zeros([P]), v: core.zeros([P]) })
    const g = keep(fromArray(adamData.g, [P]))
    const t = keep(tensor(1))
    const step = fused ? ad.jit(adam, { donate: [0, 1, 2] }) : adam
    return {
      run: () => {
        const next = scope(() => step(state.p, state.m, state.v, g, t))
        if (!fused) dispose(state)
        state = next
        return scope(() => slice(state.p, [0], [1]).dataSync() as Float32Array)
      },
      note: () => (fused && name !== 'cpu-1t' ? `fused: ${(step as ad.Jitted<Parameters<typeof adam>, unknown>).describe(state.p, state.m, state.v, g, t)}` : ''),
      dispose: () => dispose([state, g, t]),
    }
  })

const adamRatios: string[] = []
// one interleaved run of every backend's two contenders (a call is seconds on gpu.js's cpu mode: 3 rounds after 1 warm-up call)
const adamAll = await interleaved(
  contenders.flatMap((name): Maker[] => [
    [`${name} unfused (eager)`, adamOn(name, false)],
    [`${name} fused (jit)`, adamOn(name, true)],
  ]),
  3,
  1,
)
for (const name of contenders) {
  const rows = adamAll.filter((r) => r.name.startsWith(`${name} `))
  printTable(`Adam step over ${P / 1e6} M float32 parameters on ${name} (interleaved with the other backends' rows)`, rows, { baseline: `${name} unfused (eager)`, ratio: 'time', threads: name.includes('headlessgl') ? 'GPU' : '1' })
  const r = ratioOf(rows, `${name} fused (jit)`, { baseline: `${name} unfused (eager)`, ratio: 'time' })
  adamRatios.push(`${name}: ${r === undefined ? '-' : `${fmt(r)}×`}`)
}

// ---- 3. MLP 784-256-10, batch 64, forward + backward, jitted ----

type Params = { w1: Tensor; b1: Tensor; w2: Tensor; b2: Tensor }
const loss = (p: Params, x: Tensor, y: Tensor): Tensor =>
  ad.nn.crossEntropy(add(matmul(ad.nn.relu(add(matmul(x, p.w1), p.b1)), p.w2), p.b2), y)

const mlpOn = (name: string) => () =>
  on(name, () => {
    const params = keep({
      w1: fromArray(mlpData.w1, [IN, HIDDEN]),
      b1: fromArray(mlpData.b1, [HIDDEN]),
      w2: fromArray(mlpData.w2, [HIDDEN, OUT]),
      b2: fromArray(mlpData.b2, [OUT]),
    })
    const x = keep(fromArray(mlpData.x, [BATCH, IN]))
    const y = keep(fromArray(mlpData.labels, [BATCH], 'int32'))
    const step = ad.jit(ad.valueAndGrad(loss))
    return {
      run: () =>
        scope(() => {
          const [l, g] = step(params, x, y) as [Tensor, Params]
          return flat([l.dataSync(), g.w1.dataSync(), g.b1.dataSync(), g.w2.dataSync(), g.b2.dataSync()])
        }),
      dispose: () => dispose([params, x, y]),
    }
  })

const mlpRows = await interleaved(contenders.map((name): Maker => [name === 'cpu-1t' ? 'frugal cpu jit (reference)' : `${name} jit`, mlpOn(name)]), 20, 3)
printTable(`MLP ${IN}-${HIDDEN}-${OUT}, batch ${BATCH}: jit(valueAndGrad(loss)), loss and gradients read back`, mlpRows, {
  baseline: 'frugal cpu jit (reference)',
  ratio: 'time',
  // gpu.js's cpu and webasm modes and the reference run on this thread; headlessgl on the GPU
  threads: (name: string) => (name.includes('headlessgl') ? 'GPU' : '1'),
})

console.log(`\nAdam 10 M, fused / unfused time (target ≤ 0.5×): ${adamRatios.join(', ')}`)
for (const b of backends.values()) {
  const s = b.stats()
  console.log(`${b.name}: ${s.compiled} kernels built (${Object.entries(s.kernelModes).map(([m, n]) => `${n} on ${m}`).join(', ')}), ${s.launches} launches, ${s.uploads} uploads`)
}
process.exit(0)
