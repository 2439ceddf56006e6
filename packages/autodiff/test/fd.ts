import type { DType, Tensor } from '@frugal-ts/core'
import { add, fromArray, mul, registerBackend, scope, sum, withBackend } from '@frugal-ts/core'
import { float64Backend } from '@frugal-ts/core/testing'
import { jvp, vjp } from '../src'

// the float64 host reference the finite differences run on
registerBackend('float64', float64Backend)

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
  /** per differentiated argument, elements the direction must not move (a discontinuity there) */
  readonly frozen?: (i: number, data: ArrayLike<number>) => boolean[]
}

/** What one directional check measured: ⟨Wᵀ J, V⟩ three ways, and the scales of the float32 sums. */
export interface Directional {
  /** float64 finite difference (4-point central, step `h`) on the float64 backend */
  readonly fd: number
  /** ⟨vjp(W), V⟩ from the float32 VJP rules, summed in float64 */
  readonly vjp: number
  /** ⟨W, jvp(V)⟩ from the float32 JVP rules, summed in float64 */
  readonly jvp: number
  /** Σ|vjp(W)ᵢ·Vᵢ| and Σ|Wᵢ·jvp(V)ᵢ|: what float32 round-off is relative to */
  readonly vjpScale: number
  readonly jvpScale: number
  /** the float32 cotangents and output tangent on the host */
  readonly cts: (Float32Array | Int32Array | Uint8Array | null)[]
  readonly tangent: ArrayLike<number>
}

/** The FD step: 2⁻⁸, so the 4-point difference's truncation error (~h⁴·f⁽⁵⁾/30) is ~1e-11 and its round-off ~1e-14. */
export const fdStep = 2 ** -8

const dot = (a: ArrayLike<number>, b: ArrayLike<number>): [number, number] => {
  let s = 0
  let abs = 0
  for (let i = 0; i < a.length; i++) {
    s += a[i] * b[i]
    abs += Math.abs(a[i] * b[i])
  }
  return [s, abs]
}

const zerosLike = (a: Tensor): Tensor =>
  fromArray(new (a.dtype === 'int32' ? Int32Array : a.dtype === 'bool' ? Uint8Array : Float32Array)(a.size), a.shape, a.dtype)

/**
 * Checks the float32 VJP and JVP rules against a float64 finite difference of
 * L(args) = Σ fn(args)·W along a random direction V (float32 values, so the
 * points are the same in both precisions; zero where `frozen` says).
 */
export const directional = (c: FdCase, seed: number, h = fdStep): Directional =>
  scope(() => {
    const out = c.fn(...c.args)
    const w = randomTensor(out.shape, seed + 1)
    const dirs = c.args.map((a, i) => {
      if (!c.wrt.includes(i)) return null
      const d = randomTensor(a.shape, seed + 7 * (i + 2)).dataSync() as Float32Array
      const frozen = c.frozen?.(i, a.dataSync())
      if (frozen) frozen.forEach((f, j) => f && (d[j] = 0))
      return d
    })
    const [, pullback] = vjp((...xs: Tensor[]) => c.fn(...xs), ...c.args)
    const ctTensors = pullback(w) as Tensor[]
    const cts = ctTensors.map((t) => (t ? (t.dataSync() as Float32Array) : null))
    let vjpDot = 0
    let vjpScale = 0
    dirs.forEach((d, i) => {
      if (!d) return
      const [s, abs] = dot(cts[i]!, d)
      vjpDot += s
      vjpScale += abs
    })
    const tangents = c.args.map((a, i) => (dirs[i] ? fromArray(dirs[i]!, a.shape) : zerosLike(a)))
    const [, t] = jvp((...xs: Tensor[]) => c.fn(...xs), [...c.args], tangents)
    const tangent = (t as Tensor).dataSync()
    const [jvpDot, jvpScale] = dot(tangent, w.dataSync())
    const host = c.args.map((a) => ({ data: a.dataSync(), shape: a.shape, dtype: a.dtype as DType }))
    const wHost = w.dataSync()
    const fd = withBackend('float64', () =>
      scope(() => {
        const xs = host.map((x) => fromArray(x.data, x.shape, x.dtype))
        const ds = dirs.map((d, i) => (d ? fromArray(d, host[i].shape) : null))
        const W = fromArray(wHost, out.shape)
        const L = (s: number) => sum(mul(c.fn(...xs.map((x, i) => (ds[i] ? add(x, mul(ds[i]!, s)) : x))), W)).item()
        return (8 * (L(h) - L(-h)) - (L(2 * h) - L(-2 * h))) / (12 * h)
      }),
    )
    return { fd, vjp: vjpDot, jvp: jvpDot, vjpScale, jvpScale, cts, tangent: Array.from(tangent) }
  })

