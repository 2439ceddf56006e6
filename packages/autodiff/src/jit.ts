import type { Backend, Executable, Program, Var } from '@frugal-ts/core'
import {
  CoreError, Tensor, Tree, concrete, currentBackend, dispose, evalProgram, keep, scopeCreated, storageOf, toBackend, withTrace,
} from '@frugal-ts/core'
import { JitTrace } from './internal/JitTrace'

/**
 * Options of `jit`.
 * @example
 * const step = jit((w: Tensor, g: Tensor) => sub(w, mul(g, 0.1)), { donate: [0] }) // w's buffer is reused; the old w is disposed
 */
export interface JitOptions {
  /**
   * Positional arguments whose tensors are donated: the compiled program may
   * reuse their buffers, and they are disposed after the call (reading them throws).
   */
  readonly donate?: readonly number[]
  /**
   * How many signatures stay cached (default 16). The least recently used one
   * beyond that is dropped with its executable and the constants tracing created,
   * so functions whose argument structure keeps changing (FRUGAL's random
   * blocks) do not hold memory without bound.
   */
  readonly cacheLimit?: number
}

/**
 * A jitted function, with its cache counters.
 * @example
 * const f = jit((x: Tensor) => mul(x, 2))
 * f(tensor([1, 2])) // [2, 4]
 * f.traceCount // 1; f.describe(tensor([1, 2])) says what the backend compiled
 */
export interface Jitted<A extends unknown[], R> {
  (...args: A): R
  /** how many times the function has been traced (once per new signature) */
  readonly traceCount: number
  /** how many signatures are cached */
  readonly cacheSize: number
  /** the traced program for these arguments (traced now if not cached) */
  lower(...args: A): Program
  /** what the backend compiled for these arguments (`describe` of its executable), or 'interpreted' */
  describe(...args: A): string
}

interface Entry {
  readonly program: Program
  /** output tree with non-tensor leaves kept and tensor leaves as their output position */
  readonly outTemplate: unknown
  readonly executables: Map<Backend, Executable<unknown> | null>
  /** the program's constants on each backend it ran on (converted once, kept for the entry's life) */
  readonly consts: Map<Backend, Tensor[]>
  /** tensors this entry owns and releases when it is evicted (constants created while tracing, conversions) */
  readonly owned: Set<Tensor>
}

