import type { Tensor } from '@frugal-ts/core'
import {
  add, dispose, div, exp, fromArray, keep, log, matmul, max, mean, mul, oneHot, pow, relu, scope, sqrt, sub, sum, tensor, withBackend,
} from '@frugal-ts/core'
import { grad, jit } from '@frugal-ts/autodiff'
import { gpuTolerances, assertAllClose } from '@frugal-ts/core/testing'
import { expect, it } from 'vitest'
import { describeModes, registered } from './support'

const ramp = (n: number, shape: number[], scale = 1, phase = 0) =>
  fromArray(Float32Array.from({ length: n }, (_, i) => ((((i + phase) * 7919) % 101) / 101 - 0.5) * scale), shape)

const b1 = 0.9
const b2 = 0.999
const lr = 1e-3
const eps = 1e-8

/** One Adam update, written with core primitives: m = b1 m + (1-b1) g; v = b2 v + (1-b2) g²; p -= lr m̂/(√v̂+eps). */
const adam = (p: Tensor, m: Tensor, v: Tensor, g: Tensor, t: Tensor) => {
  const m2 = add(mul(m, b1), mul(g, 1 - b1))
  const v2 = add(mul(v, b2), mul(mul(g, g), 1 - b2))
  const mhat = div(m2, sub(1, pow(b1, t)))
  const vhat = div(v2, sub(1, pow(b2, t)))
  return { p: sub(p, mul(lr, div(mhat, add(sqrt(vhat), eps)))), m: m2, v: v2 }
}

interface Mlp {
  readonly w1: Tensor
  readonly b1: Tensor
  readonly w2: Tensor
  readonly b2: Tensor
}

const mlpLoss = (p: Mlp, x: Tensor, labels: Tensor) => {
  const logits = add(matmul(relu(add(matmul(x, p.w1), p.b1)), p.w2), p.b2)
  const m = max(logits, -1, true)
  const lse = add(log(sum(exp(sub(logits, m)), -1, true)), m)
  return mean(sub(lse, sum(mul(logits, oneHot(labels, 4)), -1, true)))
}

const sgdStep = (p: Mlp, x: Tensor, labels: Tensor): Mlp => {
  const g = grad(mlpLoss)(p, x, labels) as Mlp
  const update = (w: Tensor, gw: Tensor) => sub(w, mul(gw, 0.1))
  return { w1: update(p.w1, g.w1), b1: update(p.b1, g.b1), w2: update(p.w2, g.w2), b2: update(p.b2, g.b2) }
}

