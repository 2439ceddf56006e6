import { CoreError } from './CoreError'
import { fromArray } from './creation'
import * as S from './Shape'
import type { Shape } from './Shape'
import { Tensor } from './Tensor'

/**
 * JAX-style counter-based random numbers. A key is an int32 tensor of shape
 * [2] holding two uint32 words (bit-cast). Every random value is a pure
 * function of a key and is computed on the host with Threefry-2x32, so the same
 * seed gives the same bits on every backend. Split keys instead of reusing them.
 *
 * Bit streams follow JAX's partitionable Threefry scheme (the default since JAX
 * 0.5): `split(k, n)[i]` = `foldIn(k, i)` = threefry(k, [0, i]), and the j-th
 * word of `bits(k, shape)` is the xor of the two words of threefry(k, [hi(j), lo(j)]).
 * So `split`, `foldIn`, `bits` and `uniform` give JAX's values for the same key,
 * `normal` too up to the last float32 bit; `randint` and `permutation` use
 * their own (documented) algorithms.
 * @example
 * const k: Key.Key = Key.key(42) // an int32[2] tensor
 * const [a, b] = Key.splitKeys(k)
 */
export type Key = Tensor

const rotl = (x: number, r: number): number => ((x << r) | (x >>> (32 - r))) >>> 0
const ROTATIONS = [
  [13, 15, 26, 6],
  [17, 29, 16, 24],
] as const

const out2 = new Uint32Array(2)

/** Threefry-2x32-20 of key (k0, k1) and counter (c0, c1), written to `out2`. */
const threefry = (k0: number, k1: number, c0: number, c1: number): Uint32Array => {
  const k2 = (k0 ^ k1 ^ 0x1bd11bda) >>> 0
  const ks = [k0, k1, k2]
  let x0 = (c0 + k0) >>> 0
  let x1 = (c1 + k1) >>> 0
  for (let i = 0; i < 5; i++) {
    const rot = ROTATIONS[i & 1]
    for (let j = 0; j < 4; j++) {
      x0 = (x0 + x1) >>> 0
      x1 = (rotl(x1, rot[j]) ^ x0) >>> 0
    }
    x0 = (x0 + ks[(i + 1) % 3]) >>> 0
    x1 = (x1 + ks[(i + 2) % 3] + i + 1) >>> 0
  }
  out2[0] = x0
  out2[1] = x1
  return out2
}

/**
 * The Threefry-2x32 block cipher with 20 rounds (Random123; JAX's `threefry_2x32`).
 * @param key the two key words (uint32)
 * @param count the two counter words (uint32)
 * @returns the two output words (uint32)
 * @example threefry2x32([0x13198a2e, 0x03707344], [0x243f6a88, 0x85a308d3]) // [0xc4923a9c, 0x483df7a0]
 */
export const threefry2x32 = (key: readonly [number, number], count: readonly [number, number]): [number, number] => {
  const o = threefry(key[0] >>> 0, key[1] >>> 0, count[0] >>> 0, count[1] >>> 0)
  return [o[0], o[1]]
}

const TWO32 = 4294967296

/** The 64-bit two's complement of a safe integer as [hi, lo] uint32 words. */
const words = (op: string, what: string, x: number): [number, number] => {
  if (!Number.isSafeInteger(x)) throw new CoreError(`Key.${op}: ${what} must be a safe integer, got ${x}`)
  const hi = Math.floor(x / TWO32)
  return [((hi % TWO32) + TWO32) % TWO32 >>> 0, (x - hi * TWO32) >>> 0]
}

const makeKey = (w0: number, w1: number): Tensor => fromArray(new Int32Array([w0 | 0, w1 | 0]), [2], 'int32')

/** The two uint32 words of a key, validated. */
const keyWords = (op: string, k: Tensor): [number, number] => {
  if (!(k instanceof Tensor) || k.dtype !== 'int32' || !S.equals(k.shape, [2]))
    throw new CoreError(
      `Key.${op}: key must be an int32 tensor of shape [2] (made by key(seed)), got ${k instanceof Tensor ? `${k.dtype}${S.show(k.shape)}` : typeof k}`,
    )
  const d = k.dataSync()
  return [d[0] >>> 0, d[1] >>> 0]
}

const checkShape = (op: string, shape: Shape): Shape => {
  if (!S.isShape(shape)) throw new CoreError(`Key.${op}: shape must be a list of non-negative integers, got ${JSON.stringify(shape)}`)
  return shape
}

const checkCount = (op: string, what: string, n: number): number => {
  if (!Number.isSafeInteger(n) || n < 0) throw new CoreError(`Key.${op}: ${what} must be a non-negative integer, got ${n}`)
  return n
}

