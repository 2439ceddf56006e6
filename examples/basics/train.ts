/**
 * The smallest end-to-end use of frugal-ts: an MLP 2-64-64-2 learns to tell two
 * interleaved spirals apart, trained by the library's `trainStep` (`valueAndGrad`,
 * the optimizer's update and `applyUpdates` compiled into one program) with plain
 * gradient descent (`sgd`).
 * Run: `pnpm start` from the repository root.
 */
import type { Tensor } from '@frugal-ts/core'
import { Key, argmax, currentBackend, equal, cast, fromArray, keep, mean, memory, mul, scope, tanh } from '@frugal-ts/core'
import { jit, nn } from '@frugal-ts/autodiff'
import { sgd, trainStep } from '@frugal-ts/frugal'

const n = 256
const steps = Number(process.env.STEPS ?? 2000)
const lr = Number(process.env.LR ?? 0.5)

/** two spirals, n points each, with labels 0 and 1 */
const spirals = () => {
  const xs = new Float32Array(4 * n)
  const ys = new Int32Array(2 * n)
  for (let c = 0; c < 2; c++)
    for (let i = 0; i < n; i++) {
      const r = (i / n) * 3
      const t = 1.75 * (i / n) * 2 * Math.PI + c * Math.PI
      const k = c * n + i
      xs[2 * k] = r * Math.cos(t) * 0.4
      xs[2 * k + 1] = r * Math.sin(t) * 0.4
      ys[k] = c
    }
  return { x: fromArray(xs, [2 * n, 2]), y: fromArray(ys, [2 * n], 'int32') }
}

type Params = { w1: Tensor; b1: Tensor; w2: Tensor; b2: Tensor; w3: Tensor; b3: Tensor }

const init = (seed: number): Params => {
  const [k1, k2, k3] = Key.splitKeys(Key.key(seed), 3)
  const layer = (k: Tensor, i: number, o: number) => mul(Key.normal(k, [i, o]), Math.sqrt(2 / i))
  const zeros = (d: number) => fromArray(new Float32Array(d), [d])
  return { w1: layer(k1, 2, 64), b1: zeros(64), w2: layer(k2, 64, 64), b2: zeros(64), w3: layer(k3, 64, 2), b3: zeros(2) }
}

const logits = (p: Params, x: Tensor) => nn.linear(tanh(nn.linear(tanh(nn.linear(x, p.w1, p.b1)), p.w2, p.b2)), p.w3, p.b3)
const loss = (p: Params, x: Tensor, y: Tensor) => nn.crossEntropy(logits(p, x), y)
const accuracy = (p: Params, x: Tensor, y: Tensor) => mean(cast(equal(argmax(logits(p, x), -1), y), 'float32'))

const accuracyOf = jit(accuracy)
const optimizer = sgd(lr)
const step = trainStep(loss, optimizer)

const { x, y } = spirals()
let params = keep(init(0))
let state = optimizer.init(params)
const t0 = performance.now()
console.log('step  loss     accuracy  live tensors')
for (let i = 1; i <= steps; i++) {
  const r = step(params, state, x, y) // consumes params and state: continue with the returned ones
  ;({ params, state } = r)
  if (i === 1 || i % 100 === 0 || i === steps) {
    const acc = scope(() => accuracyOf(params, x, y).item())
    console.log(`${String(i).padStart(4)}  ${r.loss.toFixed(4)}   ${(acc * 100).toFixed(1).padStart(5)}%   ${memory(currentBackend()).tensors}`)
  }
}
const ms = (performance.now() - t0) / steps
console.log(`\n${steps} steps, ${ms.toFixed(2)} ms/step (trainStep: forward, backward and update in ${step.traceCount} compiled program, mode ${step.mode})`)
