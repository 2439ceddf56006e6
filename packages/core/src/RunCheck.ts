import { CoreError } from './CoreError'
import { logicalAnd } from './ops'
import type { Tensor } from './Tensor'

/**
 * Run-time checks that a traced program carries out: a transformation states
 * a condition on its traced values that the user should hear about (a FRUGAL
 * refresh due but never run), and `jit` computes it as an extra output of the
 * program and warns after each run where it holds. Eagerly the condition is
 * read at once.
 */

/**
 * A condition to warn about: a bool scalar (traced or not) and what to say when it is true.
 * @example const [out, checks] = collectRunChecks(() => f(x)) // checks: RunCheck[]
 */
export interface RunCheck {
  readonly flag: Tensor
  readonly message: string
}

let collectors: RunCheck[][] = []
let masks: Tensor[] = []

const warned = new Set<string>()

/**
 * Warns with `message` when `flag` (a bool scalar) is true: at once for a
 * concrete flag; for a traced one, after each run of the jitted program that
 * traced it (once per message). Inside `maskRunChecks(cond, …)` the warning
 * holds only where `cond` does too.
 * @param flag a bool scalar
 * @param message what the user is told
 * @throws CoreError when `flag` is not a bool scalar
 * @example warnIf(greaterEqual(state.count, state.nextRefresh), 'a refresh is due but was not run')
 */
export const warnIf = (flag: Tensor, message: string): void => {
  if (flag.dtype !== 'bool' || flag.rank !== 0)
    throw new CoreError(`warnIf: flag must be a bool scalar, got ${flag.dtype}[${flag.shape.join(', ')}]`)
  const masked = masks.reduce((f, m) => logicalAnd(f, m), flag)
  if (masked.trace === null) {
    if (masked.item()) warnOnce(message)
    return
  }
  const collector = collectors[collectors.length - 1]
  if (collector) collector.push({ flag: masked, message })
}

/**
 * Runs `fn` with the run checks it states ANDed with `cond`: for combinators
 * that compute an inner update and keep it only where `cond` holds (branch-free
 * gradient accumulation, skipped non-finite steps).
 * @example maskRunChecks(emit, () => inner.update(acc, state.inner, params))
 */
export const maskRunChecks = <R>(cond: Tensor, fn: () => R): R => {
  masks = [...masks, cond]
  try {
    return fn()
  } finally {
    masks = masks.slice(0, -1)
  }
}

/**
 * @internal for `jit`: runs `fn` (a tracing) and returns what it returned with the
 * traced run checks it stated.
 * @example const [out, checks] = collectRunChecks(() => f(...traced))
 */
export const collectRunChecks = <R>(fn: () => R): [R, RunCheck[]] => {
  const mine: RunCheck[] = []
  collectors = [...collectors, mine]
  try {
    return [fn(), mine]
  } finally {
    collectors = collectors.slice(0, -1)
  }
}

/**
 * @internal The warning itself: `console.warn`, once per message per process.
 * @example warnOnce('frugal: a refresh was due at step 5 and did not run')
 */
export const warnOnce = (message: string): void => {
  if (warned.has(message)) return
  warned.add(message)
  console.warn(message)
}
