/**
 * Child process of jit-eviction.test.ts: one `jit` with `cacheLimit: 4` called
 * with 100 distinct signatures (a small MLP-like program on ever new batch
 * sizes and argument structures), reporting backend bytes, wasm heap use and process RSS after each
 * call, as JSON on stdout. Run in its own process so RSS means this program only.
 */
import type { Tensor } from '@frugal-ts/core'
import { add, currentBackend, dispose, matmul, memory, ones, scope, sum, tanh, withBackend } from '@frugal-ts/core'
import { jit } from '@frugal-ts/autodiff'

const addN = (xs: Tensor[]) => xs.reduce((a, b) => add(a, b))
const backend = process.argv[2] ?? 'cpu'
const calls = Number(process.argv[3] ?? 100)
const samples: { call: number; rss: number; bytes: number; tensors: number }[] = []
withBackend(backend, () => {
  const w = ones([512, 512])
  const f = jit((x: Tensor, extra: Tensor[]) => add(sum(tanh(matmul(tanh(matmul(x, w)), w))), addN(extra)), { cacheLimit: 4 })
  for (let i = 0; i < calls; i++) {
    // every call a new signature (batch size and argument structure): a new program and workspace
    scope(() => f(ones([256 + (i % 10), 512]), Array.from({ length: 1 + Math.floor(i / 10) }, () => ones([]))).item())
    if (global.gc) global.gc()
    const m = memory(currentBackend())
    samples.push({ call: i, rss: process.memoryUsage().rss, bytes: m.bytes, tensors: m.tensors })
  }
  process.stdout.write(JSON.stringify({ traces: f.traceCount, cached: f.cacheSize, samples }) + '\n')
  f.clear()
  dispose(w)
})
