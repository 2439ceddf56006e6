import { Tensor } from '@frugal-ts/core'

/**
 * The one error class of `@frugal-ts/frugal`: every configuration, label and
 * state error a user can hit is a `FrugalError` whose message says what was
 * wrong, where (`at adam.b1`), and what was expected.
 *
 * @example
 * ```ts
 * try { adam(1e-3, { b1: 1.5 }) } catch (e) {
 *   e instanceof FrugalError // true
 *   e.message // 'b1 must be in [0, 1), got 1.5 (at adam.b1)'
 * }
 * ```
 */
export class FrugalError extends Error {
  override readonly name = 'FrugalError'
  /** @param message what was wrong, where, and what was expected */
  constructor(message: string) {
    super(message)
  }
}

const fieldOf = (at: string): string => at.slice(at.lastIndexOf('.') + 1)

const show = (x: unknown): string =>
  typeof x === 'number' ? String(x) : typeof x === 'string' ? JSON.stringify(x) : x === null ? 'null' : typeof x

/** What a numeric option must satisfy; the message names the rule. */
interface Rule {
  readonly ok: (x: number) => boolean
  readonly expected: string
}

const rules = {
  finite: { ok: Number.isFinite, expected: 'a finite number' },
  positive: { ok: (x) => Number.isFinite(x) && x > 0, expected: 'positive' },
  nonNegative: { ok: (x) => Number.isFinite(x) && x >= 0, expected: 'non-negative' },
  decay: { ok: (x) => x >= 0 && x < 1, expected: 'in [0, 1)' },
  unit: { ok: (x) => x >= 0 && x <= 1, expected: 'in [0, 1]' },
  positiveInteger: { ok: (x) => Number.isInteger(x) && x > 0, expected: 'a positive integer' },
  nonNegativeInteger: { ok: (x) => Number.isInteger(x) && x >= 0, expected: 'a non-negative integer' },
} satisfies Record<string, Rule>

/** The name of a check: a number must be positive, in [0, 1), and so on. */
export type Check = keyof typeof rules

/** Concrete tensors already found to satisfy a rule: tensors are immutable, so each is read once. */
const passed = new WeakMap<Tensor, Set<Check>>()
/** Tensors computed inside a step (schedule values): not read back at every step. */
const exempt = new WeakSet<Tensor>()

/**
 * @internal Marks a tensor computed inside a step (a schedule's value) as not
 * to be read back by `check`, so an eager step does not wait on the device
 * for it. Returns it.
 * @example const lr = trusted(schedule(count))
 */
export const trusted = (t: Tensor): Tensor => (exempt.add(t), t)

const checkTensor = (value: Tensor, rule: Check, at: string): void => {
  const field = fieldOf(at)
  if (value.rank !== 0)
    throw new FrugalError(`${field} must be a number or a scalar tensor, got a tensor of shape [${value.shape.join(', ')}] (at ${at})`)
  if (value.dtype !== 'float32' && !(value.dtype === 'int32' && rule.endsWith('nteger')))
    throw new FrugalError(`${field} must be a float32 scalar, got ${value.dtype === 'int32' ? 'an' : 'a'} ${value.dtype} tensor (at ${at})`)
  // a tracer inside jit/grad has no value yet: it is checked where it was made (eagerly), not here
  if (value.trace !== null || exempt.has(value) || passed.get(value)?.has(rule)) return
  const x = value.item()
  const r: Rule = rules[rule]
  if (!r.ok(x)) throw new FrugalError(`${field} must be ${r.expected}, got ${x} (a scalar tensor) (at ${at})`)
  const seen = passed.get(value) ?? new Set<Check>()
  seen.add(rule)
  passed.set(value, seen)
}

/**
 * @internal Validates a numeric option where it enters (construction, or
 * `setHyperparam`). `at` is where the option sits (`adam.b1`); its last
 * segment names the field in the message. A concrete scalar tensor is read
 * once and checked like a number; a tracer (inside `jit`/`grad`) has no value
 * to read, so only its shape and dtype are checked.
 * @throws FrugalError `b1 must be in [0, 1), got 1.5 (at adam.b1)`
 * @example check(0.9, 'decay', 'adam.b1')
 */
export const check = (value: unknown, rule: Check, at: string): void => {
  if (value instanceof Tensor) return checkTensor(value, rule, at)
  const r: Rule = rules[rule]
  if (typeof value !== 'number' || !r.ok(value))
    throw new FrugalError(`${fieldOf(at)} must be ${r.expected}, got ${show(value)} (at ${at})`)
}

/**
 * @internal Validates a learning rate: a positive number, a scalar tensor or a schedule.
 * @throws FrugalError `learningRate must be positive, got 0 (at adam.learningRate)`
 * @example checkLearningRate(1e-3, 'adam.learningRate')
 */
export const checkLearningRate = (value: unknown, at: string): void => {
  if (typeof value === 'function') return
  check(value, 'positive', at)
}
