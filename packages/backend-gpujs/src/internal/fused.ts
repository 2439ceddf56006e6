/**
 * One generated kernel for a chain of elementwise ops (the unit `compile`
 * fuses): each leaf is read once through its broadcast strides, each op is a
 * temporary, the last op is returned.
 *
 * On the CPU modes (gpu.js's JavaScript and WebAssembly kernels) ops whose
 * inputs are all scalars (Adam's bias corrections `1 - b1^t`) would be
 * recomputed for every element; there they are *hoisted*: computed once per
 * run on the host, where scalar leaves are plain arrays, and passed to the
 * kernel in one small array. On WebGL they stay in the shader, where
 * recomputing is cheaper than reading a GPU value back.
 * @internal
 */
import type { DType, Primitive } from '@frugal-ts/core'
import { exprOf } from './elementwise'
import { broadcastStrides, kernelSource, lit, readOperands, sizeOf } from './source'

/** A value the fused body reads: a leaf (an operand buffer), an earlier op, or a literal. */
export type FusedRef = { readonly leaf: number } | { readonly op: number } | { readonly literal: number }

/** One elementwise op of a fused kernel. */
export interface FusedOp {
  readonly prim: Primitive
  readonly params: unknown
  readonly inputs: readonly FusedRef[]
  readonly inDtypes: readonly DType[]
  readonly outDtype: DType
}

/** A fused kernel: its source, which leaves it reads (its first arguments), and the hoisted scalar part. */
export interface FusedKernel {
  readonly source: string
  /** indices of the leaves passed to the kernel, in argument order */
  readonly args: readonly number[]
  /** the scalar ops computed on the host: from the values of `leaves` (size-1 leaves), the kernel's last argument */
  readonly hoisted?: { readonly leaves: readonly number[]; readonly run: (values: readonly number[]) => Float32Array }
}

/**
 * The kernel computing `ops` over an output of shape `out` from `leaves`
 * (their shapes broadcast to `out`).
 * @param hoist compute scalar-only ops once on the host (CPU modes)
 */
export const fusedKernel = (out: readonly number[], leaves: readonly (readonly number[])[], ops: readonly FusedOp[], hoist: boolean): FusedKernel => {
  const scalarLeaf = leaves.map((shape) => sizeOf(shape) === 1)
  const uniform: boolean[] = []
  ops.forEach((o, j) => {
    uniform[j] =
      hoist && sizeOf(out) > 1 && o.inputs.every((r) => ('literal' in r ? true : 'leaf' in r ? scalarLeaf[r.leaf] : uniform[r.op]))
  })
  const used = (pick: (j: number) => boolean) => {
    const leafSet = new Set<number>()
    const opSet = new Set<number>()
    ops.forEach((o, j) => {
      if (!pick(j)) return
      for (const r of o.inputs) if ('leaf' in r) leafSet.add(r.leaf)
      else if ('op' in r && uniform[r.op] && !uniform[j]) opSet.add(r.op)
    })
    return { leaves: [...leafSet].sort((a, b) => a - b), ops: [...opSet].sort((a, b) => a - b) }
  }
  const device = used((j) => !uniform[j])
  const host = used((j) => uniform[j])
  const last = ops.length - 1
  if (uniform[last]) device.ops.push(last) // a broadcast scalar: the kernel only spreads it
  const argOf = new Map(device.leaves.map((l, k) => [l, k]))
  const hoistedAt = new Map(device.ops.map((j, k) => [j, k]))

  const lines = readOperands(out, device.leaves.map((l) => ({ base: 0, strides: broadcastStrides(leaves[l], out) })))
  const name = (r: FusedRef) => ('leaf' in r ? `x${argOf.get(r.leaf)}` : 'op' in r ? `t${r.op}` : lit(r.literal))
  ops.forEach((o, j) => {
    if (uniform[j]) {
      if (hoistedAt.has(j)) lines.push(`const t${j} = a${device.leaves.length}[${hoistedAt.get(j)}];`)
      return
    }
    const b = exprOf(o.prim, o.params, o.inDtypes, o.outDtype, o.inputs.map(name), `t${j}`)
    lines.push(...b.pre, `const t${j} = ${b.expr};`)
  })
  lines.push(`return t${ops.length - 1};`)
  const source = kernelSource(device.leaves.length + (device.ops.length > 0 ? 1 : 0), lines)
  if (device.ops.length === 0) return { source, args: device.leaves }

  const hostName = (r: FusedRef) => ('leaf' in r ? `s${r.leaf}` : 'op' in r ? `t${r.op}` : lit(r.literal))
  const body: string[] = []
  ops.forEach((o, j) => {
    if (!uniform[j]) return
    const b = exprOf(o.prim, o.params, o.inDtypes, o.outDtype, o.inputs.map(hostName), `t${j}`)
    body.push(...b.pre, `const t${j} = Math.fround(${b.expr});`)
  })
  body.push(`return Float32Array.of(${device.ops.map((j) => `t${j}`).join(', ')});`)
  const fn = new Function(...host.leaves.map((l) => `s${l}`), body.join('\n')) as (...xs: number[]) => Float32Array
  return { source, args: device.leaves, hoisted: { leaves: host.leaves, run: (values) => fn(...values) } }
}

/** The source of the kernel of `ops` (no hoisting: every leaf is an argument in order). */
export const fusedSource = (out: readonly number[], leaves: readonly (readonly number[])[], ops: readonly FusedOp[]): string =>
  fusedKernel(out, leaves, ops, false).source
