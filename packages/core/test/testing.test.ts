import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import type { Backend, Primitive } from '../src'
import { Shape, Tree, getBackend, inferAval, registerBackend, tensor } from '../src'
import {
  allClose, arbBroadcastShapes, arbKey, arbReshape, arbShape, arbTensor, arbTree, assertAllClose, cases, checkComposite,
  checkParams, checkVariant, conformance, gpuTolerances, tolerances, toTensor,
} from '../src/testing'
import type { AutodiffFunctions, CaseInput } from '../src/testing'

describe('allClose', () => {
  it('uses |a − e| ≤ atol + rtol·|e|', () => {
    expect(allClose([1 + 1e-6], [1], { rtol: 1e-5, atol: 0 })).toBe(true)
    expect(allClose([1 + 1e-4], [1], { rtol: 1e-5, atol: 0 })).toBe(false)
    expect(allClose([1e-7], [0], { rtol: 1e-5, atol: 1e-6 })).toBe(true)
    expect(allClose([1e-5], [0], { rtol: 1e-5, atol: 1e-6 })).toBe(false)
    expect(allClose([], [], tolerances.float32)).toBe(true)
  })

  it('NaN equals NaN only; ±Infinity must match exactly', () => {
    const t = { rtol: 1, atol: 1 }
    expect(allClose([NaN, 1], [NaN, 1], t)).toBe(true)
    expect(allClose([NaN], [0], t)).toBe(false)
    expect(allClose([0], [NaN], t)).toBe(false)
    expect(allClose([Infinity, -Infinity], [Infinity, -Infinity], t)).toBe(true)
    expect(allClose([Infinity], [-Infinity], t)).toBe(false)
    expect(allClose([Infinity], [3.4e38], { rtol: 10, atol: 1e38 })).toBe(false)
    expect(allClose([3.4e38], [Infinity], { rtol: 10, atol: 1e38 })).toBe(false)
  })

  it('compares tensors by shape and data, and defaults to the dtype tolerance', () => {
    expect(allClose(tensor([[1, 2], [3, 4]]), tensor([[1, 2], [3, 4 + 1e-7]]))).toBe(true)
    expect(allClose(tensor([[1, 2], [3, 4]]), tensor([1, 2, 3, 4]))).toBe(false)
    expect(allClose(tensor([[1, 2], [3, 4]]), [1, 2, 3, 4])).toBe(true)
    expect(allClose([1, 2], [1, 2, 3])).toBe(false)
    expect(allClose(tensor([1, 2], 'int32'), tensor([1, 3], 'int32'))).toBe(false)
    expect(allClose(tensor([1, NaN]), [1 + 1e-7, NaN], { rtol: 1e-5, atol: 1e-6 })).toBe(true)
  })

  it('assertAllClose names the first mismatching index, both values and the shapes', () => {
    expect(() => assertAllClose(tensor([[1, 2], [3, 5]]), tensor([[1, 2], [3, 4]]), tolerances.float32)).toThrow(
      /element 3 differs: actual 5, expected 4.*actual shape \[2,2\], expected shape \[2,2\]/,
    )
    expect(() => assertAllClose([NaN], [1], undefined, 'exp')).toThrow(/^exp: .*element 0.*actual NaN, expected 1/)
    expect(() => assertAllClose(tensor([1, 2]), tensor([[1, 2]]))).toThrow(/shapes differ: actual shape \[2\], expected shape \[1,2\]/)
    expect(() => assertAllClose([1, Infinity], [1, Infinity])).not.toThrow()
  })

  it('gpu tolerances are looser than the reference ones for float32 only', () => {
    expect(gpuTolerances.float32.rtol).toBeGreaterThan(tolerances.float32.rtol)
    expect(gpuTolerances.int32).toEqual({ rtol: 0, atol: 0 })
  })
})