/** A cache key: tree structure, tensor shapes/dtypes, and static (non-tensor) leaf values. */
const signature = (x: unknown): string => {
  if (x instanceof Tensor) return `T${x.dtype}[${x.shape.join(',')}]`
  if (Array.isArray(x)) return `[${x.map(signature).join(',')}]`
  if (x !== null && typeof x === 'object' && Object.getPrototypeOf(x) === Object.prototype)
    return `{${Object.keys(x)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${signature((x as Record<string, unknown>)[k])}`)
      .join(',')}}`
  if (typeof x === 'function') throw new CoreError('jit: a function argument cannot be part of a jitted signature; close over it instead')
  return `${typeof x}:${String(x)}`
}

const isTraced = (args: unknown[]): boolean => Tree.leaves(args).some((l) => l instanceof Tensor && l.trace !== null)

/**
 * Traces `f` once per input signature (tree structure, shapes, dtypes, and the
 * values of non-tensor leaves) into a `Program`, and runs it through the
 * backend's `compile` when it has one, else interprets it op by op. A whole
 * training step (forward, backward, optimizer update) can be jitted. Called on
 * tracers (inside grad or another jit) it simply calls `f`.
 * @example
 * const step = jit((w, x) => sub(w, mul(grad(loss)(w, x), 0.1)))
 * step(w, x); step(w, x) // traced once
 * step.traceCount // 1
 */
export const jit = <A extends unknown[], R>(f: (...args: A) => R, options: JitOptions = {}): Jitted<A, R> => {
  const cache = new Map<string, Entry>()
  const limit = options.cacheLimit ?? 16
  if (!Number.isInteger(limit) || limit < 1) throw new CoreError(`jit: cacheLimit must be a positive integer, got ${limit}`)
  let traceCount = 0

  const entryFor = (args: A): Entry => {
    const key = signature(args)
    const hit = cache.get(key)
    if (hit) {
      cache.delete(key)
      cache.set(key, hit)
      return hit
    }
    traceCount++
    const [entry, created] = scopeCreated(() =>
      withTrace(
        (level) => new JitTrace(level),
        (trace) => {
          const traced = Tree.map(args, (l: unknown) => (l instanceof Tensor ? trace.input(l) : l)) as A
          const out = f(...traced)
          const outputs: Var[] = []
          const outTemplate = Tree.map(out, (l: unknown) => {
            if (!(l instanceof Tensor)) return l
            outputs.push(trace.varOf(l))
            return new OutputSlot(outputs.length - 1)
          })
          return { program: trace.program(outputs), outTemplate, executables: new Map(), consts: new Map(), owned: new Set() } satisfies Entry
        },
      ),
    )
    const consts = new Set(entry.program.consts.map((c) => c.value))
    for (const t of created) if (consts.has(t)) entry.owned.add(t)
    dispose([...created].filter((t) => !consts.has(t)))
    keep([...consts])
    cache.set(key, entry)
    for (const [k, old] of cache) {
      if (cache.size <= limit) break
      cache.delete(k)
      dispose([...old.owned])
    }
    return entry
  }

  const run = (args: A): R => {
    const entry = entryFor(args)
    const inputs = Tree.leaves(args).filter((l): l is Tensor => l instanceof Tensor)
    const backend = inputs.length > 0 ? inputs[0].backend : currentBackend()
    const results = execute(entry, backend, inputs, donatedIndices(args))
    return Tree.map(entry.outTemplate, (l: unknown) => (l instanceof OutputSlot ? results[l.index] : l)) as R
  }

  const donatedIndices = (args: A): number[] => {
    if (!options.donate?.length) return []
    const out: number[] = []
    let k = 0
    args.forEach((a, i) => {
      for (const l of Tree.leaves(a)) if (l instanceof Tensor) (options.donate!.includes(i) && out.push(k), k++)
    })
    return out
  }

  const jitted = ((...args: A): R => (isTraced(args) ? f(...args) : run(args))) as Jitted<A, R>
  Object.defineProperties(jitted, {
    traceCount: { get: () => traceCount },
    cacheSize: { get: () => cache.size },
  })
  Object.assign(jitted, {
    lower: (...args: A) => entryFor(args).program,
    describe: (...args: A) => {
      const inputs = Tree.leaves(args).filter((l): l is Tensor => l instanceof Tensor)
      const backend = inputs.length > 0 ? inputs[0].backend : currentBackend()
      return executableFor(entryFor(args), backend)?.describe ?? 'interpreted'
    },
  })
  return jitted
}

class OutputSlot {
  constructor(readonly index: number) {}
}

const executableFor = (entry: Entry, backend: Backend): Executable<unknown> | null => {
  if (!entry.executables.has(backend)) entry.executables.set(backend, backend.compile ? backend.compile(entry.program) : null)
  return entry.executables.get(backend) ?? null
}

/** the program's constants on `backend`, converted once per backend and kept with the cache entry */
const constsOn = (entry: Entry, backend: Backend): Tensor[] => {
  let consts = entry.consts.get(backend)
  if (!consts) {
    consts = entry.program.consts.map((c) => {
      if (c.value.backend === backend) return c.value
      const moved = keep(toBackend(c.value, backend.name))
      entry.owned.add(moved)
      return moved
    })
    entry.consts.set(backend, consts)
  }
  return consts
}

const execute = (entry: Entry, backend: Backend, inputs: Tensor[], donate: number[]): Tensor[] => {
  const { program } = entry
  const consts = constsOn(entry, backend)
  const exe = executableFor(entry, backend)
  if (!exe) {
    const outs = evalProgram({ ...program, consts: program.consts.map((c, i) => ({ var: c.var, value: consts[i] })) }, inputs)
    for (const i of donate) if (!outs.includes(inputs[i])) disposeDonated(inputs[i])
    return outs
  }
  const outHandles = exe.run(
    inputs.map((t) => storageOf(t, 'jit').handle),
    consts.map((c) => storageOf(c, 'jit').handle),
    donate,
  )
  const byVar = new Map<number, Tensor>()
  program.inputs.forEach((v, i) => byVar.set(v.id, inputs[i]))
  program.consts.forEach((c, i) => byVar.set(c.var.id, consts[i]))
  const returned = new Set<Tensor>()
  const outs = program.outputs.map((v, i) => {
    let t = byVar.get(v.id)
    if (!t) {
      t = concrete(backend, outHandles[i], v.aval.shape, v.aval.dtype)
      byVar.set(v.id, t)
    }
    returned.add(t)
    return t
  })
  for (const i of donate) if (!returned.has(inputs[i])) disposeDonated(inputs[i])
  return outs
}

/** releases a donated input's handle (the backend keeps any buffer an output took over) */
const disposeDonated = (t: Tensor): void => dispose(t)