/**
 * A key from an integer seed (any safe integer; negative seeds use 64-bit two's complement),
 * as `jax.random.key(seed)`: the words are the seed's high and low 32 bits.
 * @example key(42) // int32[2] [0, 42]
 */
export const key = (seed: number): Key => {
  const [hi, lo] = words('key', 'seed', seed)
  return makeKey(hi, lo)
}

/**
 * The two uint32 words of a key, as numbers.
 * @example keyData(key(42)) // [0, 42]
 */
export const keyData = (k: Key): [number, number] => keyWords('keyData', k)

/**
 * `n` new independent keys, stacked as an int32 tensor of shape [n, 2].
 * @example split(key(0)) // int32[2,2]; row i equals foldIn(key(0), i)
 */
export const split = (k: Key, n = 2): Tensor => {
  const kw = keyWords('split', k)
  checkCount('split', 'the number of keys', n)
  const out = new Uint32Array(2 * n)
  for (let i = 0; i < n; i++) [out[2 * i], out[2 * i + 1]] = threefry2x32(kw, [0, i])
  return fromArray(new Int32Array(out.buffer), [n, 2], 'int32')
}

/**
 * As `split`, returning the keys as separate tensors.
 * @example const [k1, k2] = splitKeys(key(0), 2)
 */
export const splitKeys = (k: Key, n = 2): Key[] => {
  const kw = keyWords('splitKeys', k)
  checkCount('splitKeys', 'the number of keys', n)
  return Array.from({ length: n }, (_, i) => makeKey(...threefry2x32(kw, [0, i])))
}

/**
 * A new key derived from `k` and an integer (a step number, a layer index).
 * @example foldIn(key(0), 7) // differs from foldIn(key(0), 8)
 */
export const foldIn = (k: Key, data: number): Key => makeKey(...threefry2x32(keyWords('foldIn', k), words('foldIn', 'data', data)))

const hostBits = ([k0, k1]: [number, number], n: number): Uint32Array => {
  const out = new Uint32Array(n)
  for (let j = 0; j < n; j++) {
    const o = threefry(k0, k1, Math.floor(j / TWO32), j >>> 0)
    out[j] = o[0] ^ o[1]
  }
  return out
}

/**
 * `size(shape)` random uint32 words on the host (row-major).
 * @example bits(key(0), [4]) // Uint32Array of 4 words, the same on every call
 */
export const bits = (k: Key, shape: Shape): Uint32Array => hostBits(keyWords('bits', k), S.size(checkShape('bits', shape)))

const f32 = new Float32Array(1)
const u32 = new Uint32Array(f32.buffer)

/** Floats in [0, 1) from the top 23 bits of each word: bits of 1.m minus 1. */
const unitFloats = (b: Uint32Array): Float32Array => {
  const out = new Float32Array(b.length)
  for (let i = 0; i < b.length; i++) {
    u32[0] = (b[i] >>> 9) | 0x3f800000
    out[i] = f32[0] - 1
  }
  return out
}

/** The smallest float32 at or above x. */
const f32AtLeast = (x: number): number => -f32AtMost(-x)

/** The largest float32 at or below x. */
const f32AtMost = (x: number): number => (Math.fround(x) <= x ? Math.fround(x) : f32Below(Math.fround(x)))

/** The largest float32 strictly below x. */
const f32Below = (x: number): number => {
  f32[0] = x
  if (f32[0] < x) return f32[0]
  if (f32[0] === 0) return -1.401298464324817e-45
  u32[0] += f32[0] > 0 ? -1 : 1
  return f32[0]
}

/** Options of `uniform`. @example Key.uniform(Key.key(0), [3], { minval: -1, maxval: 1 }) // 3 floats in [-1, 1) */
export interface UniformOptions {
  /** lower bound, included (default 0) */
  readonly minval?: number
  /** upper bound, excluded (default 1) */
  readonly maxval?: number
  /** only 'float32' */
  readonly dtype?: 'float32'
}

const uniformHost = (op: string, k: Key, shape: Shape, minval: number, maxval: number): Float32Array => {
  if (!Number.isFinite(minval) || !Number.isFinite(maxval) || !(minval < maxval))
    throw new CoreError(`Key.${op}: needs finite minval < maxval, got minval ${minval}, maxval ${maxval}`)
  const u = unitFloats(hostBits(keyWords(op, k), S.size(checkShape(op, shape))))
  const lo = f32AtLeast(minval)
  const top = f32Below(maxval)
  if (lo > top) throw new CoreError(`Key.${op}: no float32 lies in [${minval}, ${maxval})`)
  const span = Math.fround(Math.fround(maxval) - lo)
  for (let i = 0; i < u.length; i++) u[i] = Math.min(top, Math.max(lo, Math.fround(Math.fround(u[i] * span) + lo)))
  return u
}

