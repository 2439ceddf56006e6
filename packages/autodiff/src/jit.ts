import type { Backend, Executable, Program, Var } from '@frugal-ts/core'
import {
  CoreError, Tensor, Tree, collectRunChecks, warnOnce, concrete, currentBackend, dispose, evalProgram, keep, scopeCreated, storageOf, toBackend, withTrace,
} from '@frugal-ts/core'
import { JitTrace } from './internal/JitTrace'
import { recording } from './profile'

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
   * beyond that is dropped: its executables are disposed (their workspace is
   * reused by later programs) and the constants tracing created are released,
   * so a function called with ever new signatures does not hold memory without bound.
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
  /** drops every cached signature, releasing its executables' memory and its constants (the next call traces again) */
  clear(): void
  /** what the backend compiled for these arguments (`describe` of its executable), or 'interpreted' */
  describe(...args: A): string
}

interface Entry {
  readonly program: Program
  /** the structure of the output tree */
  readonly outDef: Tree.TreeDef
  /** its leaves: non-tensor leaves kept, tensor leaves as their output position */
  readonly outLeaves: readonly unknown[]
  /** where each program output comes from: an input (≥ 0), a constant (−1 − index), or the run (null) */
  readonly sources: readonly (number | null)[]
  /** the first output position of each output's variable (outputs may repeat one) */
  readonly firstOf: readonly number[]
  /** the inputs returned as outputs (a donated one among them is not disposed) */
  readonly returned: ReadonlySet<number>
  /** the position of the first run-check flag among the outputs (the function's own outputs come before) */
  readonly firstCheck: number
  /** the message of each run check (`warnIf`), in output order from `firstCheck` */
  readonly checks: readonly string[]
  readonly executables: Map<Backend, Executable<unknown> | null>
  /** the program's constants on each backend it ran on (converted once, kept for the entry's life) */
  readonly consts: Map<Backend, Tensor[]>
  /** tensors this entry owns and releases when it is evicted (constants created while tracing, conversions) */
  readonly owned: Set<Tensor>
}

/** What one walk over a call's arguments finds. */
interface Scan {
  /** the cache key: tree structure, tensor shapes and dtypes, static (non-tensor) leaf values */
  readonly key: string
  /** the tensor leaves, in canonical tree order */
  readonly tensors: Tensor[]
  /** the argument position of each tensor */
  readonly argOf: number[]
  /** whether a tensor is a tracer (jit called inside a transformation) */
  readonly traced: boolean
}

