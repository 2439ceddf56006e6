/**
 * What compiled cpu programs tell a profile about their kernels: one
 * `KernelInfo` per step that runs (reshape aliases run nothing), and the
 * index of each step's entry in a run's `profile` array.
 * @internal
 */
import type { KernelInfo } from '../../Backend'
import type { DType } from '../../DType'
import type { Var } from '../../Program'
import type { Step } from './fuse'

const short: Readonly<Record<DType, string>> = { float32: 'f32', int32: 'i32', bool: 'bool' }

const show = (v: Var): string => `${short[v.aval.dtype]}[${v.aval.shape.join(',')}]`

/** A step as a profile names it. @example kernelInfoOf(step, 'wasm') // { primitives: ['matmul'], kind: 'kernel', path: 'wasm', shapes: 'f32[8,64] f32[64,64] -> f32[8,64]' } */
export const kernelInfoOf = (s: Step, path: string, note?: string): KernelInfo => ({
  primitives: s.eqs.map((e) => e.prim),
  kind: s.kind,
  path,
  shapes: `${s.inputs.map(show).join(' ')} -> ${s.outs.map(show).join(' ')}`,
  ...(note ? { note } : {}),
})

/** Per step, its entry in the kernel list (−1 for an alias, which runs nothing). @example kernelSlots(steps) // Int32Array [0, -1, 1] */
export const kernelSlots = (steps: readonly Step[]): Int32Array => {
  let k = 0
  return Int32Array.from(steps, (s) => (s.kind === 'alias' ? -1 : k++))
}