/**
 * Uniform float32 values in [minval, maxval).
 * @example uniform(key(0), [2, 3], { minval: -1, maxval: 1 })
 */
export const uniform = (k: Key, shape: Shape, options: UniformOptions = {}): Tensor => {
  const { minval = 0, maxval = 1, dtype = 'float32' } = options
  if (dtype !== 'float32') throw new CoreError(`Key.uniform: dtype must be float32, got ${dtype}`)
  return fromArray(uniformHost('uniform', k, shape, minval, maxval), shape, 'float32')
}

/** Inverse error function, accurate to float32 (M. Giles, "Approximating the erfinv function", 2010). */
const erfinv = (x: number): number => {
  let w = -Math.log((1 - x) * (1 + x))
  let p: number
  if (w < 5) {
    w -= 2.5
    p = 2.81022636e-8
    for (const c of [3.43273939e-7, -3.5233877e-6, -4.39150654e-6, 0.00021858087, -0.00125372503, -0.00417768164, 0.246640727, 1.50140941])
      p = c + p * w
  } else {
    w = Math.sqrt(w) - 3
    p = -0.000200214257
    for (const c of [0.000100950558, 0.00134934322, -0.00367342844, 0.00573950773, -0.0076224613, 0.00943887047, 1.00167406, 2.83297682])
      p = c + p * w
  }
  return p * x
}

/**
 * Standard normal float32 values, by the inverse CDF as JAX does:
 * √2·erfinv(u) with u uniform in (−1, 1).
 * @example normal(key(0), [1000]) // mean ≈ 0, std ≈ 1
 */
export const normal = (k: Key, shape: Shape): Tensor => {
  const u = uniformHost('normal', k, shape, -1 + 2 ** -24, 1)
  for (let i = 0; i < u.length; i++) u[i] = Math.SQRT2 * erfinv(u[i])
  return fromArray(u, shape, 'float32')
}

/** 53-bit uniform numbers in [0, 1) from pairs of words. */
const unit53 = (b: Uint32Array, i: number): number => ((b[2 * i] >>> 11) * TWO32 + b[2 * i + 1]) / 2 ** 53

/**
 * Uniform int32 values in [lo, hi). Each value takes 53 random bits (bias below 2⁻²¹).
 * @example randint(key(0), [5], 0, 10) // int32[5], values 0…9
 */
export const randint = (k: Key, shape: Shape, lo: number, hi: number): Tensor => {
  checkShape('randint', shape)
  const int32 = (x: number) => Number.isInteger(x) && x >= -(2 ** 31) && x <= 2 ** 31
  if (!int32(lo) || !int32(hi) || !(lo < hi))
    throw new CoreError(`Key.randint: needs integers -2^31 <= lo < hi <= 2^31, got lo ${lo}, hi ${hi}`)
  const n = S.size(shape)
  const b = hostBits(keyWords('randint', k), 2 * n)
  const span = hi - lo
  const out = new Int32Array(n)
  for (let i = 0; i < n; i++) out[i] = lo + Math.min(span - 1, Math.floor(unit53(b, i) * span))
  return fromArray(out, shape, 'int32')
}

/**
 * A uniformly random permutation of 0…n−1 (int32), by a Fisher–Yates shuffle
 * driven by 53-bit uniforms.
 * @example permutation(key(0), 5) // e.g. int32[5] [3, 0, 4, 1, 2]
 */
export const permutation = (k: Key, n: number): Tensor => {
  const kw = keyWords('permutation', k)
  checkCount('permutation', 'n', n)
  const b = hostBits(kw, 2 * n)
  const p = new Int32Array(n)
  for (let i = 0; i < n; i++) p[i] = i
  for (let i = n - 1; i > 0; i--) {
    const j = Math.min(i, Math.floor(unit53(b, i) * (i + 1)))
    const t = p[i]
    p[i] = p[j]
    p[j] = t
  }
  return fromArray(p, [n], 'int32')
}

/**
 * Booleans that are true with probability `p` (`uniform < p`, as JAX).
 * @example bernoulli(key(0), 0.25, [100]) // bool[100], about 25 true
 */
export const bernoulli = (k: Key, p: number, shape: Shape): Tensor => {
  if (!(p >= 0 && p <= 1)) throw new CoreError(`Key.bernoulli: p must be in [0, 1], got ${p}`)
  const u = uniformHost('bernoulli', k, shape, 0, 1)
  const out = new Uint8Array(u.length)
  for (let i = 0; i < u.length; i++) out[i] = u[i] < p ? 1 : 0
  return fromArray(out, shape, 'bool')
}
