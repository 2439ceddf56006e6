/**
 * Strided n-ary loops, generated once per loop body and nesting pattern.
 *
 * Every elementwise kernel, every copy-like movement kernel and every fused
 * elementwise chain is one call of a generated function of the form
 *
 * ```js
 * for (i0 < n0) { for (i1 < n1) { ... for (i < nLast) { o[q + i] = f(x0[p0 + i], x1[p1]) } } }
 * ```
 *
 * where each operand walks its own strides (0 where it is broadcast). Axes are
 * coalesced first (size-1 axes dropped, adjacent axes merged where every
 * operand is contiguous across them), so a same-shape op is one flat loop, a
 * row-vector broadcast two loops, and so on. Operands broadcast along the
 * innermost axis are read once outside the innermost loop, and the innermost
 * loop is unrolled (see `unroll`).
 * @internal
 */
import type { TypedArray } from '../../DType'
import type { Shape } from '../../Shape'

/**
 * The body of a loop: one expression per output over the inputs `a0 … a{nIn-1}`,
 * optionally preceded by `pre` statements. Every input element is read before
 * any output element is stored, so an output may overwrite an input that has
 * the output's full size.
 */
export interface LoopBody {
  /** identifies body, dtypes included: the cache key of the generated code */
  readonly key: string
  readonly nIn: number
  /** statements run per element before the stores (fused temporaries) */
  readonly pre: string
  /** the value stored at each output's element */
  readonly exprs: readonly string[]
}

/** Where an operand's elements are: `base + Σ i_k · strides[k]` over the loop axes. */
export interface Operand {
  readonly base: number
  readonly strides: readonly number[]
}

/** A specialised loop: `run(inputs, out)` fills `out` (or the region the output operand names). */
export type Loop = (inputs: readonly TypedArray[], out: TypedArray) => void

/** A specialised loop with several outputs: `run(inputs, outs)`. */
export type MultiLoop = (inputs: readonly TypedArray[], outs: readonly TypedArray[]) => void

/** Row-major strides of `from` read as the right-aligned broadcast to `to` (0 on stretched axes). */
export const broadcastStrides = (from: Shape, to: Shape): number[] => {
  const out = new Array<number>(to.length).fill(0)
  let acc = 1
  for (let i = from.length - 1; i >= 0; i--) {
    const j = to.length - from.length + i
    out[j] = from[i] === 1 ? 0 : acc
    acc *= from[i]
  }
  return out
}

/**
 * Drops size-1 axes and merges adjacent axes across which every operand is
 * contiguous. Returns the coalesced extents and each operand's strides.
 */
export const coalesce = (dims: readonly number[], strides: readonly (readonly number[])[]) => {
  const outDims: number[] = []
  const outStrides: number[][] = strides.map(() => [])
  for (let j = dims.length - 1; j >= 0; j--) {
    const n = dims[j]
    if (n === 1) continue
    const last = outDims.length - 1
    const mergeable =
      last >= 0 && strides.every((s, k) => s[j] === outStrides[k][0] * outDims[0])
    if (mergeable) outDims[0] *= n
    else {
      outDims.unshift(n)
      strides.forEach((s, k) => outStrides[k].unshift(s[j]))
    }
  }
  if (outDims.length === 0) {
    outDims.push(1)
    outStrides.forEach((s) => s.push(0))
  }
  return { dims: outDims, strides: outStrides }
}

type Kind = 'c' | 'b' | 's'
const kindOf = (stride: number): Kind => (stride === 1 ? 'c' : stride === 0 ? 'b' : 's')

type Generated = (
  dims: readonly number[],
  B: readonly number[],
  S: readonly (readonly number[])[],
  O: readonly TypedArray[],
  X: readonly TypedArray[],
) => void

/** Generated loops by body key, then by nesting pattern (depth and operand kinds). */
const cache = new Map<string, Map<string, Generated>>()
let count = 0

/** The number of distinct loop functions generated so far (for tests and tuning). */
export const generatedLoops = (): number => count

/**
 * An operand's element in copy `u` of the unrolled innermost loop (index `i + u`);
 * `off` is null when the operand's offset is known to be 0.
 */
const at = (arr: string, off: string | null, kind: Kind, k: number, d: number, u = 0) => {
  const base = off === null ? '' : `${off} + `
  const idx = u === 0 ? 'i' : `i + ${u}`
  if (kind === 'b') return `${arr}[${off ?? 0}]`
  return kind === 'c' ? `${arr}[${base}${idx}]` : `${arr}[${base}(${idx}) * t${k}_${d}]`
}

/**
 * Copies of the body per innermost iteration. V8 re-checks a typed array's map
 * and reloads its data pointer at every access in a loop (the loop's interrupt
 * check could detach it); unrolled copies share one set of checks, which
 * roughly doubles the speed of memory-bound loops.
 */
const unroll = (body: LoopBody) => (body.pre === '' ? 8 : 4)

/**
 * Source of a loop nest of depth `d`; operands 0 .. nOut-1 are the outputs,
 * then the inputs. `flat`: one axis and every base 0, so elements are read at `i`.
 */