/** One walk in `Tree`'s canonical order (object keys sorted; null and undefined empty). */
const scan = (args: readonly unknown[]): Scan => {
  const parts: string[] = []
  const tensors: Tensor[] = []
  const argOf: number[] = []
  let traced = false
  let arg = 0
  const visit = (x: unknown): void => {
    if (x instanceof Tensor) {
      parts.push(`T${x.dtype}[${x.shape.join(',')}]`)
      tensors.push(x)
      argOf.push(arg)
      if (x.trace !== null) traced = true
    } else if (x === null || x === undefined) parts.push(String(x))
    else if (Array.isArray(x)) {
      parts.push('[')
      for (const c of x) visit(c), parts.push(',')
      parts.push(']')
    } else if (!Tree.isLeafDefault(x)) {
      const o = x as Record<string, unknown>
      parts.push('{')
      for (const k of Object.keys(o).sort()) parts.push(JSON.stringify(k), ':'), visit(o[k]), parts.push(',')
      parts.push('}')
    } else if (typeof x === 'function') throw new CoreError('jit: a function argument cannot be part of a jitted signature; close over it instead')
    else parts.push(`${typeof x}:${String(x)}`)
  }
  for (; arg < args.length; arg++) visit(args[arg]), parts.push(';')
  return { key: parts.join(''), tensors, argOf, traced }
}

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
  for (const i of options.donate ?? [])
    if (!Number.isInteger(i) || i < 0) throw new CoreError(`jit: donate holds argument positions (non-negative integers), got ${String(i)} (at jit.donate)`)
  let traceCount = 0

  const entryFor = (args: A, key = scan(args).key): Entry => {
    const hit = cache.get(key)
    if (hit) {
      cache.delete(key)
      cache.set(key, hit)
      return hit
    }
    traceCount++
    let [entry, created] = scopeCreated(() =>
      withTrace(
        (level) => new JitTrace(level),
        (trace) => {
          const traced = Tree.map(args, (l: unknown) => (l instanceof Tensor ? trace.input(l) : l)) as A
          const [out, stated] = collectRunChecks(() => f(...traced))
          const outputs: Var[] = []
          const [leaves, outDef] = Tree.flatten(out)
          const outLeaves = leaves.map((l: unknown) => {
            if (!(l instanceof Tensor)) return l
            outputs.push(trace.varOf(l))
            return new OutputSlot(outputs.length - 1)
          })
          // run checks are extra outputs after the function's own; those of inner traces are not this program's
          const checks = stated.filter((c) => c.flag.trace === trace || c.flag.trace === null)
          const firstCheck = outputs.length
          for (const c of checks) outputs.push(trace.varOf(c.flag))
          const program = trace.program(outputs)
          const inputAt = new Map(program.inputs.map((v, i) => [v.id, i]))
          const constAt = new Map(program.consts.map((c, i) => [c.var.id, i]))
          const sources = outputs.map((v) => inputAt.get(v.id) ?? (constAt.has(v.id) ? -1 - constAt.get(v.id)! : null))
          const firstOf = outputs.map((v) => outputs.findIndex((w) => w.id === v.id))
          const returned = new Set(sources.filter((x): x is number => x !== null && x >= 0))
          return {
            program, outDef, outLeaves, sources, firstOf, returned, firstCheck, checks: checks.map((c) => c.message),
            executables: new Map(), consts: new Map(), owned: new Set(),
          } satisfies Entry
        },
      ),
    )
    const program = shareScalars(entry.program, created)
    entry = { ...entry, program }
    const consts = new Set(program.consts.map((c) => c.value))
    for (const t of created) if (consts.has(t) && !sharedScalars.has(t)) entry.owned.add(t)
    dispose([...created].filter((t) => !consts.has(t)))
    keep([...consts])
    cache.set(key, entry)
    for (const [k, old] of cache) {
      if (cache.size <= limit) break
      cache.delete(k)
      release(old)
    }
    return entry
  }

  const donated = new Set(options.donate ?? [])
  const run = (args: A, s: Scan): R => {
    for (const i of donated)
      if (i >= args.length) throw new CoreError(`jit: donate index ${i} is out of range for ${args.length} argument${args.length === 1 ? '' : 's'} (at jit.donate)`)
    const entry = entryFor(args, s.key)
    const inputs = s.tensors
    const backend = inputs.length > 0 ? inputs[0].backend : currentBackend()
    const donate: number[] = []
    if (donated.size > 0) for (let k = 0; k < inputs.length; k++) if (donated.has(s.argOf[k])) donate.push(k)
    const results = execute(entry, backend, inputs, donate)
    if (entry.checks.length > 0) readChecks(entry, results)
    return Tree.unflatten(entry.outDef, entry.outLeaves.map((l) => (l instanceof OutputSlot ? results[l.index] : l))) as R
  }

  const jitted = ((...args: A): R => {
    const s = scan(args)
    return s.traced ? f(...args) : run(args, s)
  }) as Jitted<A, R>
  Object.defineProperties(jitted, {
    traceCount: { get: () => traceCount },
    cacheSize: { get: () => cache.size },
  })
  Object.assign(jitted, {
    clear: () => {
      for (const entry of cache.values()) release(entry)
      cache.clear()
    },
    lower: (...args: A) => entryFor(args).program,
    describe: (...args: A) => {
      const inputs = scan(args).tensors
      const backend = inputs.length > 0 ? inputs[0].backend : currentBackend()
      return executableFor(entryFor(args), backend)?.describe ?? 'interpreted'
    },
  })
  return jitted
}

