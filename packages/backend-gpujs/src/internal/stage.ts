/**
 * Plans: what running one primitive means on the device, as pure data built
 * once per primitive and shape signature (`device.ts` runs them).
 * @internal
 */
import { kernelSource } from './source'

/** An argument of a stage: `{ input: k }` is the op's input k, `{ stage: j }` the output of stage j. */
export type Ref = { readonly input: number } | { readonly stage: number }

/** One generated kernel: its source, output element count and arguments. */
export interface Stage {
  readonly source: string
  readonly size: number
  readonly args: readonly Ref[]
  /** the longest loop in the source (gpu.js `loopMaxIterations` is raised to it) */
  readonly loops: number
}

/** How a primitive runs: generated kernels in order (the last one is the output), an alias, or nothing. */
export type Plan =
  | { readonly kind: 'stages'; readonly stages: readonly Stage[] }
  | { readonly kind: 'alias' }
  | { readonly kind: 'empty' }

/** Most texture arguments one generated kernel takes (WebGL guarantees 8 texture units, typical GPUs 16). */
export const maxArgs = 12

/** A stage from its parts. */
export const stage = (source: string, size: number, args: readonly Ref[], loops = 0): Stage => ({ source, size, args, loops })
/** A plan of one stage. */
export const single = (s: Stage): Plan => ({ kind: 'stages', stages: [s] })
/** The refs of the op's first `n` inputs. */
export const inputs = (n: number): Ref[] => Array.from({ length: n }, (_, k) => ({ input: k }))

/** A kernel writing zeros. */
export const zeros = (size: number): Plan => single(stage(kernelSource(0, ['return 0;']), size, []))

