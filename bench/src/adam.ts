/**
 * The Adam workload shared by bench/wasm.ts and the browser bench: one step
 * over 10 M float32 parameters (10 leaves of 1000×1000), the same data for
 * every contender (two gradient sets, used in turn), and its contenders: a
 * plain fused Float32Array loop, the hand-written SIMD floor, ours
 * (`jit(adam)` + `applyUpdates`, state and params donated), tf.train.adam,
 * and the same math under jax-js `jit`. Each is built from libraries the
 * caller loaded (a Node script and the page load them differently).
 */
import type { Tensor } from '@frugal-ts/core'
import type { Contender, Frugal, Jax, JaxRead, Ours, Tf } from './contenders'
import { once, randomFloats } from './contenders'
import type { AdamHyper } from './floors'
import { floors } from './floors'

export const [ROWS, COLS, LEAVES] = [1000, 1000, 10]
/** floats per leaf */
export const SIZE = ROWS * COLS
/** parameters in the Adam step */
export const ADAM_PARAMS = SIZE * LEAVES
export const [LR, B1, B2, EPS] = [1e-3, 0.9, 0.999, 1e-8]
/** the same hyperparameters, as the floors take them */
export const HYPER: AdamHyper = { lr: LR, b1: B1, b2: B2, eps: EPS }

/** The parameters and the two gradient sets (seeded), made once on first use. */
export const adamData = once(() => ({
  params: Array.from({ length: LEAVES }, (_, i) => randomFloats(SIZE, 101 + i)),
  grads: [0, 1].map((k) => Array.from({ length: LEAVES }, (_, i) => randomFloats(SIZE, 1001 + 100 * k + i, 0.01))),
}))

/** Adam as one fused loop per leaf over Float32Arrays, in plain JS. */
export const plainAdam = (): Contender => {
  const { params, grads } = adamData()
  const p = params.map((a) => a.slice())
  const m = p.map(() => new Float32Array(SIZE))
  const v = p.map(() => new Float32Array(SIZE))
  let t = 0
  return {
    step: () => {
      t++
      const g = grads[(t - 1) & 1]
      const s1 = 1 / (1 - B1 ** t)
      const s2 = 1 / (1 - B2 ** t)
      for (let j = 0; j < LEAVES; j++) {
        const [pj, mj, vj, gj] = [p[j], m[j], v[j], g[j]]
        for (let i = 0; i < SIZE; i++) {
          const gi = gj[i]
          const mi = B1 * mj[i] + (1 - B1) * gi
          const vi = B2 * vj[i] + (1 - B2) * gi * gi
          mj[i] = mi
          vj[i] = vi
          pj[i] -= (LR * (mi * s1)) / (Math.sqrt(vi * s2) + EPS)
        }
      }
    },
    output: () => p[0].slice(),
    dispose: () => {},
  }
}

/** The memory-bandwidth floor: bench/src/floors.ts's hand-written SIMD loop, one thread. */
export const floorAdam = (): Contender => {
  const { params, grads } = adamData()
  const f = floors(SIZE, LEAVES, HYPER)
  f.load(params, grads)
  let t = 0
  return { step: () => f.step(++t, (t - 1) & 1), output: () => f.param(0), dispose: () => {} }
}

/** Ours: `jit` of the `adam` alias's update + `applyUpdates` on `backend`, state and params donated. */
export const oursAdam = (lib: Ours & { readonly frugal: Frugal }, backend: string): Contender => {
  const { core, ad, frugal: fr } = lib
  const { params: hostParams, grads: hostGrads } = adamData()
  type Params = Tensor[]
  const made = core.withBackend(backend, () => ({
    params: hostParams.map((a) => core.fromArray(a, [ROWS, COLS])) as Params,
    grads: hostGrads.map((set) => set.map((a) => core.fromArray(a, [ROWS, COLS])) as Params),
  }))
  let params = made.params
  const tx = fr.adam(LR, { b1: B1, b2: B2, eps: EPS })
  let state: unknown = core.withBackend(backend, () => tx.init(params))
  const jitted = ad.jit(
    (g: Params, s: unknown, p: Params) => {
      const r = tx.update(g, s as never, p)
      return { params: fr.applyUpdates(p, r.updates) as Params, state: r.state }
    },
    { donate: [1, 2] },
  )
  let k = 0
  return {
    step: () => {
      const out = jitted(made.grads[k++ & 1], state, params)
      params = out.params
      state = out.state
    },
    output: () => Float32Array.from(params[0].dataSync() as Float32Array),
    note: () => jitted.describe(made.grads[0], state, params),
    dispose: () => core.dispose([params, state, made.grads]),
  }
}

