import type { Tensor } from '@frugal-ts/core'
import { add, fromArray, mul, scope, sum } from '@frugal-ts/core'
import { jvp, vjp } from '../src'

/** A deterministic pseudo-random float32 tensor (tests only). */
export const randomTensor = (shape: readonly number[], seed: number, lo = -1, hi = 1): Tensor => {
  let s = (Math.imul(seed | 0, 0x9e3779b1) ^ 0x85ebca6b) >>> 0 || 1
  const n = shape.reduce((a, b) => a * b, 1)
  const a = new Float32Array(n)
  for (let i = 0; i < 4; i++) (s ^= s << 13), (s ^= s >>> 17), (s ^= s << 5)
  for (let i = 0; i < n; i++) {
    s ^= s << 13
    s ^= s >>> 17
    s ^= s << 5
    a[i] = lo + ((s >>> 0) / 4294967296) * (hi - lo)
  }
  return fromArray(a, shape)
}

export interface FdCase {
  readonly args: readonly Tensor[]
  readonly fn: (...args: Tensor[]) => Tensor
  /** indices of the float32 arguments to differentiate */
  readonly wrt: readonly number[]
}

/**
 * Checks reverse and forward mode against a central finite difference of
 * L(args) = Σ fn(args)·W along a random direction V: returns
 * [finite difference, ⟨∇L, V⟩ from vjp, jvp tangent].
 */
export const directional = (c: FdCase, seed: number, eps = 1e-2): [number, number, number] =>
  scope(() => {
    const out = c.fn(...c.args)
    const w = randomTensor(out.shape, seed + 1)
    const loss = (...xs: Tensor[]) => sum(mul(c.fn(...xs), w))
    const dirs = c.args.map((a, i) => (c.wrt.includes(i) ? randomTensor(a.shape, seed + 7 * (i + 2)) : null))
    const shifted = (s: number) => c.args.map((a, i) => (dirs[i] ? add(a, mul(dirs[i]!, s)) : a))
    const fd = (loss(...shifted(eps)).item() - loss(...shifted(-eps)).item()) / (2 * eps)
    const [, pullback] = vjp((...xs: Tensor[]) => loss(...xs), ...c.args)
    const cts = pullback(fromArray(new Float32Array([1]), [])) as Tensor[]
    let ad = 0
    dirs.forEach((d, i) => {
      if (d) ad += sum(mul(cts[i], d)).item()
    })
    const tangents = c.args.map((a, i) => dirs[i] ?? fromArray(new (a.dtype === 'int32' ? Int32Array : a.dtype === 'bool' ? Uint8Array : Float32Array)(a.size), a.shape, a.dtype))
    const [, t] = jvp((...xs: Tensor[]) => loss(...xs), [...c.args], tangents)
    return [fd, ad, (t as Tensor).item()]
  })

/** |a − b| ≤ atol + rtol·max(|a|, |b|) */
export const close = (a: number, b: number, rtol = 2e-2, atol = 2e-2): boolean =>
  Math.abs(a - b) <= atol + rtol * Math.max(Math.abs(a), Math.abs(b))
