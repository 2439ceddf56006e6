import { describe, expect, it } from 'vitest'
import type { Tensor } from '@frugal-ts/core'
import { Key } from '@frugal-ts/core'
import type { Params } from '../src/GradientTransformation'
import { frugalFinetune, onlyOn, QUERY_VALUE } from '../src/frugal/finetune'
import { coordinates } from '../src/projectors/coordinates'

const gauss = (seed: number, shape: number[]) => Key.normal(Key.key(seed), shape)
/** one LLaMA block of width 8 (hidden 16), an embedding and a head */
const model = (): Params => ({
  embed: gauss(1, [10, 8]),
  layers: [{ attn: { wq: gauss(2, [8, 8]), wk: gauss(3, [8, 8]), wv: gauss(4, [8, 8]), wo: gauss(5, [8, 8]) }, mlp: { w1: gauss(6, [8, 16]), w2: gauss(7, [16, 8]), w3: gauss(8, [8, 16]) } }],
  head: gauss(9, [8, 10]),
})
const arr = (t: Tensor) => Array.from(t.dataSync())
type Leaf = { projector?: { indices: Tensor } | null; inner: { mu: Tensor } | null }

describe('frugalFinetune: the paper’s fine-tuning recipe', () => {
  it('coordinates on the query and value matrices only; key, output and MLP matrices hold no state at all', () => {
    const s = frugalFinetune({ learningRate: 1e-3, rank: 2, width: 8 }).init(model())
    const l = s.leaves as unknown as { embed: Leaf; head: Leaf; layers: { attn: Record<string, Leaf>; mlp: Record<string, Leaf> }[] }
    for (const k of ['wq', 'wv']) {
      expect(l.layers[0].attn[k].projector!.indices.shape).toEqual([2]) // ⌊(2/8)·8⌋ columns
      expect(l.layers[0].attn[k].inner!.mu.shape).toEqual([8, 2])
    }
    for (const leaf of [l.layers[0].attn.wk, l.layers[0].attn.wo, ...Object.values(l.layers[0].mlp)]) expect([leaf.projector, leaf.inner]).toEqual([null, null])
    expect(l.embed.inner!.mu.shape).toEqual([10, 8])
    expect(l.head.inner!.mu.shape).toEqual([8, 10])
  })

  it('one step: Adam on the chosen columns, 0.1·signSGD elsewhere on wq, 0.1·signSGD on all of wk; T = 500', () => {
    const lr = 0.01
    const opt = frugalFinetune({ learningRate: lr, rank: 2, width: 8 })
    const p = model()
    const g = { ...(model() as Record<string, unknown>), layers: [{ attn: { wq: gauss(20, [8, 8]), wk: gauss(21, [8, 8]), wv: gauss(22, [8, 8]), wo: gauss(23, [8, 8]) }, mlp: { w1: gauss(24, [8, 16]), w2: gauss(25, [16, 8]), w3: gauss(26, [8, 16]) } }] }
    const { updates, state } = opt.update(g as Params, opt.init(p), p) as { updates: any; state: any }
    expect(state.nextRefresh.item()).toBe(500)
    const cols = new Set(arr(state.leaves.layers[0].attn.wq.projector.indices))
    const gq = arr((g.layers as any)[0].attn.wq)
    const uq = arr(updates.layers[0].attn.wq)
    // the first Adam step is m̂/(√v̂ + ε) = g/(|g| + 1e-8) (to float32's 1 − 0.999 bias correction, ~1e-5 relative); signSGD is sign(g), scaled by 0.1
    const near = (u: number, ref: number) => expect(Math.abs(u - ref)).toBeLessThanOrEqual(2e-5 * Math.abs(ref))
    gq.forEach((x, i) => near(uq[i], cols.has(i % 8) ? (-lr * x) / (Math.abs(x) + 1e-8) : -lr * 0.1 * Math.sign(x)))
    const gk = arr((g.layers as any)[0].attn.wk)
    arr(updates.layers[0].attn.wk).forEach((u, i) => near(u, -lr * 0.1 * Math.sign(gk[i])))
  })

  it('ρ = rank / width, or density; bad options are named', () => {
    const s = frugalFinetune({ learningRate: 1e-3, density: 0.5 }).init(model())
    expect((s.leaves as any).layers[0].attn.wq.projector.indices.shape).toEqual([4])
    expect((frugalFinetune({ learningRate: 1e-3, rank: 0, width: 768 }).init(model()).leaves as any).layers[0].attn.wq.inner).toBeNull()
    expect(() => frugalFinetune({ learningRate: 1e-3, rank: 9, width: 8 })).toThrow(/rank must not exceed width \(8\), got 9 \(at frugalFinetune.rank\)/)
    expect(() => frugalFinetune({ learningRate: 1e-3, rank: 1.5, width: 8 })).toThrow(/frugalFinetune.rank/)
    expect(() => frugalFinetune({ learningRate: 1e-3 })).toThrow(/needs rank and width/)
    expect(() => frugalFinetune({ learningRate: 1e-3, rank: 2, width: 8, density: 0.1 })).toThrow(/not both/)
  })

  it('onlyOn and QUERY_VALUE: the names of this LLaMA, of Hugging Face LLaMA and of RoBERTa', () => {
    expect(['layers.0.attn.wq', 'model.layers.3.self_attn.v_proj', 'encoder.layer.0.attention.self.query.weight'].every((p) => QUERY_VALUE.test(p))).toBe(true)
    expect(['layers.0.attn.wk', 'layers.0.attn.wo', 'layers.0.mlp.w1', 'value_head'].some((p) => QUERY_VALUE.test(p))).toBe(false)
    const p = onlyOn(coordinates({ mode: 'columns' }), /wq$/)
    expect(p.name).toBe('coordinates@targets')
    expect(() => onlyOn(coordinates(), 'wq' as never)).toThrow(/targets must be a RegExp/)
  })
})
