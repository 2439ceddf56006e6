/**
 * `compile`: what gets fused and rewritten (per tfjs backend), that compiled
 * programs compute what the reference computes, and that a call leaves only its
 * outputs behind (intermediates and donated inputs released).
 */
import * as tf from '@tensorflow/tfjs-core'
import { jit, valueAndGrad } from '@frugal-ts/autodiff'
import {
  add, broadcastTo, clipByValue, dispose, div, fromArray, getBackend, keep, matmul, matrixTranspose, minimum, mul, relu, reshape,
  rsqrt, scope, sqrt, square, sub, sum, tanh, withBackend,
} from '@frugal-ts/core'
import type { Tensor } from '@frugal-ts/core'
import { beforeAll, describe, expect, it } from 'vitest'
import { TfjsBackendError } from '../src/index'
import type { TfjsBackend } from '../src/index'
import { expectClose, names, startBoth, tfTensors } from './setup'

let backends: Record<(typeof names)[number], TfjsBackend>
beforeAll(async () => {
  backends = await startBoth()
})

const ramp = (shape: number[], scale = 1, phase = 0) => {
  const n = shape.reduce((a, b) => a * b, 1)
  return fromArray(Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.7 + phase) * scale), shape)
}

const dense = (x: Tensor, w: Tensor, b: Tensor) => relu(add(matmul(x, w), b))
const gramT = (a: Tensor, b: Tensor) => add(matmul(matrixTranspose(a), b), matmul(a, matrixTranspose(b)))
const composites = (x: Tensor, y: Tensor) =>
  add(
    add(sub(x, y), minimum(x, y)),
    add(
      mul(square(x), rsqrt(add(square(y), 1))),
      add(div(1, add(square(x), 2)), clipByValue(add(x, broadcastTo(reshape(sum(y, 0), [1, 5]), [4, 5])), -0.5, 0.5)),
    ),
  )

