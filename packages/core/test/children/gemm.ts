/**
 * Child of wasm-fma.test.ts: runs the wasm GEMM (the model's skinny shapes
 * and ragged tile edges) in this
 * process's configuration (FRUGAL_WASM_FMA decides the kernel) and prints
 * the path and, per case, the largest error against a float64 product and
 * the bits of the first results.
 */
import { Key, cpu, matmul, registerBackend, setBackend } from '../../src/index'

registerBackend('cpu-1t', () => cpu({ wasm: true, threads: 1 }))
setBackend('cpu-1t')
const cases: [number, number, number][] = [
  [512, 64, 64], [64, 512, 176], [7, 300, 13], [129, 257, 33], [1, 1000, 5],
]
const ref = (a: Float32Array, b: Float32Array, m: number, k: number, n: number): Float64Array => {
  const c = new Float64Array(m * n)
  for (let i = 0; i < m; i++) for (let p = 0; p < k; p++) for (let j = 0; j < n; j++) c[i * n + j] += a[i * k + p] * b[p * n + j]
  return c
}
const rows = cases.map(([m, k, n], i) => {
  const [ka, kb] = Key.splitKeys(Key.key(i + 1), 2)
  const a = Key.normal(ka, [m, k])
  const b = Key.normal(kb, [k, n])
  const want = ref(a.dataSync() as Float32Array, b.dataSync() as Float32Array, m, k, n)
  const got = matmul(a, b).dataSync()
  let worst = 0
  // in units of k·ε (float32 ε = 2⁻²³): the scale of a length-k float32 dot product's rounding error
  for (let j = 0; j < got.length; j++) worst = Math.max(worst, Math.abs(got[j] - want[j]) / (k * 2 ** -23))
  return { m, k, n, error: worst, bits: Array.from(new Uint32Array(got.buffer, got.byteOffset, Math.min(64, got.length))) }
})
console.log(JSON.stringify({ path: cpu({ wasm: true, threads: 1 }).path, rows }))
