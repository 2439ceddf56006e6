/**
 * Profiles of jitted programs: `profile(fn)` runs `fn` with every jitted call
 * inside it timed per kernel (the backend's executable reads the clock around
 * each kernel only while a profile is on), and returns per-kernel times, named
 * by their primitives, shapes and class, with helpers to group them.
 */
import type { Executable, KernelInfo, Primitive } from '@frugal-ts/core'

/**
 * One kernel of a profiled program: what it runs and the time it took over
 * the profiled runs.
 * @example
 * const [, p] = profile(() => f(x))
 * p.programs[0].kernels[0] // { primitives: ['matmul'], kind: 'kernel', path: 'wasm', shapes: …, kernelClass: 'matmul', ms: 0.02, runs: 1 }
 */
export interface KernelTime extends KernelInfo {
  /** its class (see `kernelClass`) */
  readonly kernelClass: string
  /** wall time over all profiled runs, ms */
  readonly ms: number
  /** how many times it ran (the runs of its program) */
  readonly runs: number
}

/**
 * One compiled program seen by a profile.
 * @example profile(() => f(x))[1].programs[0].describe // 'cpu/wasm-simd: 5 equations -> 3 kernels …'
 */
export interface ProgramTime {
  /** the executable's `describe` */
  readonly describe: string
  /** how many times it ran inside the profile */
  readonly runs: number
  /** wall time of those runs, ms: its kernels plus the executable's own work (binding buffers, staging) */
  readonly runMs: number
  /** its kernels in execution order */
  readonly kernels: readonly KernelTime[]
}

/**
 * What `profile` measured.
 * @example
 * const [, p] = profile(() => { for (let i = 0; i < 10; i++) step(x) })
 * p.wallMs // the whole of fn; p.programs: per program, per kernel
 */
export interface Profile {
  /** the programs that ran, in order of their first run */
  readonly programs: readonly ProgramTime[]
  /** wall time of the whole `fn`, ms */
  readonly wallMs: number
  /** runs of jitted programs that could not be timed per kernel (interpreted, or an executable without `kernelInfo`) */
  readonly untimedRuns: number
}

const movement = new Set<Primitive>(['reshape', 'transpose', 'broadcast', 'slice', 'pad', 'concat'])

/**
 * The class of a kernel: `matmul`, `gather/scatter`, `reduce`, `movement`,
 * `elementwise (fused)` or `elementwise`, in that order of precedence (a
 * kernel of a backend's own kind, neither `kernel` nor `fused`, is its kind).
 * @example kernelClass({ primitives: ['sub', 'exp'], kind: 'fused', path: 'wasm', shapes: '' }) // 'elementwise (fused)'
 */
export const kernelClass = (k: KernelInfo): string => {
  if (k.kind !== 'kernel' && k.kind !== 'fused') return k.kind
  const p = k.primitives
  if (p.includes('matmul')) return 'matmul'
  if (p.includes('gather') || p.includes('scatterAdd')) return 'gather/scatter'
  if (p.includes('reduceSum') || p.includes('reduceMax') || p.includes('argmax')) return 'reduce'
  if (p.some((x) => movement.has(x))) return 'movement'
  return k.kind === 'fused' ? 'elementwise (fused)' : 'elementwise'
}

/**
 * A kernel's name in a profile: its primitive (with a note such as `Aᵀ·B`),
 * or for a fused group `fused ` and its distinct members in program order.
 * @example kernelLabel({ primitives: ['mul', 'add', 'mul'], kind: 'fused', path: 'wasm', shapes: '' }) // 'fused mul+add'
 */
export const kernelLabel = (k: KernelInfo): string => {
  const names = [...new Set(k.primitives)].join('+')
  return `${k.kind === 'kernel' ? names : `${k.kind} ${names}`}${k.note ? ` ${k.note}` : ''}`
}

/**
 * One row of a grouped profile.
 * @example groupKernels(p, (k) => k.kernelClass)[0] // { key: 'matmul', kernels: 24, runs: 240, ms: 31.5 }
 */
