/**
 * tfjs-wasm pointed at a folder without its .wasm files: `useTfjsBackend`
 * rejects (no hang) with a message that says to call `setWasmPaths` and where
 * the files are. Its own file: a failed wasm start cannot be retried in-process.
 */
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm'
import { expect, it } from 'vitest'
import { TfjsBackendError, useTfjsBackend } from '../src/index'

it('wasm without its .wasm files fails with a message naming setWasmPaths', async () => {
  setWasmPaths('/nonexistent/tfjs-wasm/')
  const t0 = performance.now()
  const error = await useTfjsBackend('wasm', { timeoutMs: 10_000 }).then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(error).toBeInstanceOf(TfjsBackendError)
  const message = (error as Error).message
  expect(message).toContain("tfjs backend 'wasm' could not start")
  expect(message).toContain('setWasmPaths(folder)')
  expect(message).toContain("createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm')")
  expect(performance.now() - t0).toBeLessThan(10_000)
})
