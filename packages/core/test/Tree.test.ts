import { describe, it, expect } from 'vitest'
import fc from 'fast-check'
import * as Tree from '../src/Tree'
import { CoreError } from '../src/CoreError'

class Box {
  constructor(readonly v: number) {}
}

class Wrap {
  constructor(readonly v: unknown) {}
}

/** Random trees of numbers, strings, class instances, null/undefined, arrays and objects. */
const leafArb: fc.Arbitrary<unknown> = fc.oneof(
  fc.integer(),
  fc.string({ maxLength: 3 }),
  fc.boolean(),
  fc.integer().map((v) => new Box(v)),
)
const { tree: treeArb } = fc.letrec<{ tree: unknown }>((tie) => ({
  tree: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    leafArb,
    fc.constantFrom(null, undefined),
    fc.array(tie('tree'), { maxLength: 4 }),
    fc.dictionary(fc.string({ minLength: 1, maxLength: 3 }), tie('tree'), { maxKeys: 4, noNullPrototype: true }),
  ),
}))

/** The same tree with every object's keys inserted in reverse order. */
const reverseKeys = (x: unknown): unknown => {
  if (Array.isArray(x)) return x.map(reverseKeys)
  if (x !== null && typeof x === 'object' && !(x instanceof Box)) {
    return Object.fromEntries(Object.entries(x).reverse().map(([k, v]) => [k, reverseKeys(v)]))
  }
  return x
}

