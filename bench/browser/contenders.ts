/**
 * The tables of bench/browser.ts, built in the page from the workloads of
 * bench/wasm.ts (bench/src/adam.ts, matmul.ts, mlp.ts: same data, same
 * math): ours on cpu-wasm with one thread and with all, the hand-written
 * SIMD floor, a plain fused JS loop, jax-js `jit` read synchronously
 * (`dataSync`: kernels on the page's thread) and asynchronously (`await
 * data()`: kernels on its Web Worker pool), and tfjs-wasm (its threaded SIMD
 * build where the page is cross-origin isolated).
 */
import { floorAdam, jaxAdam, oursAdam, plainAdam, tfAdam } from '../src/adam'
import type { Contender, Frugal, Jax, JaxRead, Maker, Ours, Tf } from '../src/contenders'
import { jaxMatmul, oursMatmul, tfMatmul } from '../src/matmul'
import { jaxMlpContender, oursMlp } from '../src/mlp'
import type { Role } from './api'

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
  readonly frugal: Frugal
  readonly jax: () => Jax
  readonly tf: () => Tf
}

const JAX_LABEL: Record<JaxRead, string> = { sync: 'dataSync, page thread, 1 thread', async: 'await data(), Web Workers' }
/** The name of a jax-js row. */
const jaxName = (what: string, read: JaxRead): string => `jax-js ${what} (${JAX_LABEL[read]})`

/**
 * The rows every table has, named after `what` each runs: ours on one thread
 * and on all, and jax-js read both ways; each contender is made (and a
 * library that did not load throws) when the table runs.
 */
const oursAndJax = (
  lib: Libraries,
  on: Setting,
  what: { readonly ours: string; readonly jax: string },
  ours: (lib: Libraries, backend: string) => Contender,
  jax: (jax: Jax, read: JaxRead) => Contender,
) => {
  const names = {
    ours1: `ours: ${what.ours} cpu-wasm, 1 thread`,
    oursN: `ours: ${what.ours} cpu-wasm, ${on.threads} threads`,
    jaxSync: jaxName(what.jax, 'sync'),
    jaxAsync: jaxName(what.jax, 'async'),
  }
  const rows: Record<keyof typeof names, Maker> = {
    ours1: [names.ours1, () => ours(lib, 'cpu-wasm-1t')],
    oursN: [names.oursN, () => ours(lib, 'cpu-wasm')],
    jaxSync: [names.jaxSync, () => jax(lib.jax(), 'sync')],
    jaxAsync: [names.jaxAsync, () => jax(lib.jax(), 'async')],
  }
  return { names, rows }
}

/** The Adam table; its ratios are taken against the floor. */
export const adamTable = (lib: Libraries, on: Setting): Table => {
  const { names, rows } = oursAndJax(lib, on, { ours: 'jit(adam)', jax: 'jit (same math)' }, oursAdam, jaxAdam)
  const roles = { floor: 'SIMD floor (hand-written wasm, 1 thread)', ...names, tf: `tf.train.adam tfjs-wasm (${on.tf})` }
  return {
    roles,
    makers: [
      [roles.floor, floorAdam],
      rows.ours1,
      rows.oursN,
      ['plain fused JS loop, 1 thread', plainAdam],
      rows.jaxSync,
      rows.jaxAsync,
      [roles.tf, () => tfAdam(lib.tf())],
    ],
  }
}

/** The matmul table; its ratios are taken against tfjs-wasm. */
export const matmulTable = (lib: Libraries, on: Setting): Table => {
  const { names, rows } = oursAndJax(lib, on, { ours: 'jit(matmul)', jax: 'jit' }, oursMatmul, jaxMatmul)
  const roles = { ...names, tf: `tfjs-wasm (${on.tf})` }
  return { roles, makers: [rows.ours1, rows.oursN, [roles.tf, () => tfMatmul(lib.tf())], rows.jaxSync, rows.jaxAsync] }
}

/** The MLP table; its ratios are taken against jax-js read synchronously, as in bench/wasm.ts. */
export const mlpTable = (lib: Libraries, on: Setting): Table => {
  const { names, rows } = oursAndJax(lib, on, { ours: 'jit(valueAndGrad)', jax: 'jit(valueAndGrad)' }, oursMlp, jaxMlpContender)
  return { roles: names, makers: [rows.ours1, rows.oursN, rows.jaxSync, rows.jaxAsync] }
}
