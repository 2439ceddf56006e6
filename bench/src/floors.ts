/**
 * The machine's floors for optimizer steps, in WebAssembly SIMD assembled by
 * hand (bench/wasm.ts and the browser bench).
 */
import { Code, O, V, moduleBytes } from '../../packages/core/src/internal/wasm/emit'

/** Adam's hyperparameters. */
export interface AdamHyper {
  readonly lr: number
  readonly b1: number
  readonly b2: number
  readonly eps: number
}

/**
 * The floors: Adam over `leaves` arrays of `size` floats, one pass per leaf
 * reading p, m, v, g and writing p, m, v, and signSGD (p ← p − lr·sign(g)),
 * one pass per leaf reading p, g and writing p; four lanes per iteration, in
 * their own (non-shared) memory. Assembled by hand, instruction by
 * instruction. `load` copies the start in (parameters, two gradient sets),
 * `step(t, set)` runs Adam step `t` on gradient set `set`,
 * `blocks(t, set, active)`: FRUGAL's blockwise step at its
 * floor: Adam on the first `active` leaves, signSGD on the others.
 */
export const floors = (size: number, leaves: number, h: AdamHyper) => {
  const c = new Code(['i32', 'i32', 'i32', 'i32', 'i32', 'f32', 'f32'])
  const [p, m, v, g, n, s1, s2] = [0, 1, 2, 3, 4, 5, 6]
  const i = c.local('i32')
  const [gv, mv, vv, S1, S2, b1, a1, b2, a2, lr, eps] = Array.from({ length: 11 }, () => c.local('v128'))
  c.get(s1).v(V.f32x4Splat).set(S1).get(s2).v(V.f32x4Splat).set(S2)
  for (const [r, x] of [[b1, h.b1], [a1, 1 - h.b1], [b2, h.b2], [a2, 1 - h.b2], [lr, h.lr], [eps, h.eps]] as const) c.f32x4(x).set(r)
  c.i32(0).set(i)
  c.forUp(i, n, 16, () => {
    c.get(g).get(i).op(O.i32Add).vmem(V.load).set(gv)
    c.get(m).get(i).op(O.i32Add).vmem(V.load).get(b1).v(V.f32x4Mul).get(gv).get(a1).v(V.f32x4Mul).v(V.f32x4Add).set(mv)
    c.get(v).get(i).op(O.i32Add).vmem(V.load).get(b2).v(V.f32x4Mul).get(gv).get(gv).v(V.f32x4Mul).get(a2).v(V.f32x4Mul).v(V.f32x4Add).set(vv)
    c.get(m).get(i).op(O.i32Add).get(mv).vmem(V.store)
    c.get(v).get(i).op(O.i32Add).get(vv).vmem(V.store)
    c.get(p).get(i).op(O.i32Add)
    c.get(p).get(i).op(O.i32Add).vmem(V.load)
    c.get(lr).get(mv).get(S1).v(V.f32x4Mul).v(V.f32x4Mul)
    c.get(vv).get(S2).v(V.f32x4Mul).v(V.f32x4Sqrt).get(eps).v(V.f32x4Add).v(V.f32x4Div)
    c.v(V.f32x4Sub).vmem(V.store)
  })
  const sc = new Code(['i32', 'i32', 'i32'])
  const [sp, sg, sn] = [0, 1, 2]
  const si = sc.local('i32')
  const [sgv, slr] = [sc.local('v128'), sc.local('v128')]
  sc.f32x4(h.lr).set(slr).i32(0).set(si)
  sc.forUp(si, sn, 16, () => {
    sc.get(sg).get(si).op(O.i32Add).vmem(V.load).set(sgv)
    sc.get(sp).get(si).op(O.i32Add)
    sc.get(sp).get(si).op(O.i32Add).vmem(V.load)
    // sign(g): 1, −1 or 0 (NaN stays NaN), as the sign primitive
    sc.f32x4(1).f32x4(-1).f32x4(0).get(sgv).get(sgv).get(sgv).v(V.f32x4Eq).v(V.bitselect)
    sc.get(sgv).f32x4(0).v(V.f32x4Lt).v(V.bitselect).get(sgv).f32x4(0).v(V.f32x4Gt).v(V.bitselect)
    sc.get(slr).v(V.f32x4Mul).v(V.f32x4Sub).vmem(V.store)
  })
  const bytes = size * 4
  const pages = Math.ceil((5 * leaves * bytes + 65536) / 65536)
  const memory = new WebAssembly.Memory({ initial: pages, maximum: pages })
  const module = new WebAssembly.Module(moduleBytes([{ name: 'adam', code: c }, { name: 'sign', code: sc }], { min: pages, max: pages, shared: false }))
  const ex = new WebAssembly.Instance(module, { env: { memory } }).exports as { adam: (...a: number[]) => void; sign: (...a: number[]) => void }
  const at = (k: number) => 65536 + k * bytes // p: 0..L-1, m: L.., v: 2L.., g0: 3L.., g1: 4L..
  const f32 = (k: number) => new Float32Array(memory.buffer, at(k), size)
  const adamLeaf = (j: number, t: number, set: number) =>
    ex.adam(at(j), at(leaves + j), at(2 * leaves + j), at((3 + set) * leaves + j), bytes, 1 / (1 - h.b1 ** t), 1 / (1 - h.b2 ** t))
  return {
    load: (params: readonly Float32Array[], grads: readonly (readonly Float32Array[])[]) => {
      params.forEach((a, j) => f32(j).set(a))
      grads.forEach((set, s) => set.forEach((a, j) => f32((3 + s) * leaves + j).set(a)))
    },
    step: (t: number, set: number) => {
      for (let j = 0; j < leaves; j++) adamLeaf(j, t, set)
    },
    blocks: (t: number, set: number, active: number) => {
      for (let j = 0; j < leaves; j++) {
        if (j < active) adamLeaf(j, t, set)
        else ex.sign(at(j), at((3 + set) * leaves + j), bytes)
      }
    },
    param: (j: number) => f32(j).slice(),
  }
}