/** tf.train.adam on tfjs's current backend; each step reads one element of the last leaf. */
export const tfAdam = (tf: Tf): Contender => {
  const { params, grads: hostGrads } = adamData()
  const vars = params.map((a, i) => tf.variable(tf.tensor2d(a, [ROWS, COLS]), true, `bench/adam/${i}`))
  const grads = hostGrads.map((set) => set.map((a, i) => ({ name: `bench/adam/${i}`, tensor: tf.tensor2d(a, [ROWS, COLS]) })))
  const opt = tf.train.adam(LR, B1, B2, EPS)
  let k = 0
  return {
    step: () => {
      opt.applyGradients(grads[k++ & 1])
      tf.tidy(() => tf.slice(vars[LEAVES - 1], [ROWS - 1, COLS - 1], [1, 1]).dataSync())
    },
    output: () => Float32Array.from(vars[0].dataSync() as Float32Array),
    dispose: () => {
      opt.dispose()
      tf.dispose([...vars, ...grads.flatMap((g) => g.map((x) => x.tensor))])
    },
  }
}

/**
 * jax-js `jit` of the same math, one call per leaf. Its arrays are lazy and
 * a jitted call's outputs carry the pending work of its inputs, so each step
 * finishes every leaf (a one-element `dataSync` of each, or `blockUntilReady`
 * when `read` is `'async'`), not only the one it reads: otherwise the other
 * leaves' updates pile up unrun from step to step.
 */
export const jaxAdam = (jax: Jax, read: JaxRead): Contender => {
  const np = jax.numpy
  type A = ReturnType<typeof np.array>
  const { params, grads: hostGrads } = adamData()
  const p: A[] = params.map((a) => np.array(a))
  const m: A[] = p.map(() => np.zeros([SIZE]))
  const v: A[] = p.map(() => np.zeros([SIZE]))
  const grads = hostGrads.map((set) => set.map((a) => np.array(a)))
  // one jit over the whole tree, as ours is one program: every leaf's update in one call.
  // Arrays are reference-counted and ops consume their arguments: `.ref` where a value is used again
  const update = jax.jit((ps: A[], ms: A[], vs: A[], gs: A[], s1: A, s2: A) => {
    const out = ps.map((p, j) => {
      const g = gs[j]
      const m2 = ms[j].mul(B1).add(g.ref.mul(1 - B1))
      const v2 = vs[j].mul(B2).add(g.ref.mul(g).mul(1 - B2))
      const last = j === ps.length - 1
      const u = m2.ref.mul(last ? s1 : s1.ref).div(np.sqrt(v2.ref.mul(last ? s2 : s2.ref)).add(EPS)).mul(LR)
      return [p.sub(u), m2, v2] as const
    })
    return [out.map((o) => o[0]), out.map((o) => o[1]), out.map((o) => o[2])]
  })
  let t = 0
  const dispatch = () => {
    t++
    const g = grads[(t - 1) & 1]
    const s1 = np.array([1 / (1 - B1 ** t)])
    const s2 = np.array([1 / (1 - B2 ** t)])
    const [p2, m2, v2] = update(p, m, v, g.map((x) => x.ref), s1, s2) as unknown as [A[], A[], A[]]
    for (let j = 0; j < LEAVES; j++) [p[j], m[j], v[j]] = [p2[j], m2[j], v2[j]]
  }
  return {
    step:
      read === 'sync'
        ? () => {
            dispatch()
            for (const x of p) x.ref.slice([SIZE - 1]).dataSync()
          }
        : async () => {
            dispatch()
            await jax.blockUntilReady(p)
          },
    output: async () => Float32Array.from((read === 'sync' ? p[0].ref.dataSync() : await p[0].ref.data()) as Float32Array),
    dispose: () => {
      jax.tree.dispose([p, m, v, grads])
      update.dispose()
    },
  }
}