describe('arbitraries', () => {
  it('arbShape respects its bounds', () => {
    const o = { minRank: 1, maxRank: 3, minDim: 2, maxDim: 4 }
    fc.assert(fc.property(arbShape(o), (s) => s.length >= 1 && s.length <= 3 && s.every((d) => Number.isInteger(d) && d >= 2 && d <= 4)), checkParams())
  })

  it('arbBroadcastShapes gives shapes that broadcast, to a shape at least as large as each', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 4 }).chain((n) => arbBroadcastShapes(n)), (shapes) => {
        const out = Shape.broadcastShapes('test', ...shapes)
        return shapes.every((s) => out.length >= s.length && s.every((d, i) => d === 1 || d === out[out.length - s.length + i]))
      }),
      checkParams(),
    )
  })

  it('arbBroadcastShapes is not trivial: it produces different shapes that broadcast', () => {
    const samples = fc.sample(arbBroadcastShapes(2), { seed: 1, numRuns: 200 })
    expect(samples.some(([a, b]) => !Shape.equals(a, b))).toBe(true)
    expect(samples.some(([a, b]) => a.length !== b.length)).toBe(true)
  })

  it('arbReshape keeps the number of elements', () => {
    fc.assert(fc.property(arbShape({ minDim: 0 }).chain((s) => fc.tuple(fc.constant(s), arbReshape(s))), ([s, t]) => Shape.isShape(t) && Shape.size(t) === Shape.size(s)), checkParams())
  })

  it('arbTensor gives data of the shape, dtype and range asked for', () => {
    const arb = fc.constantFrom('float32', 'int32', 'bool' as const).chain((dtype) => arbTensor({ dtype, min: -2, max: 3 }))
    fc.assert(
      fc.property(arb, (h) => {
        const t = toTensor(h)
        const lo = h.dtype === 'bool' ? 0 : -2
        const hi = h.dtype === 'bool' ? 1 : 3
        return Shape.size(h.shape) === h.data.length && t.dtype === h.dtype && Array.from(h.data).every((v) => v >= lo && v <= hi && (h.dtype === 'float32' || Number.isInteger(v)))
      }),
      checkParams(),
    )
    fc.assert(fc.property(arbTensor({ shape: [2, 3] }), (h) => Shape.equals(h.shape, [2, 3])), checkParams())
  })

  it('arbTree gives pytrees whose leaves are the generated leaves', () => {
    fc.assert(
      fc.property(arbTree(fc.integer()), (t) => Tree.leaves(t).every((l) => Number.isInteger(l)) && Tree.TreeDef.equals(Tree.structure(Tree.map(t, (x) => x + 1)), Tree.structure(t))),
      checkParams(),
    )
  })

  it('arbKey gives int32[2] keys', () => {
    fc.assert(fc.property(arbKey(), (k) => k.dtype === 'int32' && Shape.equals(k.shape, [2])), checkParams({ numRuns: 10 }))
  })
})

describe('conformance cases', () => {
  it('every generated input satisfies its primitive\'s shape rule', () => {
    for (const prim of Object.keys(cases) as Primitive[])
      for (const variant of cases[prim]) {
        expect(variant.name.length).toBeGreaterThan(0)
        for (const input of fc.sample(variant.arb as fc.Arbitrary<CaseInput<Primitive>>, { seed: 7, numRuns: 30 }))
          expect(() => inferAval(prim, input.args, input.params as never), `${prim} ${variant.name}`).not.toThrow()
      }
  })
})

/** The cpu backend with some kernels replaced: the suite must catch each fault. */
const faulty = (name: string, change: (cpu: Backend) => Partial<Backend['kernels']>): string => {
  registerBackend(name, () => {
    const cpu = getBackend('cpu')
    return { ...cpu, name, kernels: { ...cpu.kernels, ...change(cpu) } }
  })
  return name
}

describe('the conformance checks can fail', () => {
  it('on a wrong kernel', () => {
    const b = faulty('add-is-mul', (cpu) => ({ add: (h, avals, p, out) => cpu.kernels.mul(h, avals, p, out) }))
    expect(() => checkVariant(b, 'add', cases.add[0])).toThrow(/add \(float32\) on add-is-mul vs cpu/)
  })

  it('on a kernel that leaks', () => {
    const b = faulty('leaky-neg', (cpu) => ({
      neg: (h, avals, p, out) => {
        cpu.fromHost(new Float32Array(1), { shape: [1], dtype: 'float32' })
        return cpu.kernels.neg(h, avals, p, out)
      },
    }))
    expect(() => checkVariant(b, 'neg', cases.neg[0], { numRuns: 3 })).toThrow(/held .* tensors/)
  })

  it('on a kernel off by more than the tolerance, but not within it', () => {
    const b = faulty('exp-off', (cpu) => ({
      exp: (h, avals, p, out) => (cpu.kernels.exp(h, avals, p, out) as Float32Array).map((v) => v * (1 + 1e-4)),
    }))
    expect(() => checkVariant(b, 'exp', cases.exp[0])).toThrow(/exp/)
    expect(() => checkVariant(b, 'exp', cases.exp[0], { tolerance: { rtol: 1e-3, atol: 0 } })).not.toThrow()
  })

  it('on a backend whose wrong kernel only shows through the composite', () => {
    const b = faulty('tanh-off', (cpu) => ({ tanh: (h, avals, p, out) => (cpu.kernels.tanh(h, avals, p, out) as Float32Array).map((v) => v * 0.9) }))
    const eagerOnly: AutodiffFunctions = { grad: (f) => f, jit: (f) => f }
    expect(() => checkComposite(b, 'jit', eagerOnly, { numRuns: 3 })).toThrow(/jit\(mlpLoss\) on tanh-off/)
  })
})

conformance('cpu')
