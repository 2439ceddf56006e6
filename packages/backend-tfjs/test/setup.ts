/**
 * Test helper: both Node tfjs backends started and registered as pinned
 * frugal-ts backends `tfjs-cpu` and `tfjs-wasm`, plus comparisons with the
 * reference `cpu` backend.
 */
import '@tensorflow/tfjs-backend-cpu'
import * as tf from '@tensorflow/tfjs-core'
import { registerBackend, scope, withBackend } from '@frugal-ts/core'
import type { Tensor } from '@frugal-ts/core'
import { expect } from 'vitest'
import { tfjsBackend, useTfjsBackend } from '../src/index'
import type { TfjsBackend } from '../src/index'
import { startWasm } from './wasm'

/** The frugal-ts backends under test, by the tfjs backend they are pinned to. */
export const names = ['tfjs-cpu', 'tfjs-wasm'] as const

/** Starts tfjs-cpu and tfjs-wasm and registers `tfjs-cpu` and `tfjs-wasm`; returns the backend instances. */
export const startBoth = async (): Promise<Record<(typeof names)[number], TfjsBackend>> => {
  await startWasm()
  await useTfjsBackend('cpu')
  const made = { 'tfjs-cpu': tfjsBackend({ backend: 'cpu' }), 'tfjs-wasm': tfjsBackend({ backend: 'wasm' }) }
  for (const n of names) registerBackend(n, () => made[n])
  return made
}

/** A host copy of a tensor: dtype, shape and data as a plain array. */
export interface Host {
  readonly dtype: string
  readonly shape: readonly number[]
  readonly data: number[]
}

export const host = (t: Tensor): Host => ({ dtype: t.dtype, shape: [...t.shape], data: Array.from(t.dataSync()) })

/** `f()` on backend `name` and on the reference `cpu`, read back inside a scope each. */
export const both = (name: string, f: () => Tensor): { actual: Host; expected: Host } => ({
  actual: withBackend(name, () => scope(() => host(f()))),
  expected: withBackend('cpu', () => scope(() => host(f()))),
})

/** Expects `f()` on `name` to equal the reference result exactly (dtype, shape, every value; NaN equals NaN). */
export const expectSame = (name: string, f: () => Tensor): Host => {
  const { actual, expected } = both(name, f)
  expect(actual).toEqual(expected)
  return actual
}

/** Expects `f()` on `name` to match the reference within float32 round-off. */
export const expectClose = (name: string, f: () => Tensor, rtol = 1e-5, atol = 1e-6): void => {
  const { actual, expected } = both(name, f)
  expect(actual.dtype).toBe(expected.dtype)
  expect(actual.shape).toEqual(expected.shape)
  actual.data.forEach((a, i) => {
    const e = expected.data[i]
    if (Math.abs(a - e) > atol + rtol * Math.abs(e)) throw new Error(`element ${i}: ${a} vs expected ${e}`)
  })
}

/** tfjs's live tensor count. */
export const tfTensors = (): number => tf.memory().numTensors
