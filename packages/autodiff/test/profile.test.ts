import { afterEach, describe, expect, it, vi } from 'vitest'
import type { CpuBackend, Tensor } from '@frugal-ts/core'
import {
  CoreError, cpu, exp, fromArray, getBackend, matmul, mean, mul, registerBackend, scope, sub, sum, tensor, withBackend,
} from '@frugal-ts/core'
import { groupKernels, jit, kernelClass, kernelLabel, nn, profile, valueAndGrad } from '../src'
import { randomTensor } from './fd'

// the cpu backend on its wasm path (1 and 2 threads) and on its JS path: each one's executables time their kernels
registerBackend('prof-wasm-1t', () => cpu({ wasm: true, threads: 1 }))
registerBackend('prof-wasm-2t', () => cpu({ wasm: true, threads: 2 }))
registerBackend('prof-js', () => cpu())
const backends = ['prof-wasm-1t', 'prof-wasm-2t', 'prof-js']

const bits = (t: Tensor) => Array.from(new Uint32Array(new Float32Array(t.dataSync()).buffer))

/** a small training step with every kernel class: gather (embedding), matmuls, reductions, fused elementwise chains, movement */
const lossOf = (p: { embed: Tensor; w: Tensor; head: Tensor }, ids: Tensor, y: Tensor) => {
  const h = nn.rmsNorm(nn.silu(matmul(nn.embedding(p.embed, ids), p.w)))
  return nn.crossEntropy(matmul(h, p.head), y)
}
const stepOf = (p: { embed: Tensor; w: Tensor; head: Tensor }, ids: Tensor, y: Tensor) => {
  const [l, g] = valueAndGrad(lossOf)(p, ids, y)
  return { loss: l, p: { embed: sub(p.embed, mul(g.embed, 0.1)), w: sub(p.w, mul(g.w, 0.1)), head: sub(p.head, mul(g.head, 0.1)) } }
}
const args = () => ({
  p: { embed: randomTensor([11, 8], 1), w: randomTensor([8, 12], 2), head: randomTensor([12, 5], 3) },
  ids: fromArray(Int32Array.from([3, 1, 4, 1, 5, 9, 2, 6]), [2, 4], 'int32'),
  y: fromArray(Int32Array.from([0, 1, 2, 3, 4, 0, 1, 2]), [2, 4], 'int32'),
})

afterEach(() => vi.restoreAllMocks())

