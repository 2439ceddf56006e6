/**
 * The contenders of bench/browser.ts's tables, built in the page: the
 * workloads of bench/wasm.ts (same data, same math), on our cpu-wasm
 * backend with one thread and with all, the hand-written SIMD floor, a
 * plain fused JS loop, jax-js `jit` read synchronously (`dataSync`: kernels
 * on the page's thread) and asynchronously (`await data()`: kernels on its
 * Web Worker pool), and tfjs-wasm (its threaded SIMD build where the page is
 * cross-origin isolated).
 */
import type { Tensor } from '@frugal-ts/core'
import { randomFloats } from '../src/contenders'
import type { Jax, Ours, Tf } from '../src/contenders'
import { BATCH, HIDDEN, IN, OUT, flat, jaxMlp, mlpData } from '../src/mlp'
import type { Role } from './api'
import { floors } from '../src/floors'

/** A contender ready to run: `step` (or the promise it returns) finishes its work before returning. */
export interface Contender {
  step(): void | Promise<void>
  output?(): Float32Array | Promise<Float32Array>
  dispose(): void
  /** a line about what ran (e.g. the compiled program) */
  note?(): string
}

/** A named maker of a contender. */
export type Maker = readonly [name: string, make: () => Contender | Promise<Contender>]

/** A table's contenders, and the name of the row playing each part. */
export interface Table {
  readonly makers: readonly Maker[]
  readonly roles: Partial<Record<Role, string>>
}

/** What the row names say about the threads: our all-threads backend's count, and tfjs-wasm's build. */
export interface Setting {
  readonly threads: number
  /** e.g. 'threaded SIMD, 2 threads' */
  readonly tf: string
}

/** The libraries under comparison; a library that failed to load throws its reason when asked for. */
export interface Libraries extends Ours {
  readonly frugal: typeof import('@frugal-ts/frugal')
  readonly jax: () => Jax
  readonly tf: () => Tf
}

/** How jax-js rows read their results: `dataSync` runs kernels on the page's thread, `await data()` on jax-js's worker pool. */
export type JaxRead = 'sync' | 'async'
const JAX_LABEL: Record<JaxRead, string> = { sync: 'dataSync, page thread', async: 'await data(), Web Workers' }
/** The name of a jax-js row. */
const jaxName = (what: string, read: JaxRead): string => `jax-js ${what} (${JAX_LABEL[read]})`

// ------------------------------------------------------------------ Adam

const [ROWS, COLS, LEAVES] = [1000, 1000, 10]
const SIZE = ROWS * COLS
const [LR, B1, B2, EPS] = [1e-3, 0.9, 0.999, 1e-8]
/** parameters in the Adam step */
export const ADAM_PARAMS = SIZE * LEAVES

/** Adam's data (as bench/wasm.ts: the same seeds), made once on first use. */
const adamData = (() => {
  let made: { params: Float32Array[]; grads: Float32Array[][] } | undefined
  return () =>
    (made ??= {
      params: Array.from({ length: LEAVES }, (_, i) => randomFloats(SIZE, 101 + i)),
      grads: [0, 1].map((k) => Array.from({ length: LEAVES }, (_, i) => randomFloats(SIZE, 1001 + 100 * k + i, 0.01))),
    })
})()