describeModes('gpujs compile', (mode) => {
  const { name, backend } = registered(mode)
  const on = <R>(f: () => R) => withBackend(name, f)

  it('fuses the whole Adam update into one kernel launch per output (p, m, v: 3 launches)', () => {
    const n = 1000
    const step = jit(adam)
    const [ours, theirs] = [name, 'cpu'].map((b) =>
      withBackend(b, () =>
        scope(() => {
          const [p, m, v, g, t] = [ramp(n, [n]), ramp(n, [n], 0.1, 3), mul(ramp(n, [n], 0.01, 5), ramp(n, [n], 0.01, 5)), ramp(n, [n], 1, 7), tensor(3)]
          const host = (o: { p: Tensor; m: Tensor; v: Tensor }) => [o.p, o.m, o.v].map((x) => x.dataSync())
          if (b === 'cpu') return host(adam(p, m, v, g, t)) // the reference, eager
          step(p, m, v, g, t) // compile
          const before = backend.stats().launches
          const out = step(p, m, v, g, t)
          expect(backend.stats().launches - before).toBe(3)
          expect(step.describe(p, m, v, g, t)).toMatch(/-> 3 kernel launches \(3 fused\)/)
          return host(out)
        }),
      ),
    )
    ours.forEach((o, i) => assertAllClose(o, theirs[i], gpuTolerances.float32, `adam output ${i}`))
  })

  it('runs the unfused (eager) Adam chain as one launch per primitive', () => {
    on(() =>
      scope(() => {
        const [p, m, v, g, t] = [ramp(64, [64]), ramp(64, [64]), ramp(64, [64], 0.1), ramp(64, [64]), tensor(3)]
        adam(p, m, v, g, t) // uploads of the scalar constants
        const before = backend.stats().launches
        adam(p, m, v, g, t)
        expect(backend.stats().launches - before).toBe(21) // every primitive of the chain (sub = add + neg) is its own kernel
      }),
    )
  })

  it('fuses broadcasting elementwise chains and keeps non-elementwise ops as their own kernels', () => {
    on(() =>
      scope(() => {
        const f = jit((x: Tensor, w: Tensor, b: Tensor) => relu(add(mul(matmul(x, w), 2), b)))
        const x = ramp(12, [3, 4])
        const w = ramp(20, [4, 5])
        const b = ramp(5, [5])
        expect(f.describe(x, w, b)).toMatch(/-> 2 kernel launches \(1 fused\)/)
        const expected = withBackend('cpu', () => scope(() => relu(add(mul(matmul(ramp(12, [3, 4]), ramp(20, [4, 5])), 2), ramp(5, [5]))).dataSync()))
        assertAllClose(f(x, w, b).dataSync(), expected, gpuTolerances.float32, 'fused')
      }),
    )
  })

  it('returns an input that is an output as that same tensor, and releases donated inputs it does not return', () => {
    const before = backend.memory()
    on(() => {
      const x = ramp(8, [8])
      const y = ramp(8, [8])
      const f = jit((a: Tensor, b: Tensor) => ({ same: a, sum: add(a, b) }), { donate: [1] })
      const out = f(x, y)
      expect(out.same).toBe(x)
      expect(y.isDisposed).toBe(true)
      expect(backend.memory().tensors).toBe(before.tensors + 2)
      dispose([x, out.sum])
    })
    expect(backend.memory()).toEqual(before)
  })

  it('1,000 jitted MLP training steps keep the live textures (count and bytes) constant', () => {
    const steps = 1000
    const step = jit(sgdStep, { donate: [0] })
    const labels = on(() => keep(fromArray(Int32Array.from({ length: 32 }, (_, i) => (i * 7) % 4), [32], 'int32')))
    const x = on(() => keep(ramp(32 * 8, [32, 8], 2)))
    let params: Mlp = on(() => keep({ w1: ramp(128, [8, 16], 0.5), b1: ramp(16, [16], 0.1), w2: ramp(64, [16, 4], 0.5, 1), b2: ramp(4, [4], 0.1, 2) }))
    const loss = () => on(() => scope(() => mlpLoss(params, x, labels).item()))
    const first = loss()
    const gl = glTextures(backend.gpu.context)
    let settled = backend.memory()
    let glSettled = gl.live()
    for (let i = 0; i < steps; i++) {
      params = on(() => step(params, x, labels))
      if (i === 9) (settled = backend.memory(), (glSettled = gl.live()))
    }
    expect(backend.memory()).toEqual(settled)
    if (mode === 'headlessgl') {
      // the counters saw the context (gpu.js recycles a kernel's output texture once no handle holds it,
      // so a steady-state step creates few); the GL textures alive are the same after 1,000 steps
      expect(gl.created()).toBeGreaterThan(0)
      expect(gl.live()).toBe(glSettled)
    }
    expect(loss()).toBeLessThan(first * 0.5)
    dispose([params, x, labels])
  })
})

/** Live WebGL textures of a context, counted by wrapping createTexture/deleteTexture (no-op off WebGL). */
const glTextures = (gl: unknown) => {
  let live = 0
  let created = 0
  const ctx = gl as { createTexture?: () => unknown; deleteTexture?: (t: unknown) => void } | null
  if (ctx?.createTexture && ctx.deleteTexture) {
    const create = ctx.createTexture.bind(ctx)
    const del = ctx.deleteTexture.bind(ctx)
    ctx.createTexture = () => (live++, created++, create())
    ctx.deleteTexture = (t) => (live--, del(t))
  }
  return { live: () => live, created: () => created }
}