describe('profile', () => {
  it.each(backends)('%s: a hand-counted program: one kernel per step, named, classed and timed', (name) =>
    withBackend(name, () => {
      // matmul; exp and mul fuse into one loop; the sum is a reduction: 3 kernels, known by hand
      const f = jit((x: Tensor, w: Tensor) => sum(mul(exp(matmul(x, w)), 2), -1))
      const x = randomTensor([4, 3], 1)
      const w = randomTensor([3, 5], 2)
      scope(() => f(x, w))
      const [, p] = profile(() => {
        for (let i = 0; i < 7; i++) scope(() => f(x, w))
      })
      expect(p.programs).toHaveLength(1)
      const [prog] = p.programs
      expect(prog.runs).toBe(7)
      expect(prog.kernels.map((k) => k.primitives)).toEqual([['matmul'], ['exp', 'mul'], ['reduceSum']])
      expect(prog.kernels.map((k) => k.kernelClass)).toEqual(['matmul', 'elementwise (fused)', 'reduce'])
      expect(prog.kernels.map(kernelLabel)).toEqual(['matmul', 'fused exp+mul', 'reduceSum'])
      expect(prog.kernels[0].shapes).toBe('f32[4,3] f32[3,5] -> f32[4,5]')
      expect(prog.kernels[0].path).toBe(name === 'prof-js' ? 'js' : 'wasm')
      for (const k of prog.kernels) expect(k.runs).toBe(7)
      const kernelMs = prog.kernels.reduce((s, k) => s + k.ms, 0)
      expect(kernelMs).toBeGreaterThan(0)
      expect(kernelMs).toBeLessThanOrEqual(prog.runMs)
      expect(prog.runMs).toBeLessThanOrEqual(p.wallMs)
      expect(p.untimedRuns).toBe(0)
    }),
  )

  it.each(backends)('%s: a training step: kernel counts equal the plan, times add up, results bit-identical with and without', (name) =>
    withBackend(name, () => {
      const step = jit(stepOf)
      const a = args()
      const plain = scope(() => step(a.p, a.ids, a.y))
      const [profiled, p] = profile(() => {
        let r = plain
        for (let i = 0; i < 5; i++) r = scope(() => step(a.p, a.ids, a.y))
        return r
      })
      expect(bits(profiled.loss)).toEqual(bits(plain.loss))
      for (const k of ['embed', 'w', 'head'] as const) expect(bits(profiled.p[k])).toEqual(bits(plain.p[k]))
      const exe = (getBackend(name) as CpuBackend).compile(step.lower(a.p, a.ids, a.y))
      expect(p.programs).toHaveLength(1)
      const [prog] = p.programs
      expect(prog.kernels).toHaveLength(exe.kernels)
      expect(prog.kernels.filter((k) => k.kind === 'fused')).toHaveLength(exe.fused)
      expect(prog.runs).toBe(5)
      const classes = new Set(prog.kernels.map((k) => k.kernelClass))
      for (const c of ['matmul', 'gather/scatter', 'reduce', 'elementwise (fused)']) expect(classes).toContain(c)
      const kernelMs = prog.kernels.reduce((s, k) => s + k.ms, 0)
      expect(kernelMs).toBeGreaterThan(0)
      expect(kernelMs).toBeLessThanOrEqual(prog.runMs)
      expect(prog.runMs).toBeLessThanOrEqual(p.wallMs)
      // grouping keeps every kernel execution and every millisecond
      const byClass = groupKernels(p, (k) => k.kernelClass)
      expect(byClass.reduce((s, g) => s + g.runs, 0)).toBe(5 * exe.kernels)
      expect(byClass.reduce((s, g) => s + g.ms, 0)).toBeCloseTo(kernelMs, 9)
      expect(byClass.map((g) => g.ms)).toEqual([...byClass.map((g) => g.ms)].sort((x, y) => y - x))
      exe.dispose?.()
    }),
  )

  it.each(backends)('%s: each kernel gets its own time: a large matmul outweighs a 4-element exp', (name) =>
    withBackend(name, () => {
      const f = jit((a: Tensor, b: Tensor, c: Tensor) => [matmul(a, b), exp(c)])
      const [a, b, c] = [randomTensor([160, 160], 1), randomTensor([160, 160], 2), randomTensor([4], 3)]
      scope(() => f(a, b, c))
      const [, p] = profile(() => {
        for (let i = 0; i < 10; i++) scope(() => f(a, b, c))
      })
      const [mm, ex] = p.programs[0].kernels
      expect([mm.primitives, ex.primitives]).toEqual([['matmul'], ['exp']])
      // 8 MFLOP against 4 exponentials: even under load the matmul takes most of the time
      expect(mm.ms).toBeGreaterThan(3 * ex.ms)
      expect(ex.ms).toBeGreaterThan(0)
    }),
  )

  it('outside a profile, a run reads no clock; inside, every kernel is timed', () =>
    withBackend('prof-wasm-1t', () => {
      const step = jit(stepOf)
      const a = args()
      scope(() => step(a.p, a.ids, a.y))
      const now = vi.spyOn(performance, 'now')
      scope(() => step(a.p, a.ids, a.y))
      expect(now).not.toHaveBeenCalled()
      const [, p] = profile(() => scope(() => step(a.p, a.ids, a.y)))
      // two readings per kernel, two around the run, two around fn
      expect(now.mock.calls.length).toBe(2 * p.programs[0].kernels.length + 4)
    }),
  )

  it('interpreted programs are counted as untimed; profiles nest (the inner one takes its runs)', () => {
    registerBackend('prof-interpreted', () => ({ ...cpu(), compile: undefined }))
    withBackend('prof-interpreted', () => {
      const f = jit((x: Tensor) => mean(exp(x)))
      const [, p] = profile(() => scope(() => f(tensor([1, 2]))))
      expect(p.programs).toHaveLength(0)
      expect(p.untimedRuns).toBe(1)
    })
    withBackend('prof-wasm-1t', () => {
      const f = jit((x: Tensor) => mean(exp(x)))
      const [[, inner], outer] = profile(() => {
        scope(() => f(tensor([1, 2])))
        return profile(() => scope(() => f(tensor([1, 2]))))
      })
      expect(outer.programs[0].runs).toBe(1)
      expect(inner.programs[0].runs).toBe(1)
    })
  })

  it('a profile array of the wrong length is refused, naming the expected length', () =>
    withBackend('prof-wasm-1t', () => {
      const f = jit((x: Tensor) => exp(mul(x, x)))
      const exe = (getBackend('prof-wasm-1t') as CpuBackend).compile(f.lower(tensor([1, 2])))
      const h = (getBackend('prof-wasm-1t') as CpuBackend).fromHost(new Float32Array([1, 2]), { shape: [2], dtype: 'float32' })
      const consts = f.lower(tensor([1, 2])).consts.map((c) => c.value.dataSync() as Float32Array)
      expect(() => exe.run([h], consts, [], new Float64Array(exe.kernels + 1))).toThrow(CoreError)
      expect(() => exe.run([h], consts, [], new Float64Array(exe.kernels + 1))).toThrow(`one entry per kernel (${exe.kernels}), got ${exe.kernels + 1}`)
      exe.dispose?.()
    }),
  )

  it('kernelClass and kernelLabel', () => {
    const k = (primitives: string[], kind = 'kernel', note?: string) => ({ primitives, kind, path: 'wasm', shapes: '', note }) as never
    expect(kernelClass(k(['transpose']))).toBe('movement')
    expect(kernelClass(k(['scatterAdd']))).toBe('gather/scatter')
    expect(kernelClass(k(['neg']))).toBe('elementwise')
    expect(kernelClass(k(['exp'], 'attention'))).toBe('attention')
    expect(kernelLabel(k(['matmul'], 'kernel', 'Aᵀ·B'))).toBe('matmul Aᵀ·B')
    expect(kernelLabel(k(['mul', 'add', 'mul'], 'fused'))).toBe('fused mul+add')
  })
})