const plainAdam = (): Contender => {
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

const floorAdam = (): Contender => {
  const { params, grads } = adamData()
  const f = floors(SIZE, LEAVES, { lr: LR, b1: B1, b2: B2, eps: EPS })
  f.load(params, grads)
  let t = 0
  return { step: () => f.step(++t, (t - 1) & 1), output: () => f.param(0), dispose: () => {} }
}

const oursAdam = (lib: Libraries, backend: string) => (): Contender => {
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

const tfAdam = (lib: Libraries) => (): Contender => {
  const tf = lib.tf()
  const { params, grads: hostGrads } = adamData()
  const vars = params.map((a, i) => tf.variable(tf.tensor2d(a, [ROWS, COLS]), true, `bench-browser/adam/${i}`))
  const grads = hostGrads.map((set) => set.map((a, i) => ({ name: `bench-browser/adam/${i}`, tensor: tf.tensor2d(a, [ROWS, COLS]) })))
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
 * finishes every leaf (a one-element read of each, or `blockUntilReady`),
 * not only the one it reads: otherwise the other leaves' updates pile up
 * unrun from step to step.
 */
const jaxAdam = (lib: Libraries, read: JaxRead) => (): Contender => {
  const jax = lib.jax()
  const np = jax.numpy
  type A = ReturnType<typeof np.array>
  const { params, grads: hostGrads } = adamData()
  const p: A[] = params.map((a) => np.array(a))
  const m: A[] = p.map(() => np.zeros([SIZE]))
  const v: A[] = p.map(() => np.zeros([SIZE]))
  const grads = hostGrads.map((set) => set.map((a) => np.array(a)))
  // arrays are reference-counted and ops consume their arguments: `.ref` where a value is used twice
  const update = jax.jit((p: A, m: A, v: A, g: A, s1: A, s2: A) => {
    const m2 = m.mul(B1).add(g.ref.mul(1 - B1))
    const v2 = v.mul(B2).add(g.ref.mul(g).mul(1 - B2))
    const u = m2.ref.mul(s1).div(np.sqrt(v2.ref.mul(s2)).add(EPS)).mul(LR)
    return [p.sub(u), m2, v2]
  })
  let t = 0
  const dispatch = () => {
    t++
    const g = grads[(t - 1) & 1]
    const s1 = np.array([1 / (1 - B1 ** t)])
    const s2 = np.array([1 / (1 - B2 ** t)])
    for (let j = 0; j < LEAVES; j++) [p[j], m[j], v[j]] = update(p[j], m[j], v[j], g[j].ref, s1.ref, s2.ref) as A[]
    s1.dispose()
    s2.dispose()
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

/** The Adam table; its ratios are taken against the floor. */
export const adamTable = (lib: Libraries, on: Setting): Table => {
  const roles = {
    floor: 'SIMD floor (hand-written wasm, 1 thread)',
    ours1: 'ours: jit(adam) cpu-wasm, 1 thread',
    oursN: `ours: jit(adam) cpu-wasm, ${on.threads} threads`,
    jaxSync: jaxName('jit (same math)', 'sync'),
    jaxAsync: jaxName('jit (same math)', 'async'),
    tf: `tf.train.adam tfjs-wasm (${on.tf})`,
  }
  return {
    roles,
    makers: [
      [roles.floor, floorAdam],
      [roles.ours1, oursAdam(lib, 'cpu-wasm-1t')],
      [roles.oursN, oursAdam(lib, 'cpu-wasm')],
      ['plain fused JS loop', plainAdam],
      [roles.jaxSync, jaxAdam(lib, 'sync')],
      [roles.jaxAsync, jaxAdam(lib, 'async')],
      [roles.tf, tfAdam(lib)],
    ],
  }
}

// ------------------------------------------------------------------ matmul

/** the matmul's size */
export const N = 512
const mmData = (() => {
  let made: { a: Float32Array; b: Float32Array } | undefined
  return () => (made ??= { a: randomFloats(N * N, 1), b: randomFloats(N * N, 2) })
})()

const oursMatmul = (lib: Libraries, backend: string) => (): Contender => {
  const { core, ad } = lib
  const { a, b } = mmData()
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

const tfMatmul = (lib: Libraries) => (): Contender => {
  const tf = lib.tf()
  const { a, b } = mmData()
  const [A, B] = [tf.tensor2d(a, [N, N]), tf.tensor2d(b, [N, N])]
  let out: Float32Array | undefined
  return {
    step: () => tf.tidy(() => void (out = tf.matMul(A, B).dataSync() as Float32Array)),
    output: () => out!.slice(),
    dispose: () => tf.dispose([A, B]),
  }
}

const jaxMatmul = (lib: Libraries, read: JaxRead) => (): Contender => {
  const jax = lib.jax()
  const np = jax.numpy
  const { a, b } = mmData()
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

/** The matmul table; its ratios are taken against tfjs-wasm. */
export const matmulTable = (lib: Libraries, on: Setting): Table => {
  const roles = {
    ours1: 'ours: jit(matmul) cpu-wasm, 1 thread',
    oursN: `ours: jit(matmul) cpu-wasm, ${on.threads} threads`,
    tf: `tfjs-wasm (${on.tf})`,
    jaxSync: jaxName('jit', 'sync'),
    jaxAsync: jaxName('jit', 'async'),
  }
  return {
    roles,
    makers: [
      [roles.ours1, oursMatmul(lib, 'cpu-wasm-1t')],
      [roles.oursN, oursMatmul(lib, 'cpu-wasm')],
      [roles.tf, tfMatmul(lib)],
      [roles.jaxSync, jaxMatmul(lib, 'sync')],
      [roles.jaxAsync, jaxMatmul(lib, 'async')],
    ],
  }
}

// ------------------------------------------------------------------ MLP

const oursMlp = (lib: Libraries, backend: string) => (): Contender => {
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

/** jax-js `jit(valueAndGrad)` read synchronously: bench/src/mlp.ts's contender, as in bench/wasm.ts. */
const jaxMlpSync = (lib: Libraries) => (): Contender => {
  const m = jaxMlp(lib.jax())
  let out: Float32Array | undefined
  return { step: () => void (out = m.run()), output: () => out!.slice(), dispose: m.dispose }
}

/** The same as bench/src/mlp.ts's `jaxMlp`, its results read with `await data()`, so its kernels run on jax-js's workers. */
const jaxMlpAsync = (lib: Libraries) => (): Contender => {
  const jax = lib.jax()
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
  const loss = (p: Params, x: A, y: A): A => {
    const logits = np.matmul(nn.relu(np.matmul(x, p.w1).add(p.b1)), p.w2).add(p.b2)
    return nn.logSoftmax(logits).mul(nn.oneHot(y, OUT)).sum(-1).mean().neg()
  }
  const step = jax.jit(jax.valueAndGrad(loss))
  let out: Float32Array | undefined
  return {
    step: async () => {
      const [l, g] = step(jax.tree.ref(params), x.ref, y.ref) as [A, Params]
      out = flat(await Promise.all([l.data(), g.w1.data(), g.b1.data(), g.w2.data(), g.b2.data()]))
    },
    output: () => out!.slice(),
    dispose: () => {
      jax.tree.dispose([params, x, y])
      step.dispose()
    },
  }
}

/** The MLP table; its ratios are taken against jax-js read synchronously, as in bench/wasm.ts. */
export const mlpTable = (lib: Libraries, on: Setting): Table => {
  const roles = {
    ours1: 'ours: jit(valueAndGrad) cpu-wasm, 1 thread',
    oursN: `ours: jit(valueAndGrad) cpu-wasm, ${on.threads} threads`,
    jaxSync: jaxName('jit(valueAndGrad)', 'sync'),
    jaxAsync: jaxName('jit(valueAndGrad)', 'async'),
  }
  return {
    roles,
    makers: [
      [roles.ours1, oursMlp(lib, 'cpu-wasm-1t')],
      [roles.oursN, oursMlp(lib, 'cpu-wasm')],
      [roles.jaxSync, jaxMlpSync(lib)],
      [roles.jaxAsync, jaxMlpAsync(lib)],
    ],
  }
}
