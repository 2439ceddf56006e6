/**
 * The MLP 784-256-10 workload shared by the bench scripts: its sizes, the same
 * data for every contender, the flattening of (loss, gradients) for the check
 * column, and the jax-js `jit(valueAndGrad)` contender.
 */
import type { Jax } from './contenders'
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

/**
 * jax-js `jit(valueAndGrad(loss))` on the shared data: `run` computes the loss
 * and gradients and reads them back flat; `dispose` frees the arrays and the jit.
 */
export const jaxMlp = (jax: Jax): { run: () => Float32Array; dispose: () => void } => {
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
    dispose: () => {
      jax.tree.dispose([params, x, y])
      step.dispose()
    },
  }
}