const generate = (body: LoopBody, d: number, kinds: readonly Kind[], flat: boolean): Generated => {
  const ops = kinds.length
  const nOut = body.exprs.length
  const arr = (k: number) => (k < nOut ? `o${k}` : `x${k - nOut}`)
  const lines: string[] = ['"use strict";']
  for (let k = 0; k < ops; k++) lines.push(`const ${arr(k)} = ${k < nOut ? `O[${k}]` : `X[${k - nOut}]`};`)
  for (let l = 0; l < d; l++) lines.push(`const n${l} = dims[${l}];`)
  for (let k = 0; k < ops; k++) for (let l = 0; l < d; l++) lines.push(`const t${k}_${l} = S[${k}][${l}];`)
  for (let k = 0; k < ops; k++) lines.push(`let q${k}_0 = B[${k}];`)
  const close: string[] = []
  for (let l = 0; l < d - 1; l++) {
    lines.push(`for (let i${l} = 0; i${l} < n${l}; i${l}++) {`)
    for (let k = 0; k < ops; k++) lines.push(`let q${k}_${l + 1} = q${k}_${l};`)
    close.unshift(`${Array.from({ length: ops }, (_, k) => `q${k}_${l} += t${k}_${l};`).join(' ')} }`)
  }
  const l = d - 1
  const off = (k: number) => (flat ? null : `q${k}_${l}`)
  for (let k = nOut; k < ops; k++) if (kinds[k] === 'b') lines.push(`const a${k - nOut} = ${at(arr(k), off(k), 'b', k, l)};`)
  const copy = (u: number) => {
    const c: string[] = ['{']
    for (let k = nOut; k < ops; k++)
      if (kinds[k] !== 'b') c.push(`const a${k - nOut} = ${at(arr(k), off(k), kinds[k], k, l, u)};`)
    if (body.pre) c.push(body.pre)
    body.exprs.forEach((e, k) => c.push(`${at(arr(k), off(k), kinds[k], k, l, u)} = ${e};`))
    c.push('}')
    return c.join('\n')
  }
  const U = unroll(body)
  lines.push('let i = 0;', `for (; i + ${U - 1} < n${l}; i += ${U}) {`)
  for (let u = 0; u < U; u++) lines.push(copy(u))
  lines.push('}', `for (; i < n${l}; i++) ${copy(0)}`, ...close)
  return new Function('dims', 'B', 'S', 'O', 'X', lines.join('\n')) as Generated
}

/**
 * A loop over `dims` that stores each of `body.exprs`, evaluated on the input
 * operands, into the matching output operand. Axes are coalesced and the code
 * generated (or taken from the cache) now, so the returned function does no
 * per-call planning.
 * @param dims the loop extents (usually the output shape)
 * @param outs where each output's elements go
 * @param ins where each input's elements come from (strides 0 where broadcast)
 */
export const prepareMultiLoop = (body: LoopBody, dims: readonly number[], outs: readonly Operand[], ins: readonly Operand[]): MultiLoop => {
  if (dims.some((n) => n === 0)) return () => {}
  const operands = [...outs, ...ins]
  const c = coalesce(dims, operands.map((x) => x.strides))
  const d = c.dims.length
  const B = operands.map((x) => x.base)
  const f = generated(body, d, c.strides.map((s) => kindOf(s[d - 1])), d === 1 && B.every((b) => b === 0))
  const { dims: cd, strides: cs } = c
  return (X, O) => f(cd, B, cs, O, X)
}

const generated = (body: LoopBody, d: number, kinds: readonly Kind[], flat: boolean): Generated => {
  let byPattern = cache.get(body.key)
  if (byPattern === undefined) {
    byPattern = new Map()
    cache.set(body.key, byPattern)
  }
  const pattern = `${d}${kinds.join('')}${flat ? 'z' : ''}`
  let fn = byPattern.get(pattern)
  if (fn === undefined) {
    fn = generate(body, d, kinds, flat)
    byPattern.set(pattern, fn)
    count++
  }
  return fn
}

const none = new Float32Array(0)

/**
 * A one-output loop over `n` contiguous elements where each input is either
 * full-size (read at the same index) or a scalar (`scalar[k]`): the common
 * case, planned without coalescing.
 */
export const prepareFlatLoop = (body: LoopBody, n: number, scalar: readonly boolean[]): Loop => {
  if (n === 0) return () => {}
  const f = generated(body, 1, ['c', ...scalar.map((b): Kind => (b ? 'b' : 'c'))], true)
  const dims = [n]
  const B = new Array<number>(scalar.length + 1).fill(0)
  const S = [[1], ...scalar.map((b) => [b ? 0 : 1])]
  const O: TypedArray[] = [none]
  return (X, o) => {
    O[0] = o
    f(dims, B, S, O, X)
    O[0] = none
  }
}

/** As `prepareMultiLoop` for a body with one output. */
export const prepareLoop = (body: LoopBody, dims: readonly number[], out: Operand, ins: readonly Operand[]): Loop => {
  const run = prepareMultiLoop(body, dims, [out], ins)
  const O: TypedArray[] = [none]
  return (X, o) => {
    O[0] = o
    run(X, O)
    O[0] = none
  }
}

/** Row-major strides as an operand at `base`. */
export const contiguous = (shape: Shape, base = 0): Operand => {
  const strides = new Array<number>(shape.length)
  let acc = 1
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = acc
    acc *= shape[i]
  }
  return { base, strides }
}

/** The body that copies its single input. */
export const copyBody = (dtypeKey: string): LoopBody => ({ key: `copy:${dtypeKey}`, nIn: 1, pre: '', exprs: ['a0'] })
