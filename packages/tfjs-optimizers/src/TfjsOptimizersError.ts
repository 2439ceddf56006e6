/**
 * The one error class of `@frugal-ts/tfjs-optimizers`: gradients for variables
 * the optimizer does not know, optimizer weights that do not fit the model, a
 * configuration that cannot be saved or rebuilt. The message says what was
 * wrong, where, and what was expected.
 * @example
 * try { await opt.setWeights([]) } catch (e) { e instanceof TfjsOptimizersError } // true: no 'iter' weight
 */
export class TfjsOptimizersError extends Error {
  override readonly name = 'TfjsOptimizersError'
  /**
   * @param message what was wrong, where, and what was expected
   * @param options the underlying error, if any
   */
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options)
  }
}
