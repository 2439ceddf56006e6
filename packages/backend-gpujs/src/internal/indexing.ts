/**
 * The primitives whose output element reads a computed place: matmul
 * (batched, broadcast batch axes), gather (jnp.take), scatterAdd (its
 * inverse, duplicates add), pad and concat.
 *
 * GPU kernels cannot throw: gather reads 0 for an out-of-range index and
 * scatterAdd drops its update (the cpu backend throws).
 * @internal
 */
import type { Aval, PrimitiveParams } from '@frugal-ts/core'
import { broadcastStrides, decompose, indexExpr, kernelSource, sizeOf, stridesOf } from './source'
import type { Plan, Ref, Stage } from './stage'
import { maxArgs, single, stage, zeros } from './stage'

/** [..., m, k] × [..., k, n] with broadcast batch axes: one thread per output element, a k-loop each. */
export const matmulPlan = (avals: readonly Aval[], out: Aval): Plan => {
  const [a, b] = avals
  const [m, k] = a.shape.slice(-2)
  const n = b.shape[b.shape.length - 1]
  const batch = out.shape.slice(0, -2)
  if (k === 0) return zeros(sizeOf(out.shape))
  const aStrides = [...broadcastStrides(a.shape.slice(0, -2), batch).map((s) => s * m * k), k, 0]
  const bStrides = [...broadcastStrides(b.shape.slice(0, -2), batch).map((s) => s * k * n), 0, 1]
  const { lines, coords } = decompose(out.shape)
  const body = [
    ...lines,
    `const ab = ${indexExpr(0, coords, aStrides)};`,
    `const bb = ${indexExpr(0, coords, bStrides)};`,
    'let s = 0;',
    `for (let r = 0; r < ${k}; r++) {`,
    `s = s + a0[ab + r] * a1[bb + r * ${n}];`,
    '}',
    'return s;',
  ]
  return single(stage(kernelSource(2, body), sizeOf(out.shape), [{ input: 0 }, { input: 1 }], k))
}

/** take(x, indices, axis): out[b, i, a] = x[b, indices[i], a]. */
export const gatherPlan = (avals: readonly Aval[], axis: number, out: Aval): Plan => {
  const [x, idx] = avals
  const n = x.shape[axis]
  const after = sizeOf(x.shape.slice(axis + 1))
  const k = sizeOf(idx.shape)
  const { lines, coords } = decompose([sizeOf(x.shape.slice(0, axis)), k, after])
  const [cb, ck, ca] = coords
  const body = [
    ...lines,
    `const j = a1[${ck}];`,
    `return j >= 0 && j < ${n} ? a0[${indexExpr(0, [cb, 'j', ca], [n * after, after, 1])}] : 0;`,
  ]
  return single(stage(kernelSource(2, body), sizeOf(out.shape), [{ input: 0 }, { input: 1 }]))
}

/** scatterAdd(indices, updates; axis, size): out[b, j, a] = Σ_{i: indices[i] = j} updates[b, i, a]. */
export const scatterAddPlan = (avals: readonly Aval[], p: PrimitiveParams['scatterAdd'], out: Aval): Plan => {
  const [idx, u] = avals
  const k = sizeOf(idx.shape)
  const after = sizeOf(u.shape.slice(p.axis + idx.shape.length))
  if (k === 0) return zeros(sizeOf(out.shape))
  const { lines, coords } = decompose([sizeOf(u.shape.slice(0, p.axis)), p.size, after])
  const [cb, cj, ca] = coords
  const body = [
    ...lines,
    'let s = 0;',
    `for (let t = 0; t < ${k}; t++) {`,
    `s = s + (a0[t] == ${cj} ? a1[${indexExpr(0, [cb, 't', ca], [k * after, after, 1])}] : 0);`,
    '}',
    out.dtype === 'bool' ? 'return s != 0 ? 1 : 0;' : 'return s;',
  ]
  return single(stage(kernelSource(2, body), sizeOf(out.shape), [{ input: 0 }, { input: 1 }], k))
}

/** Zero padding: the input where every coordinate is inside its box, else 0. */
export const padPlan = (x: Aval, lo: readonly number[], out: Aval): Plan => {
  if (sizeOf(x.shape) === 0) return zeros(sizeOf(out.shape))
  const s = stridesOf(x.shape)
  const { lines, coords } = decompose(out.shape)
  const inside = coords.flatMap((c, j) => (out.shape[j] === x.shape[j] ? [] : [`${c} >= ${lo[j]}`, `${c} < ${lo[j] + x.shape[j]}`]))
  const at = indexExpr(-lo.reduce((b, l, j) => b + l * s[j], 0), coords, s)
  const read = `a0[${at}]`
  return single(stage(kernelSource(1, [...lines, `return ${inside.length ? `${inside.join(' && ')} ? ${read} : 0` : read};`]), sizeOf(out.shape), [{ input: 0 }]))
}

/** One kernel joining `parts` (shapes, refs) along `axis` into `out`. */
const concatStage = (parts: readonly { shape: readonly number[]; ref: Ref }[], axis: number, out: readonly number[]): Stage => {
  const { lines, coords } = decompose(out)
  const ca = coords[axis]
  let offset = 0
  const reads = parts.map((p, k) => {
    const s = stridesOf(p.shape)
    const read = { end: offset + p.shape[axis], at: `a${k}[${indexExpr(-offset * s[axis], coords, s)}]` }
    offset += p.shape[axis]
    return read
  })
  const expr = reads.reduceRight((rest, r, k) => (k === reads.length - 1 ? r.at : `(${ca} < ${r.end} ? ${r.at} : ${rest})`), '')
  return stage(kernelSource(parts.length, [...lines, `return ${expr};`]), sizeOf(out), parts.map((p) => p.ref))
}

/** concat(axis): empty inputs skipped, more than `maxArgs` inputs joined in several kernels. */
export const concatPlan = (avals: readonly Aval[], axis: number, out: Aval): Plan => {
  let parts = avals.flatMap((a, k) => (sizeOf(a.shape) === 0 ? [] : [{ shape: a.shape, ref: { input: k } as Ref }]))
  const stages: Stage[] = []
  while (parts.length > maxArgs) {
    const group = parts.slice(0, maxArgs)
    const shape = [...group[0].shape]
    shape[axis] = group.reduce((n, p) => n + p.shape[axis], 0)
    stages.push(concatStage(group, axis, shape))
    parts = [{ shape, ref: { stage: stages.length - 1 } }, ...parts.slice(maxArgs)]
  }
  stages.push(concatStage(parts, axis, out.shape))
  return { kind: 'stages', stages }
}
