/**
 * The matmul 512² workload shared by bench/wasm.ts and the browser bench: the
 * same two seeded matrices for every contender, and its contenders (ours
 * `jit(matmul)`, tfjs, jax-js `jit`), each reading the whole product back
 * every step. Each is built from libraries the caller loaded.
 */
import type { Tensor } from '@frugal-ts/core'
import type { Contender, Jax, JaxRead, Ours, Tf } from './contenders'
import { once, randomFloats } from './contenders'

/** the matmul's size: N×N times N×N */
export const N = 512

/** The two factors, made once on first use. */
export const matmulData = once(() => ({ a: randomFloats(N * N, 1), b: randomFloats(N * N, 2) }))

/** Ours: `jit(matmul)` on `backend`, the product read with `dataSync`. */
export const oursMatmul = (lib: Ours, backend: string): Contender => {
  const { core, ad } = lib
  const { a, b } = matmulData()
  const [A, B] = core.withBackend(backend, () => [core.fromArray(a, [N, N]), core.fromArray(b, [N, N])])
  const mm = ad.jit((x: Tensor, y: Tensor) => core.matmul(x, y))
  let out: Float32Array | undefined
  return {
    step: () => core.scope(() => void (out = mm(A, B).dataSync() as Float32Array)),
    output: () => out!.slice(),
    note: () => mm.describe(A, B),
    dispose: () => core.dispose([A, B]),
  }
}

/** `tf.matMul` on tfjs's current backend, the product read with `dataSync`. */
export const tfMatmul = (tf: Tf): Contender => {
  const { a, b } = matmulData()
  const [A, B] = [tf.tensor2d(a, [N, N]), tf.tensor2d(b, [N, N])]
  let out: Float32Array | undefined
  return {
    step: () => tf.tidy(() => void (out = tf.matMul(A, B).dataSync() as Float32Array)),
    output: () => out!.slice(),
    dispose: () => tf.dispose([A, B]),
  }
}

/** jax-js `jit(matmul)`, the product read with `dataSync` (`read` `'sync'`) or `await data()`. */
export const jaxMatmul = (jax: Jax, read: JaxRead): Contender => {
  const np = jax.numpy
  const { a, b } = matmulData()
  const [A, B] = [np.array(a).reshape([N, N]), np.array(b).reshape([N, N])]
  const mm = jax.jit((x: typeof A, y: typeof A) => np.matmul(x, y))
  let out: Float32Array | undefined
  return {
    step:
      read === 'sync'
        ? () => void (out = mm(A.ref, B.ref).dataSync() as Float32Array)
        : async () => void (out = (await mm(A.ref, B.ref).data()) as Float32Array),
    output: () => out!.slice(),
    dispose: () => (A.dispose(), B.dispose(), mm.dispose()),
  }
}
