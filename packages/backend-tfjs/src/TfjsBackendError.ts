/**
 * The one error class of `@frugal-ts/backend-tfjs`: a tfjs backend that is not
 * registered or could not start, a frugal-ts backend used before its tfjs
 * backend is ready, a compiled program called with the wrong arguments. The
 * message says what was wrong and what to do about it.
 * @example
 * try { await useTfjsBackend('webgpu') } catch (e) { e instanceof TfjsBackendError } // true in Node
 */
export class TfjsBackendError extends Error {
  override readonly name = 'TfjsBackendError'
  /**
   * @param message what was wrong, where, and what to do
   * @param options the underlying error, if any
   */
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options)
  }
}