/**
 * The gradient-check tolerance: |rule − fd| ≤ rtol·scale + atol, where scale
 * is Σ|termᵢ| of the float32 dot product (what round-off is relative to).
 * float32 rules are off by a few ulps (2⁻²³ ≈ 1.2e-7) per term times the
 * conditioning of the rule; rtol 1e-4 leaves ~100× that, and fails a rule
 * that is 0.1 % off unless the terms cancel tenfold (other runs catch it).
 */
export const fdTolerance = { rtol: 1e-4, atol: 1e-9 } as const

/** The error of `rule` against `fd` in units of the tolerance's scale: ≤ rtol passes. */
export const relError = (rule: number, fd: number, scale: number): number => Math.abs(rule - fd) / Math.max(scale, fdTolerance.atol / fdTolerance.rtol)

/** the largest error seen per check, in units of the scale (printed after the suite, for the record) */
export const worst = new Map<string, { vjp: number; jvp: number; runs: number }>()

/** Throws, naming the numbers, unless both rules are within the tolerance of the float64 FD; records the errors under `name`. */
export const expectRules = (name: string, c: FdCase, seed: number): void => {
  const d = directional(c, seed)
  const ev = relError(d.vjp, d.fd, d.vjpScale)
  const ej = relError(d.jvp, d.fd, d.jvpScale)
  const w = worst.get(name) ?? { vjp: 0, jvp: 0, runs: 0 }
  worst.set(name, { vjp: Math.max(w.vjp, ev), jvp: Math.max(w.jvp, ej), runs: w.runs + 1 })
  if (!(ev <= fdTolerance.rtol)) throw new Error(`${name}: vjp ${d.vjp} vs float64 fd ${d.fd} (scale ${d.vjpScale}): error ${ev.toExponential(2)} > rtol ${fdTolerance.rtol}`)
  if (!(ej <= fdTolerance.rtol)) throw new Error(`${name}: jvp ${d.jvp} vs float64 fd ${d.fd} (scale ${d.jvpScale}): error ${ej.toExponential(2)} > rtol ${fdTolerance.rtol}`)
}

/**
 * sign, compare and argmax are piecewise constant: their VJP and JVP must be exactly zero, and so
 * must the float64 FD wherever the derivative is defined (no step crosses a jump: directions are
 * zero on the jumps — x = 0 for sign, ties for compare — and argmax gets distinct values).
 */
export const expectExactZero = (name: string, c: FdCase, seed: number): void => {
  const d = directional(c, seed)
  for (const i of c.wrt) {
    const ct = d.cts[i]
    if (!ct || !ct.every((v) => v === 0)) throw new Error(`${name}: vjp of argument ${i} is not exactly zero: ${ct && Array.from(ct).slice(0, 8)}`)
  }
  if (!Array.from(d.tangent).every((v) => v === 0)) throw new Error(`${name}: jvp is not exactly zero: ${Array.from(d.tangent).slice(0, 8)}`)
  if (d.fd !== 0) throw new Error(`${name}: float64 fd ${d.fd} is not zero where the derivative is defined`)
}
