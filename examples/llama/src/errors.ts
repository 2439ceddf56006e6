/**
 * A mistake in what the user asked for (a flag, a file, a corpus): the CLI
 * prints its message on one line of stderr and exits with status 2.
 * @example throw new UsageError('unknown optimizer "adagrad" (expected adam, galore, badam or frugal)')
 */
export class UsageError extends Error {
  override readonly name = 'UsageError'
  /** @param message one line: what was wrong and what was expected */
  constructor(message: string) {
    super(message)
  }
}
