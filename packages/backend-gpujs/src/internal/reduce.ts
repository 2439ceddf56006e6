/**
 * Reductions (reduceSum, reduceMax over axis sets) and argmax as generated
 * kernels: one thread per output element, looping over the reduced elements
 * with literal bounds (so gpu.js's `loopMaxIterations` cap never applies).
 *
 * The input's axes are coalesced into runs of kept and reduced axes. A long
 * reduction over one run (more than `chunkOver` elements) runs in two
 * stages: partial results over chunks of about √n elements, then a
 * reduction of the partials, so no single GPU thread loops millions of times.
 * @internal
 */
import type { Aval } from '@frugal-ts/core'
import { decompose, indexExpr, kernelSource, sizeOf, stridesOf } from './source'
import type { Plan, Ref, Stage } from './stage'
import { single, stage, zeros } from './stage'

/** Reductions longer than this over a single run of axes are split into two stages. */
export const chunkOver = 4096

interface Run {
  readonly n: number
  readonly stride: number
  readonly reduced: boolean
}

/** Size-1 axes dropped, neighbouring axes of the same kind merged (row-major: they are contiguous). */
const runsOf = (shape: readonly number[], axes: readonly number[]): Run[] => {
  const s = stridesOf(shape)
  const out: { n: number; stride: number; reduced: boolean }[] = []
  shape.forEach((n, j) => {
    if (n === 1) return
    const reduced = axes.includes(j)
    const last = out[out.length - 1]
    if (last && last.reduced === reduced) {
      last.n *= n
      last.stride = s[j]
    } else out.push({ n, stride: s[j], reduced })
  })
  return out
}

type Kind = 'sum' | 'max'

/** `s` folds value `v` in. NaN propagates through max (like jnp.max). */
const fold = (kind: Kind, v: string): string =>
  kind === 'sum' ? `s = s + ${v};` : `s = (s == s && (${v} > s || ${v} != ${v})) ? ${v} : s;`

/** One stage reducing `runs` of input `x` (the ref) into one value per kept element. */
const oneStage = (kind: Kind, runs: readonly Run[], arg: Ref): Stage => {
  const kept = runs.filter((r) => !r.reduced)
  const red = runs.filter((r) => r.reduced)
  const { lines, coords } = decompose(kept.map((r) => r.n))
  const base = indexExpr(0, coords, kept.map((r) => r.stride))
  const loops = red.map((r, j) => `for (let r${j} = 0; r${j} < ${r.n}; r${j}++) {`)
  const at = ['b', ...red.map((r, j) => (r.stride === 1 ? `r${j}` : `r${j} * ${r.stride}`))].join(' + ')
  const body = [
    ...lines,
    `const b = ${base};`,
    kind === 'sum' ? 'let s = 0;' : 'let s = a0[b];',
    ...loops,
    `const v = a0[${at}];`,
    fold(kind, 'v'),
    ...red.map(() => '}'),
    'return s;',
  ]
  return stage(kernelSource(1, body), sizeOf(kept.map((r) => r.n)), [arg], Math.max(...red.map((r) => r.n)))
}

/** First stage of a chunked reduction: partials over `chunks` chunks of `len` elements of the one reduced run. */
const chunkStage = (kind: Kind, runs: readonly Run[], chunks: number, len: number): Stage => {
  const kept = runs.filter((r) => !r.reduced)
  const red = runs.find((r) => r.reduced)!
  const { lines, coords } = decompose([...kept.map((r) => r.n), chunks])
  const ch = coords[coords.length - 1]
  const base = indexExpr(0, coords.slice(0, -1), kept.map((r) => r.stride))
  const step = (e: string) => (red.stride === 1 ? e : `(${e}) * ${red.stride}`)
  const body = [
    ...lines,
    `const b = ${base};`,
    `const c = ${ch} * ${len};`,
    kind === 'sum' ? 'let s = 0;' : `let s = a0[b + ${step('c')}];`,
    `for (let r = 0; r < ${len}; r++) {`,
    `const v = c + r < ${red.n} ? a0[b + ${step('c + r')}] : ${kind === 'sum' ? '0' : 's'};`,
    fold(kind, 'v'),
    '}',
    'return s;',
  ]
  return stage(kernelSource(1, body), sizeOf(kept.map((r) => r.n)) * chunks, [{ input: 0 }], len)
}

/** reduceSum / reduceMax of `x` over `axes`. */
export const reducePlan = (kind: Kind, x: Aval, axes: readonly number[], out: Aval): Plan => {
  const size = sizeOf(out.shape)
  if (sizeOf(x.shape) === 0) return zeros(size)
  const runs = runsOf(x.shape, axes)
  const red = runs.filter((r) => r.reduced)
  if (red.length === 0) return { kind: 'alias' } // only length-1 axes reduced: same data, new shape
  if (red.length > 1 || red[0].n <= chunkOver) return single(oneStage(kind, runs, { input: 0 }))
  const len = Math.ceil(Math.sqrt(red[0].n))
  const chunks = Math.ceil(red[0].n / len)
  const first = chunkStage(kind, runs, chunks, len)
  const second = oneStage(kind, size === 1 ? [{ n: chunks, stride: 1, reduced: true }] : [{ n: size, stride: chunks, reduced: false }, { n: chunks, stride: 1, reduced: true }], { stage: 0 })
  return { kind: 'stages', stages: [first, second] }
}

/** argmax of `x` along `axis`: the first index of the maximum (NaN counts as the maximum), as an integer-valued float. */
export const argmaxPlan = (x: Aval, axis: number): Plan => {
  const n = x.shape[axis]
  const before = sizeOf(x.shape.slice(0, axis))
  const after = sizeOf(x.shape.slice(axis + 1))
  const { lines, coords } = decompose([before, after])
  const body = [
    ...lines,
    `const b = ${indexExpr(0, coords, [n * after, 1])};`,
    'let best = a0[b];',
    'let at = 0;',
    `for (let r = 1; r < ${n}; r++) {`,
    `const v = a0[b + r * ${after}];`,
    'if ((v > best || v != v) && best == best) {',
    'best = v;',
    'at = r;',
    '}',
    '}',
    'return at;',
  ]
  return single(stage(kernelSource(1, body), before * after, [{ input: 0 }], n))
}
