/**
 * The one error class of `@frugal-ts/backend-gpujs`: an unavailable mode, a
 * kernel that gpu.js could not build for the requested mode, a tensor too
 * large for float32 index math. The message says what was wrong and how to fix it.
 * @example
 * try { gpujsBackend({ mode: 'webgpu' }) } catch (e) { e instanceof GpujsError } // true
 */
export class GpujsError extends Error {
  override readonly name = 'GpujsError'
  /** @param message what was wrong, where, and what to do about it */
  constructor(message: string) {
    super(message)
  }
}
