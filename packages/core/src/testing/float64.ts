import type { Backend, KernelTable, MemoryInfo } from '../Backend'
import type { TypedArray } from '../DType'
import { alloc } from '../DType'
import type { Aval, Primitive } from '../Primitive'
import * as S from '../Shape'
import { prepare } from '../internal/cpu/kernels'
import type { Prepared } from '../internal/cpu/types'

/** Row-major strides of `batch` broadcast from `shape` (0 along broadcast axes), in units of one matrix. */
const batchStrides = (shape: readonly number[], batch: readonly number[]): number[] => {
  const lead = batch.length - shape.length
  const out = new Array<number>(batch.length).fill(0)
  let s = 1
  for (let i = batch.length - 1; i >= lead; i--) {
    const d = shape[i - lead]
    out[i] = d === 1 ? 0 : s
    s *= d
  }
  return out
}

/** Batched, broadcast matmul in float64: the plainest triple loop, one matrix pair at a time. */
const matmul64 = (avals: readonly Aval[], out: Aval) => (x: readonly TypedArray[], o: TypedArray): void => {
  const [a, b] = avals
  const r = out.shape.length
  const [m, n] = [out.shape[r - 2], out.shape[r - 1]]
  const k = a.shape[a.shape.length - 1]
  const batch = out.shape.slice(0, -2)
  const as = batchStrides(a.shape.slice(0, -2), batch)
  const bs = batchStrides(b.shape.slice(0, -2), batch)
  for (let t = 0; t < S.size(batch); t++) {
    let ai = 0
    let bi = 0
    for (let i = batch.length - 1, rest = t; i >= 0; i--) {
      const c = rest % batch[i]
      rest = Math.floor(rest / batch[i])
      ai += c * as[i]
      bi += c * bs[i]
    }
    for (let i = 0; i < m; i++)
      for (let j = 0; j < n; j++) {
        let s = 0
        for (let l = 0; l < k; l++) s += x[0][ai * m * k + i * k + l] * x[1][bi * k * n + l * n + j]
        o[t * m * n + i * n + j] = s
      }
  }
}

/**
 * A float64 host reference backend, for finite differences that are not
 * swamped by float32 rounding: float32 tensors are held as Float64Array (the
 * cpu backend's plain JS loops, which are generic over the array type, run on
 * them and store without rounding; matmul is a float64 triple loop), int32
 * and bool as usual. `readSync` returns the Float64Array: reading a float32
 * tensor gives its float64 value. Register it under a name of your choice.
 * @returns a `Backend` named `float64`
 * @example
 * registerBackend('float64', float64Backend)
 * withBackend('float64', () => sum(mul(x, x)).item()) // a float64 sum of float64 products
 */
export const float64Backend = (): Backend<TypedArray> => {
  let tensors = 0
  let bytes = 0
  const fresh = (aval: Aval): TypedArray => {
    const n = S.size(aval.shape)
    // a Float64Array stands in for a float32 array: the kernels only index and store
    const h = aval.dtype === 'float32' ? (new Float64Array(n) as unknown as TypedArray) : alloc(aval.dtype, n)
    tensors++
    bytes += h.byteLength
    return h
  }
  const kernelOf =
    (p: Primitive) =>
    (inputs: readonly TypedArray[], avals: readonly Aval[], params: unknown, out: Aval): TypedArray => {
      const dst = fresh(out)
      const run: Prepared =
        p === 'matmul'
          ? matmul64(avals, out)
          : (prepare[p] as (a: readonly Aval[], q: unknown, o: Aval) => Prepared)(avals, params, out)
      run(inputs, dst)
      return dst
    }
  const kernels = Object.fromEntries((Object.keys(prepare) as Primitive[]).map((p) => [p, kernelOf(p)])) as unknown as KernelTable<TypedArray>
  return {
    name: 'float64',
    fromHost: (data, aval) => {
      const h = fresh(aval)
      h.set(data)
      return h
    },
    readSync: (h) => h.slice(),
    read: async (h) => h.slice(),
    dispose: (h) => {
      tensors--
      bytes -= h.byteLength
    },
    kernels,
    memory: (): MemoryInfo => ({ tensors, bytes }),
  }
}
