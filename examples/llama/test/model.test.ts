import { describe, expect, it } from 'vitest'
import type { Tensor } from '@frugal-ts/core'
import { Key, Tree, fromArray, slice, sum, square } from '@frugal-ts/core'
import { defaultProjectable, frugal, isProjected } from '@frugal-ts/frugal'
import type { LlamaParams, ModelConfig } from '../src/model'
import { hiddenWidth, initParams, lmLoss, logits, parameterCount, rotary } from '../src/model'

const config: ModelConfig = { vocab: 256, layers: 2, width: 16, heads: 2, context: 8 }
const params = initParams(config, Key.key(0))
const paths = (p: LlamaParams) => (Tree.leavesWithPath(p as unknown as Tree.Tree<Tensor>) as [Tree.Path, Tensor][]).map(([k, t]) => [Tree.pathString(k), t] as const)
const LINEARS = ['attn.wq', 'attn.wk', 'attn.wv', 'attn.wo', 'mlp.w1', 'mlp.w2', 'mlp.w3']

describe('model parameters', () => {
  it('FRUGAL projects exactly the attention and MLP linears', () => {
    const projected = paths(params).filter(([, t], i) => defaultProjectable(Tree.paths(params as never)[i], t)).map(([p]) => p)
    const expected = [0, 1].flatMap((l) => LINEARS.map((n) => `layers.${l}.${n}`)).sort()
    expect(projected.sort()).toEqual(expected)
    const rest = paths(params).map(([p]) => p).filter((p) => !expected.includes(p)).sort()
    expect(rest).toEqual(['embed', 'final_norm', 'head', 'layers.0.attn_norm', 'layers.0.mlp_norm', 'layers.1.attn_norm', 'layers.1.mlp_norm'])
  })

  it("FRUGAL's state splits the same leaves", () => {
    const state = frugal({ learningRate: 1e-3 }).init(params as never)
    const leaves = state.leaves as unknown as LlamaParams & Record<string, any>
    expect(isProjected((leaves as any).embed)).toBe(false)
    expect(isProjected((leaves as any).head)).toBe(false)
    expect(isProjected((leaves as any).final_norm)).toBe(false)
    expect(isProjected((leaves as any).layers[1].mlp_norm)).toBe(false)
    for (const n of ['wq', 'wk', 'wv', 'wo']) expect(isProjected((leaves as any).layers[0].attn[n])).toBe(true)
    for (const n of ['w1', 'w2', 'w3']) expect(isProjected((leaves as any).layers[1].mlp[n])).toBe(true)
  })

  it('has the LLaMA shapes: untied head, SwiGLU hidden width 8D/3 rounded to 8', () => {
    expect(hiddenWidth(config)).toBe(48)
    expect(params.embed.shape).toEqual([256, 16])
    expect(params.head.shape).toEqual([16, 256])
    expect(params.layers[0].mlp.w1.shape).toEqual([16, 48])
    expect(params.layers[0].mlp.w2.shape).toEqual([48, 16])
    expect(parameterCount(params)).toBe(256 * 16 * 2 + 16 + 2 * (4 * 16 * 16 + 3 * 16 * 48 + 2 * 16))
  })
})

describe('forward pass', () => {
  const ids = fromArray(Int32Array.from({ length: 16 }, (_, i) => (i * 37) % 256), [2, 8], 'int32')

  it('gives logits [B, T, V] and a loss near ln 256 at initialisation', () => {
    expect(logits(params, ids, 2).shape).toEqual([2, 8, 256])
    const tokens = fromArray(Int32Array.from({ length: 18 }, (_, i) => (i * 11) % 256), [2, 9], 'int32')
    expect(Math.abs(lmLoss(params, tokens, 2).item() - Math.log(256))).toBeLessThan(0.05)
  })

  it('is causal: a later token does not change earlier logits', () => {
    const other = Int32Array.from(ids.dataSync() as Int32Array)
    other[7] = (other[7] + 1) % 256
    other[15] = (other[15] + 5) % 256
    const a = slice(logits(params, ids, 2), [0, 0, 0], [2, 7, 256]).dataSync()
    const b = slice(logits(params, fromArray(other, [2, 8], 'int32'), 2), [0, 0, 0], [2, 7, 256]).dataSync()
    expect(Array.from(b)).toEqual(Array.from(a))
    const last = (x: Tensor) => Array.from(slice(x, [0, 7, 0], [1, 1, 256]).dataSync())
    expect(last(logits(params, fromArray(other, [2, 8], 'int32'), 2))).not.toEqual(last(logits(params, ids, 2)))
  })

  it('rotary embedding keeps norms, is the identity at position 0, and rotates later positions', () => {
    const x = Key.normal(Key.key(3), [1, 1, 4, 8])
    const y = rotary(4, 8)(x)
    const norm = (t: Tensor, p: number) => sum(square(slice(t, [0, 0, p, 0], [1, 1, 1, 8]))).item()
    for (let p = 0; p < 4; p++) expect(norm(y, p)).toBeCloseTo(norm(x, p), 4)
    expect(Array.from(slice(y, [0, 0, 0, 0], [1, 1, 1, 8]).dataSync())).toEqual(Array.from(slice(x, [0, 0, 0, 0], [1, 1, 1, 8]).dataSync()))
    expect(Array.from(slice(y, [0, 0, 2, 0], [1, 1, 1, 8]).dataSync())).not.toEqual(Array.from(slice(x, [0, 0, 2, 0], [1, 1, 1, 8]).dataSync()))
  })
})
