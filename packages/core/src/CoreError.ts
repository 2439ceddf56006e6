/**
 * The one error class of `@frugal-ts/core`: every shape, dtype, backend and
 * checkpoint error a user can hit is a `CoreError` whose message says what was
 * wrong, where, and what was expected.
 *
 * @example
 * ```ts
 * try { matmul(zeros([3, 4]), zeros([5, 6])) } catch (e) { e instanceof CoreError } // true
 * ```
 */
export class CoreError extends Error {
  override readonly name = 'CoreError'
  /** @param message what was wrong, where, and what was expected */
  constructor(message: string) {
    super(message)
  }
}
