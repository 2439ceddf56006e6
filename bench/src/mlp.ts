/**
 * The MLP 784-256-10 workload shared by the bench scripts: its sizes, the same
 * data for every contender, the flattening of (loss, gradients) for the check
 * column, and the contenders computing loss and gradients with
 * `jit(valueAndGrad)`: ours and jax-js's.
 */
import type { Tensor } from '@frugal-ts/core'
import type { Contender, Jax, JaxRead, Ours } from './contenders'
import { randomFloats, randomLabels } from './contenders'

export const [IN, HIDDEN, OUT, BATCH] = [784, 256, 10, 64]

/** Glorot-uniform weights, small biases, inputs in [-1, 1), labels in [0, 10) */
export const mlpData = {
  w1: randomFloats(IN * HIDDEN, 11, Math.sqrt(6 / (IN + HIDDEN))),
  b1: randomFloats(HIDDEN, 12, 0.1),
  w2: randomFloats(HIDDEN * OUT, 13, Math.sqrt(6 / (HIDDEN + OUT))),
  b2: randomFloats(OUT, 14, 0.1),
  x: randomFloats(BATCH * IN, 15),
  labels: randomLabels(BATCH, OUT, 16),
}

/** loss, then the gradients of w1, b1, w2, b2, as one flat array for the check column */
export const flat = (parts: readonly ArrayLike<number>[]): Float32Array => {
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0))
  let k = 0
  for (const p of parts) (out.set(p, k), (k += p.length))
  return out
}

/** Ours: `jit(valueAndGrad(loss))` on `backend`, loss and gradients read back with `dataSync`. */
export const oursMlp = (lib: Ours, backend: string): Contender => {
  const { core, ad } = lib
  const { add, fromArray, matmul } = core
  type Params = { w1: Tensor; b1: Tensor; w2: Tensor; b2: Tensor }
  const { params, x, y } = core.withBackend(backend, () => ({
    params: {
      w1: fromArray(mlpData.w1, [IN, HIDDEN]),
      b1: fromArray(mlpData.b1, [HIDDEN]),
      w2: fromArray(mlpData.w2, [HIDDEN, OUT]),
      b2: fromArray(mlpData.b2, [OUT]),
    } as Params,
    x: fromArray(mlpData.x, [BATCH, IN]),
    y: fromArray(mlpData.labels, [BATCH], 'int32'),
  }))
  const loss = (p: Params, x: Tensor, y: Tensor): Tensor => ad.nn.crossEntropy(add(matmul(ad.nn.relu(add(matmul(x, p.w1), p.b1)), p.w2), p.b2), y)
  const step = ad.jit(ad.valueAndGrad(loss))
  let out: Float32Array | undefined
  return {
    step: () =>
      core.scope(() => {
        const [l, g] = step(params, x, y) as [Tensor, Params]
        out = flat([l.dataSync(), g.w1.dataSync(), g.b1.dataSync(), g.w2.dataSync(), g.b2.dataSync()])
      }),
    output: () => out!.slice(),
    note: () => step.describe(params, x, y),
    dispose: () => core.dispose([params, x, y]),
  }
}

/**
 * jax-js `jit(valueAndGrad(loss))` on the shared data: `run` computes the loss
 * and gradients and reads them back flat with `dataSync`, `runAsync` the same
 * with `await data()` (in a browser, kernels on jax-js's Web Workers);
 * `dispose` frees the arrays and the jit.
 */
export const jaxMlp = (jax: Jax): { run: () => Float32Array; runAsync: () => Promise<Float32Array>; dispose: () => void } => {
  const { numpy: np, nn } = jax
  type A = ReturnType<typeof np.array>
  type Params = { w1: A; b1: A; w2: A; b2: A }
  const params: Params = {
    w1: np.array(mlpData.w1).reshape([IN, HIDDEN]),
    b1: np.array(mlpData.b1),
    w2: np.array(mlpData.w2).reshape([HIDDEN, OUT]),
    b2: np.array(mlpData.b2),
  }
  const x = np.array(mlpData.x).reshape([BATCH, IN])
  const y = np.array(mlpData.labels, { dtype: np.int32 })
  // jax-js arrays are reference-counted and every op consumes its arguments; each input is used once here
  const loss = (p: Params, x: A, y: A): A => {
    const logits = np.matmul(nn.relu(np.matmul(x, p.w1).add(p.b1)), p.w2).add(p.b2)
    return nn.logSoftmax(logits).mul(nn.oneHot(y, OUT)).sum(-1).mean().neg()
  }
  const step = jax.jit(jax.valueAndGrad(loss))
  return {
    run: () => {
      const [l, g] = step(jax.tree.ref(params), x.ref, y.ref) as [A, Params]
      // dataSync consumes each result
      return flat([l.dataSync(), g.w1.dataSync(), g.b1.dataSync(), g.w2.dataSync(), g.b2.dataSync()])
    },
    runAsync: async () => {
      const [l, g] = step(jax.tree.ref(params), x.ref, y.ref) as [A, Params]
      return flat(await Promise.all([l.data(), g.w1.data(), g.b1.data(), g.w2.data(), g.b2.data()]))
    },
    dispose: () => {
      jax.tree.dispose([params, x, y])
      step.dispose()
    },
  }
}

/** `jaxMlp` as a contender, its results read with `dataSync` (`read` `'sync'`) or `await data()`. */
export const jaxMlpContender = (jax: Jax, read: JaxRead): Contender => {
  const m = jaxMlp(jax)
  let out: Float32Array | undefined
  return {
    step: read === 'sync' ? () => void (out = m.run()) : async () => void (out = await m.runAsync()),
    output: () => out!.slice(),
    dispose: m.dispose,
  }
}