describe.each(names)('%s', (name) => {
  const tfName = name.slice('tfjs-'.length)
  const run = <A extends Tensor[]>(f: (...xs: A) => Tensor, make: () => A) => withBackend(name, () => scope(() => f(...make()).dataSync()))

  it('fuses matmul + bias + relu into one tf.fused.matMul', () => {
    const make = () => [ramp([6, 5]), ramp([5, 4], 0.5, 1), ramp([4], 0.1, 2)] as [Tensor, Tensor, Tensor]
    const f = jit(dense)
    const d = withBackend(name, () => scope(() => f.describe(...make())))
    expect(d).toContain(`tfjs(${tfName})`)
    expect(d).toContain('1 matmul+bias+relu')
    expect(d).toContain('3 equations -> 1 tfjs steps')
    expectClose(name, () => f(...make()))
  })

  it(tfName === 'wasm' ? 'keeps transposes feeding matmul explicit (tfjs-wasm transposed matMul is slow)' : 'folds transposes feeding matmul into transposeA/transposeB', () => {
    const make = () => [ramp([5, 5], 1, 0), ramp([5, 5], 1, 3)] as [Tensor, Tensor]
    const f = jit(gramT)
    const d = withBackend(name, () => scope(() => f.describe(...make())))
    expect(d).toContain(tfName === 'wasm' ? '2 transposes kept explicit' : '2 transposes folded into matMul flags')
    expectClose(name, () => f(...make()), 1e-5, 1e-5)
  })

  it('rewrites core composites to tfjs ops (sub, minimum, square, rsqrt, reciprocal) and skips broadcasts, with the same values', () => {
    const make = () => [ramp([4, 5], 2), ramp([4, 5], 1.5, 1)] as [Tensor, Tensor]
    const f = jit(composites)
    const d = withBackend(name, () => scope(() => f.describe(...make())))
    // (the repeated square(x) is shared by jit's tracing already, so this program has no repeated equation left for tfjs's pass)
    for (const k of ['1 sub', '2 minimum', '2 square', '1 rsqrt', '1 reciprocal', '1 broadcast skipped']) expect(d).toContain(k)
    expectClose(name, () => f(...make()))
  })

  it('shares an equation repeated with its operands swapped (commutative ones; jit shares exact repeats itself)', () => {
    const make = () => [ramp([4, 5], 2), ramp([4, 5], 1.5, 1)] as [Tensor, Tensor]
    const f = jit((x: Tensor, y: Tensor) => add(mul(x, y), tanh(mul(y, x))))
    const d = withBackend(name, () => scope(() => f.describe(...make())))
    expect(d).toContain('1 repeated equation shared')
    expectClose(name, () => f(...make()))
  })

  it('a call leaves only its outputs: intermediates are freed inside the one tf.tidy', () => {
    const [x, w, b] = withBackend(name, () => keep([ramp([8, 5]), ramp([5, 3]), ramp([3])]))
    const f = jit((x: Tensor, w: Tensor, b: Tensor) => [sum(tanh(dense(x, w, b))), mul(x, 2)])
    withBackend(name, () => scope(() => f(x, w, b)))
    const [t0, m0] = [tfTensors(), getBackend(name).memory()]
    const outs = withBackend(name, () => f(x, w, b))
    expect(tfTensors()).toBe(t0 + 2)
    expect(getBackend(name).memory()).toEqual({ tensors: m0.tensors + 2, bytes: m0.bytes + 4 + 8 * 5 * 4 })
    dispose(outs)
    expect(tfTensors()).toBe(t0)
    dispose([x, w, b])
  })

  it('donated inputs are released by the call (after their last use) unless returned; other inputs survive', () => {
    const step = jit((w: Tensor, g: Tensor) => ({ w: sub(w, mul(g, 0.1)), same: g }), { donate: [0, 1] })
    const g0 = withBackend(name, () => keep(ramp([3, 3])))
    let w = withBackend(name, () => keep(ramp([3, 3], 1, 1)))
    const expected = Array.from(withBackend('cpu', () => scope(() => sub(ramp([3, 3], 1, 1), mul(ramp([3, 3]), 0.1)).dataSync())))
    withBackend(name, () => step.lower(w, g0)) // traced first: the program's constant 0.1 lives on in jit's cache
    const [t0, m0] = [tfTensors(), getBackend(name).memory()]
    // (called under withBackend(name) so that the program's constants are traced on this backend)
    const out = withBackend(name, () => step(w, g0))
    expect(w.isDisposed).toBe(true)
    expect(out.same).toBe(g0)
    expect(g0.isDisposed).toBe(false)
    expect(tfTensors()).toBe(t0)
    expect(getBackend(name).memory()).toEqual(m0)
    Array.from(out.w.dataSync()).forEach((v, i) => expect(v).toBeCloseTo(expected[i], 6))
    w = out.w
    for (let i = 0; i < 5; i++) w = withBackend(name, () => step(w, g0).w)
    expect(tfTensors()).toBe(t0)
    dispose([w, g0])
  })

  it('an output repeated or equal to an input is returned as one tensor', () => {
    const f = jit((x: Tensor) => {
      const y = mul(x, 3)
      return [y, y, x]
    })
    const x = withBackend(name, () => keep(ramp([2, 2])))
    withBackend(name, () => f.lower(x))
    const m0 = getBackend(name).memory()
    const [a, b, c] = withBackend(name, () => f(x))
    expect(a).toBe(b)
    expect(c).toBe(x)
    expect(getBackend(name).memory().tensors).toBe(m0.tensors + 1)
    dispose([a, x])
  })

  it('jit(valueAndGrad) of an MLP loss matches the reference', () => {
    const make = () => [{ w1: ramp([6, 8], 0.5), b1: ramp([8], 0.1, 1), w2: ramp([8, 3], 0.5, 2) }, ramp([4, 6], 1, 3)] as const
    const loss = (p: { w1: Tensor; b1: Tensor; w2: Tensor }, x: Tensor) => sum(square(matmul(dense(x, p.w1, p.b1), p.w2)))
    const vg = jit(valueAndGrad(loss))
    for (const pick of [(r: [Tensor, { w1: Tensor }]) => r[0], (r: [Tensor, { w1: Tensor }]) => r[1].w1])
      expectClose(name, () => pick(vg(...make()) as [Tensor, { w1: Tensor }]), 1e-5, 1e-5)
  })

  it('run rejects a wrong number of arguments with a TfjsBackendError', () => {
    const f = jit((x: Tensor) => sqrt(x))
    const program = withBackend(name, () => scope(() => f.lower(ramp([2]))))
    const exe = backends[name].compile(program)
    expect(() => exe.run([], [])).toThrow(TfjsBackendError)
    expect(() => exe.run([], [])).toThrow(/run expects 1 inputs and 0 consts, got 0 and 0/)
    void run
    void tf
  })
})
