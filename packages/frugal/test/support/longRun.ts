/**
 * Long training runs for the memory and compile-count tests: a residual MLP
 * with 12 projectable weight matrices of two shapes (plus an embedding, biases,
 * a norm scale and a head that FRUGAL keeps stateful), trained with
 * `trainStep` for thousands of steps with subspaces refreshed every 5 steps.
 * Used in-process by trainStep.longrun.test.ts and as a child process
 * (children/longRun.ts) where RSS is measured.
 */
import type { Tensor } from '@frugal-ts/core'
import { Key, add, currentBackend, keep, matmul, mean, memory, mul, rsqrt, scope, square, sub, tanh } from '@frugal-ts/core'
import type { GradientTransformation } from '@frugal-ts/frugal'
import { adam, badam, chain, clipByGlobalNorm, frugal, galore, trainStep, warmupCosineDecaySchedule } from '@frugal-ts/frugal'

export interface Mlp {
  readonly embed: Tensor
  readonly blocks: { readonly w1: Tensor; readonly w2: Tensor; readonly bias: Tensor }[]
  readonly norm: Tensor
  readonly head: Tensor
}

const D = 24
const H = 32

/** 12 projectable matrices: w1 [24, 32] and w2 [32, 24] in each of 6 blocks */
export const initMlp = (seed = 0): Mlp =>
  keep(
    scope(() => {
      const ks = Key.splitKeys(Key.key(seed), 16)
      const n = (k: Tensor, shape: number[], s: number) => mul(Key.normal(k, shape), s)
      return {
        embed: n(ks[0], [16, D], 0.25),
        blocks: Array.from({ length: 6 }, (_, i) => ({ w1: n(ks[1 + 2 * i], [D, H], 0.2), w2: n(ks[2 + 2 * i], [H, D], 0.2), bias: n(ks[13], [D], 0.01) })),
        norm: add(mul(Key.normal(ks[14], [D]), 0), 1),
        head: n(ks[15], [D, 4], 0.2),
      }
    }),
  )

export const mlpLoss = (p: Mlp, x: Tensor, y: Tensor): Tensor => {
  let h = matmul(x, p.embed)
  for (const b of p.blocks) h = add(h, add(matmul(tanh(matmul(h, b.w1)), b.w2), b.bias))
  const scaled = mul(mul(h, rsqrt(add(mean(square(h), [1], true), 1e-6))), p.norm)
  return mean(square(sub(matmul(scaled, p.head), y)))
}

/** four fixed batches, cycled */
export const batches = (seed = 1): [Tensor, Tensor][] =>
  keep(scope(() => Key.splitKeys(Key.key(seed), 4).map((k) => { const [a, b] = Key.splitKeys(k, 2); return [Key.normal(a, [8, 16]), Key.normal(b, [8, 4])] as [Tensor, Tensor] })))

const schedule = () => warmupCosineDecaySchedule({ init: 0, peak: 1e-3, warmupSteps: 100, decaySteps: 2000, end: 1e-4 })

/** the optimizers the long-run tests cover, by name */
export const optimizers: Record<string, () => GradientTransformation<any>> = {
  adam: () => adam({ learningRate: 1e-3 }),
  // a schedule computed in the step (the rates piece) as users train: warmup, then cosine decay
  'frugal-random': () => frugal({ learningRate: schedule(), updateGap: 5, blockOrder: 'random' }),
  'frugal-descending': () => frugal({ learningRate: 1e-3, updateGap: 5, blockOrder: 'descending' }),
  'frugal-mirror': () => frugal({ learningRate: 1e-3, updateGap: 5, blockOrder: 'mirror' }),
  badam: () => badam({ learningRate: 1e-3, updateGap: 5 }),
  galore: () => galore({ learningRate: 1e-3, updateGap: 5 }),
  'frugal-randk': () => frugal({ learningRate: 1e-3, updateGap: 5, projector: 'randk' }),
  'frugal-columns': () => frugal({ learningRate: 1e-3, updateGap: 5, projector: 'columns' }),
  'clip-frugal': () => chain(clipByGlobalNorm(1), frugal({ learningRate: schedule(), updateGap: 5, weightDecay: 0.1 })),
}

export interface Sample {
  readonly step: number
  readonly tensors: number
  readonly bytes: number
  readonly traces: number
  readonly rss: number
  /** the JS heap in use */
  readonly heap: number
  readonly loss: number
}

/**
 * Trains `steps` steps, sampling memory and trace counts at `at` (steps done).
 * @example run('frugal-random', 2000, [200, 2000])
 */
export const run = (name: string, steps: number, at: readonly number[], onSample?: (s: Sample) => void) => {
  const opt = optimizers[name]()
  const step = trainStep(mlpLoss, opt)
  const data = batches()
  let params = initMlp()
  let state = keep(scope(() => opt.init(params as never)))
  const samples: Sample[] = []
  const first: number[] = []
  for (let i = 0; i < steps; i++) {
    const [x, y] = data[i % data.length]
    const r = step(params, state, x, y)
    ;({ params, state } = r)
    if (i < 3) first.push(r.loss)
    if (at.includes(i + 1)) {
      // a full collection first (when the child runs with --expose-gc): what is measured is what is retained, not how far the old generation grew before its next collection
      ;(globalThis as { gc?: () => void }).gc?.()
      const m = memory(currentBackend())
      const s = { step: i + 1, tensors: m.tensors, bytes: m.bytes, traces: step.traceCount, rss: process.memoryUsage().rss, heap: process.memoryUsage().heapUsed, loss: r.loss }
      samples.push(s)
      onSample?.(s)
    }
  }
  return { samples, mode: step.mode, refreshes: step.refreshes, cacheSize: step.cacheSize, firstLosses: first }
}
