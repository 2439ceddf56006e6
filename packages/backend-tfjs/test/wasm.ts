/**
 * Test helper: tfjs-backend-wasm registered and pointed at its .wasm binaries
 * in node_modules, then started.
 */
import { createRequire } from 'node:module'
import { dirname } from 'node:path'
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm'
import { useTfjsBackend } from '../src/index'

/** The folder of tfjs-backend-wasm's .wasm files (with a trailing slash). */
export const wasmDist = `${dirname(createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm'))}/`

/** Starts tfjs-wasm (making it the active tfjs backend). */
export const startWasm = async (): Promise<void> => {
  setWasmPaths(wasmDist)
  await useTfjsBackend('wasm')
}