export interface KernelGroup {
  readonly key: string
  /** distinct kernels in the group */
  readonly kernels: number
  /** kernel executions (each kernel once per run of its program) */
  readonly runs: number
  /** their wall time, ms */
  readonly ms: number
}

/**
 * Every kernel of every program of `p`, grouped by `keyOf`, largest time first.
 * @example
 * groupKernels(p, (k) => k.kernelClass) // per class
 * groupKernels(p, (k) => `${k.kernelClass} / ${kernelLabel(k)}`) // per class and primitive
 */
export const groupKernels = (p: Profile, keyOf: (k: KernelTime) => string): KernelGroup[] => {
  const groups = new Map<string, { key: string; kernels: number; runs: number; ms: number }>()
  for (const program of p.programs)
    for (const k of program.kernels) {
      const key = keyOf(k)
      const g = groups.get(key) ?? { key, kernels: 0, runs: 0, ms: 0 }
      g.kernels++
      g.runs += k.runs
      g.ms += k.ms
      groups.set(key, g)
    }
  return [...groups.values()].sort((a, b) => b.ms - a.ms)
}

/** @internal what jit records into while a profile is on */
export interface Recording {
  /** the per-kernel array to pass to `run`, or undefined when the executable cannot time kernels */
  times(exe: Executable<unknown>): Float64Array | undefined
  /** one run of `exe` took `ms` */
  ran(exe: Executable<unknown>, ms: number): void
  /** one run that could not be timed per kernel */
  untimed(): void
}

interface Entry {
  readonly exe: Executable<unknown>
  readonly info: readonly KernelInfo[]
  readonly times: Float64Array
  runs: number
  runMs: number
}

let active: Recording | null = null

/** @internal the recording of the innermost active profile, or null */
export const recording = (): Recording | null => active

/**
 * Runs `fn` with every jitted program it runs timed per kernel, and returns
 * `fn`'s result with the profile. Works through any function that jits
 * internally (a library's `trainStep`). Outside a profile, executables take
 * no time readings at all; inside, results are the same bit for bit. `fn`
 * must be synchronous; a profile inside another takes the runs inside it.
 * @param fn what to profile
 * @returns `[fn's result, the profile]`
 * @example
 * const step = jit((w: Tensor, x: Tensor) => sum(exp(matmul(x, w))))
 * step(w, x) // trace and compile outside the profile
 * const [, p] = profile(() => { for (let i = 0; i < 10; i++) step(w, x) })
 * p.programs[0].kernels.map(kernelLabel) // ['matmul', 'fused exp', 'reduceSum'] (names depend on the backend's fusion)
 * groupKernels(p, (k) => k.kernelClass) // [{ key: 'matmul', kernels: 1, runs: 10, ms: … }, …]
 */
export const profile = <T>(fn: () => T): [T, Profile] => {
  const entries = new Map<Executable<unknown>, Entry>()
  let untimedRuns = 0
  const entryOf = (exe: Executable<unknown>): Entry | undefined => {
    let e = entries.get(exe)
    if (e === undefined && exe.kernelInfo !== undefined) {
      e = { exe, info: exe.kernelInfo, times: new Float64Array(exe.kernelInfo.length), runs: 0, runMs: 0 }
      entries.set(exe, e)
    }
    return e
  }
  const rec: Recording = {
    times: (exe) => entryOf(exe)?.times,
    ran: (exe, ms) => {
      const e = entryOf(exe)
      if (e === undefined) return void untimedRuns++
      e.runs++
      e.runMs += ms
    },
    untimed: () => void untimedRuns++,
  }
  const outer = active
  active = rec
  const t0 = performance.now()
  let result: T
  try {
    result = fn()
  } finally {
    active = outer
  }
  const wallMs = performance.now() - t0
  const programs = [...entries.values()].map(
    (e): ProgramTime => ({
      describe: e.exe.describe,
      runs: e.runs,
      runMs: e.runMs,
      kernels: e.info.map((k, i) => ({ ...k, kernelClass: kernelClass(k), ms: e.times[i], runs: e.runs })),
    }),
  )
  return [result, { programs, wallMs, untimedRuns }]
}
