import { CoreError } from './CoreError'
import type { Aval, Primitive, PrimitiveParams } from './Primitive'
import type { Tensor } from './Tensor'

/**
 * An interpreter on the trace stack (for transformation authors: `vjp`, `jvp`
 * and `jit` in `@frugal-ts/autodiff` are traces). Each active trace has a level;
 * `bind` hands a primitive to the highest-level trace among its inputs, after
 * lifting the lower-level inputs into it. Level 0, below every trace, is eager
 * evaluation on a backend.
 * @example
 * // a transformation subclasses Trace (lift, process, concrete, kind) and runs the user's function under it:
 * const out = withTrace(new MyTrace(nextLevel()), () => f(...inputs.map((x) => trace.lift(x))))
 */
export abstract class Trace {
  /** false once the transformation that opened this trace has returned */
  active = true
  constructor(readonly level: number) {}
  /** wraps a tensor of a lower level (a constant to this trace) as a tracer of this trace */
  abstract lift(x: Tensor): Tensor
  /** applies `prim` to tracers of this trace; `out` is the output's aval, already checked */
  abstract process<P extends Primitive>(prim: P, inputs: readonly Tensor[], params: PrimitiveParams[P], out: Aval): Tensor
  /** the concrete value under a tracer, where the trace knows it (vjp/jvp), else null (jit) */
  abstract concrete(x: Tensor): Tensor | null
  /** a name for error messages */
  abstract readonly kind: string
}

let depth = 0

/** The level the next trace gets. @example const level = nextLevel() // the level for a new Trace: one above the innermost active one */
export const nextLevel = (): number => depth + 1

/**
 * Runs `fn` with a new trace on top of the stack, deactivating it afterwards so
 * that escaped tracers are caught.
 * @example withTrace((level) => new MyTrace(level), (trace) => f(trace.lift(x)))
 */
export const withTrace = <T extends Trace, R>(make: (level: number) => T, fn: (trace: T) => R): R => {
  depth += 1
  const trace = make(depth)
  try {
    return fn(trace)
  } finally {
    trace.active = false
    depth -= 1
  }
}

/** @internal thrown when a tracer is used after its transformation returned */
export const escaped = (trace: Trace, what: string): never => {
  throw new CoreError(
    `${what}: a tensor traced by ${trace.kind} escaped its transformation (it was used after ${trace.kind} returned); return it from the function instead`,
  )
}
