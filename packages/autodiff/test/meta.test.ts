/**
 * Meta-tests: the checks of rules.test.ts (float32 rules against float64 finite differences,
 * the same harness, tolerance and run count) go red on a deliberately broken VJP rule, JVP
 * rule and kernel, each only 0.1 % off, and on a piecewise-constant rule that leaks a gradient.
 * Each patch is undone in `finally`.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { Backend, Primitive, Tensor } from '@frugal-ts/core'
import { bind, getBackend, mul, registerBackend, withBackend } from '@frugal-ts/core'
import { jvpRules, vjpRules } from '../src'
import type { FdCase } from './fd'
import { expectExactZero, expectRules, randomTensor } from './fd'

const runs = Number(process.env.FD_RUNS ?? 100)
const shapeArb = fc.array(fc.integer({ min: 1, max: 7 }), { minLength: 0, maxLength: 4 })
const unaryCase = (prim: Primitive, lo: number, hi: number): fc.Arbitrary<FdCase & { seed: number }> =>
  fc.record({ shape: shapeArb, seed: fc.integer({ min: 1, max: 2 ** 30 }) }).map(({ shape, seed }) => ({
    seed,
    args: [randomTensor(shape, seed, lo, hi)],
    fn: (x: Tensor) => bind(prim, [x], {} as never),
    wrt: [0],
  }))
const binaryCase = (prim: Primitive): fc.Arbitrary<FdCase & { seed: number }> =>
  fc.record({ shape: shapeArb, seed: fc.integer({ min: 1, max: 2 ** 30 }) }).map(({ shape, seed }) => ({
    seed,
    args: [randomTensor(shape, seed), randomTensor(shape, seed + 3)],
    fn: (a: Tensor, b: Tensor) => bind(prim, [a, b], {} as never),
    wrt: [0, 1],
  }))

/** Whether the suite's property fails on `arb` (the message of the first failure, or null). */
const failure = (arb: fc.Arbitrary<FdCase & { seed: number }>, check: (c: FdCase, seed: number) => void, backend?: string): string | null => {
  const run = () => fc.check(fc.property(arb, (c) => check(c, c.seed)), { numRuns: runs, seed: 2411_07837 })
  const r = backend ? withBackend(backend, run) : run()
  return r.failed ? String((r.errorInstance as Error)?.message ?? r.errorInstance) : null
}

/** Runs `body` with `table[prim]` replaced by `rule`, then puts the original back. */
const patched = <T, R>(table: T, prim: keyof T, rule: T[keyof T], body: () => R): R => {
  const t = table as Record<keyof T, T[keyof T]>
  const original = t[prim]
  t[prim] = rule
  try {
    return body()
  } finally {
    t[prim] = original
  }
}

describe('meta: the gradient checks fail on broken rules and kernels', () => {
  it('the unbroken exp, mul and tanh pass (so the failures below are the breakage)', () => {
    expect(failure(unaryCase('exp', -2, 2), (c, s) => expectRules('exp', c, s))).toBeNull()
    expect(failure(binaryCase('mul'), (c, s) => expectRules('mul', c, s))).toBeNull()
    expect(failure(unaryCase('tanh', -2, 2), (c, s) => expectRules('tanh', c, s))).toBeNull()
  })

  it('FAILS on a VJP rule 0.1 % off (exp: x̄ = 1.001·ȳ·y), naming the vjp', () => {
    const rule = vjpRules.exp
    const msg = patched(vjpRules, 'exp', ((ct, xs, y, p) => rule(mul(ct, 1.001), xs, y, p)) as typeof rule, () =>
      failure(unaryCase('exp', -2, 2), (c, s) => expectRules('exp', c, s)),
    )
    expect(msg).toMatch(/exp: vjp .* vs float64 fd/)
  })

  it('FAILS on a JVP rule 0.1 % off (mul: ṫ = 1.001·(ȧ·b + a·ḃ)), naming the jvp', () => {
    const rule = jvpRules.mul
    const msg = patched(jvpRules, 'mul', ((...args: Parameters<typeof rule>) => mul(rule(...args), 1.001)) as typeof rule, () =>
      failure(binaryCase('mul'), (c, s) => expectRules('mul', c, s)),
    )
    expect(msg).toMatch(/mul: jvp .* vs float64 fd/)
  })

  it('FAILS on a kernel 0.1 % off (tanh on the float32 backend; the float64 FD keeps the true tanh)', () => {
    const cpu = getBackend('cpu-js')
    const kernels = { ...cpu.kernels, tanh: (h: unknown[], a: never, p: never, o: never) => (cpu.kernels.tanh(h, a, p, o) as Float32Array).map((v) => v * 1.001) }
    registerBackend('cpu-tanh-off', () => ({ ...cpu, name: 'cpu-tanh-off', kernels }) as unknown as Backend)
    expect(failure(unaryCase('tanh', -2, 2), (c, s) => expectRules('tanh', c, s), 'cpu-tanh-off')).toMatch(/tanh: (vjp|jvp) .* vs float64 fd/)
  })

  it('FAILS when a piecewise-constant rule leaks a gradient (sign: JVP ṫ = 1e-6·ẋ)', () => {
    const rule = jvpRules.sign
    const msg = patched(jvpRules, 'sign', ((_: unknown, [t]: Tensor[]) => mul(t, 1e-6)) as unknown as typeof rule, () =>
      failure(unaryCase('sign', 0.2, 1), (c, s) => expectExactZero('sign', c, s)),
    )
    expect(msg).toMatch(/sign: jvp is not exactly zero/)
  })
})