describe('Tree', () => {
  it('visits object keys in sorted order, arrays in order', () => {
    expect(Tree.leaves({ b: [1, 2], a: 3 })).toEqual([3, 1, 2])
    expect(Tree.paths({ b: [1, 2], a: 3 })).toEqual([['a'], ['b', 0], ['b', 1]])
  })

  it('treats null and undefined as empty subtrees and class instances as leaves', () => {
    const box = new Box(1)
    const [ls, def] = Tree.flatten({ a: null, b: undefined, c: box, d: [] })
    expect(ls).toEqual([box])
    expect(def.numLeaves).toBe(1)
    expect(Tree.TreeDef.show(def)).toBe('{a: null, b: undefined, c: *, d: []}')
    expect(Tree.isLeafDefault(box)).toBe(true)
    expect(Tree.isLeafDefault(null)).toBe(false)
    expect(Tree.isLeafDefault(Object.create(null))).toBe(false)
  })

  it('matches the doc examples', () => {
    expect(Tree.map({ a: 1, b: [2] }, (x) => x * 10)).toEqual({ a: 10, b: [20] })
    expect(Tree.unflatten(Tree.structure({ a: 0, b: [0] }), [1, 2])).toEqual({ a: 1, b: [2] })
    expect(Tree.zipWith([{ a: 1 }, { a: 2 }], (x, y) => x + y)).toEqual({ a: 3 })
    expect(Tree.zip({ a: 1, b: 2 }, { a: 'x', b: 'y' })).toEqual([
      [1, 'x'],
      [2, 'y'],
    ])
    expect(Tree.leavesWithPath({ a: [5] })).toEqual([[['a', 0], 5]])
    expect(Tree.pathString(['layers', 0, 'attn', 'wq'])).toBe('layers.0.attn.wq')
    expect(Tree.TreeDef.show(Tree.structure({ w: 1, b: [2, 3] }))).toBe('{b: [*, *], w: *}')
  })

  it('passes paths to map and zipWith', () => {
    const t = { layers: [{ wq: 1 }, { wq: 2 }] }
    expect(Tree.map(t, (_, p) => Tree.pathString(p))).toEqual({ layers: [{ wq: 'layers.0.wq' }, { wq: 'layers.1.wq' }] })
    expect(Tree.zipWith([t, t, t], (a, b, c, p) => a + b + c + p.length)).toEqual({ layers: [{ wq: 6 }, { wq: 9 }] })
  })

  it("round-trips an own '__proto__' key (as JSON.parse makes)", () => {
    const t = JSON.parse('{"__proto__": 1, "a": [2]}') as Tree.Tree<number>
    const [ls, def] = Tree.flatten(t)
    expect(ls).toEqual([1, 2])
    const back = Tree.unflatten(def, ls) as Record<string, unknown>
    expect(Object.getPrototypeOf(back)).toBe(Object.prototype)
    expect(Object.keys(back)).toEqual(['__proto__', 'a'])
  })

  it('accepts a custom leaf predicate', () => {
    const isPair = (x: unknown) => Array.isArray(x) && x.length === 2 && typeof x[0] === 'number'
    expect(Tree.leaves({ a: [1, 2], b: [[3, 4]] }, isPair)).toEqual([[1, 2], [3, 4]])
    expect(Tree.map({ a: [1, 2] }, (p) => (p as unknown as number[]).length, isPair)).toEqual({ a: 2 })
  })

  it('unflatten throws a CoreError when the leaf count differs', () => {
    const def = Tree.structure({ a: 1, b: [2, 3] })
    expect(() => Tree.unflatten(def, [1, 2])).toThrow(CoreError)
    expect(() => Tree.unflatten(def, [1, 2])).toThrow('{a: *, b: [*, *]} has 3 leaves, got 2')
  })

  it('zipWith names the first path where structures differ', () => {
    const a = { layers: [{ w: 1, b: 2 }], head: 3 }
    const b = { layers: [{ w: 1 }], head: 3 }
    expect(() => Tree.zipWith([a, b], (x, y) => x + y)).toThrow(
      'differ at layers.0: tree 0 has an object with keys [b, w], tree 1 has an object with keys [w]',
    )
    expect(() => Tree.zip({ a: [1, 2] }, { a: [1] })).toThrow('differ at a: tree 0 has an array of length 2, tree 1 has an array of length 1')
    expect(() => Tree.zip({ a: 1 }, { a: [1] })).toThrow(CoreError)
    expect(() => Tree.zip(1, [1])).toThrow('differ at <root>: tree 0 has a leaf')
  })

  it('property: flatten then unflatten is the identity', () => {
    fc.assert(
      fc.property(treeArb, (t) => {
        const [ls, def] = Tree.flatten(t)
        expect(def.numLeaves).toBe(ls.length)
        expect(Tree.unflatten(def, ls)).toStrictEqual(t)
      }),
    )
  })

  it('property: map identity and composition', () => {
    fc.assert(
      fc.property(treeArb, (t) => {
        expect(Tree.map(t, (x) => x)).toStrictEqual(t)
        const f = (x: unknown) => new Wrap(x)
        const g = (w: Wrap) => String(w.v)
        expect(Tree.map(Tree.map(t, f), g)).toStrictEqual(Tree.map(t, (x) => g(f(x))))
      }),
    )
  })

  it('property: structure does not depend on key insertion order', () => {
    fc.assert(
      fc.property(treeArb, (t) => {
        const r = reverseKeys(t)
        expect(Tree.leaves(r)).toStrictEqual(Tree.leaves(t))
        expect(Tree.TreeDef.equals(Tree.structure(r), Tree.structure(t))).toBe(true)
        expect(Tree.TreeDef.show(Tree.structure(r))).toBe(Tree.TreeDef.show(Tree.structure(t)))
      }),
    )
  })

  it('property: zip pairs each leaf with itself; paths and leaves line up', () => {
    fc.assert(
      fc.property(treeArb, (t) => {
        const ls = Tree.leaves(t)
        expect(Tree.zip(t, t)).toStrictEqual(ls.map((l) => [l, l]))
        expect(Tree.leavesWithPath(t)).toStrictEqual(Tree.paths(t).map((p, i) => [p, ls[i]]))
      }),
    )
  })

  it('property: a different structure is detected', () => {
    fc.assert(
      fc.property(treeArb, (t) => {
        const extra = { __extra: 1, t }
        expect(Tree.TreeDef.equals(Tree.structure(extra), Tree.structure({ t }))).toBe(false)
        expect(() => Tree.zip(extra, { t })).toThrow(CoreError)
      }),
    )
  })
})