/** one tensor per backend and scalar value, shared by every jitted program (bounded by the distinct values used) */
const scalars = new WeakMap<Backend, Map<string, Tensor>>()
const sharedScalars = new WeakSet<Tensor>()

/**
 * `program` with every scalar constant that its tracing created replaced by
 * the shared tensor of that value, so that compiling another program (a new
 * signature, a FRUGAL piece for a new leaf shape) holds no new tensors for
 * the optimizer's b1, b2, ε and the like.
 */
const shareScalars = (program: Program, created: ReadonlySet<Tensor>): Program => {
  let changed = false
  const consts = program.consts.map((c) => {
    const t = c.value
    if (t.size !== 1 || !created.has(t)) return c
    let byValue = scalars.get(t.backend)
    if (!byValue) scalars.set(t.backend, (byValue = new Map()))
    const v = t.dataSync()[0]
    const key = `${t.dtype}[${t.shape.join(',')}]${Object.is(v, -0) ? '-0' : String(v)}`
    let shared = byValue.get(key)
    if (!shared) byValue.set(key, (shared = keep(t))), sharedScalars.add(t)
    changed = true
    return { var: c.var, value: shared }
  })
  return changed ? { ...program, consts } : program
}

/**
 * Frees what a dropped cache entry holds: each backend's executable (its
 * planned workspace and staging buffers go back to the backend, to be reused
 * by later programs) and the constants tracing created or conversions made.
 */
const release = (entry: Entry): void => {
  for (const exe of entry.executables.values()) exe?.dispose?.()
  entry.executables.clear()
  entry.consts.clear()
  dispose([...entry.owned])
  entry.owned.clear()
}

/** warns for every run check whose flag came out true, then releases the flags the run computed */
const readChecks = (entry: Entry, results: readonly Tensor[]): void => {
  const flags = results.slice(entry.firstCheck)
  flags.forEach((flag, k) => flag.item() && warnOnce(entry.checks[k]))
  const own = new Set(results.slice(0, entry.firstCheck))
  dispose([...new Set(flags.filter((flag, k) => entry.sources[entry.firstCheck + k] === null && !own.has(flag)))])
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
  const rec = recording()
  if (!exe) {
    rec?.untimed()
    const outs = evalProgram({ ...program, consts: program.consts.map((c, i) => ({ var: c.var, value: consts[i] })) }, inputs)
    for (const i of donate) if (!outs.includes(inputs[i])) disposeDonated(inputs[i])
    return outs
  }
  const ins = inputs.map((t) => storageOf(t, 'jit').handle)
  const cs = consts.map((c) => storageOf(c, 'jit').handle)
  let outHandles: unknown[]
  if (rec === null) outHandles = exe.run(ins, cs, donate)
  else {
    // profiled (see `profile`): the executable times each kernel into `times`
    const times = rec.times(exe)
    const t0 = performance.now()
    outHandles = exe.run(ins, cs, donate, times)
    rec.ran(exe, performance.now() - t0)
  }
  const { sources, firstOf, returned } = entry
  const outs: Tensor[] = []
  program.outputs.forEach((v, i) => {
    const src = sources[i]
    if (src !== null) outs.push(src >= 0 ? inputs[src] : consts[-1 - src])
    else outs.push(firstOf[i] < i ? outs[firstOf[i]] : concrete(backend, outHandles[i], v.aval.shape, v.aval.dtype))
  })
  for (const i of donate) if (!returned.has(i)) disposeDonated(inputs[i])
  return outs
}

/** releases a donated input's handle (the backend keeps any buffer an output took over) */
const disposeDonated = (t: Tensor): void => dispose(t)

