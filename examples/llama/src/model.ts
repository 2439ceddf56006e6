/**
 * A LLaMA-style decoder (Touvron et al., arXiv 2302.13971) written with
 * `@frugal-ts/autodiff`'s `nn`: token embedding, pre-norm blocks of RMSNorm →
 * causal multi-head attention with rotary position embedding → residual,
 * RMSNorm → SwiGLU MLP → residual, a final RMSNorm and an untied output head.
 *
 * Parameter names are chosen so that FRUGAL's default projectable rule splits
 * exactly the attention and MLP linears (`layers.i.attn.{wq,wk,wv,wo}`,
 * `layers.i.mlp.{w1,w2,w3}`) and leaves `embed`, every `*norm` and `head` to
 * the stateful optimizer.
 */
import type { Tensor } from '@frugal-ts/core'
import { Key, add, concat, fromArray, mul, ones, scope, slice, sub } from '@frugal-ts/core'
import { nn } from '@frugal-ts/autodiff'

/** The shape of a model. */
export interface ModelConfig {
  /** vocabulary size (256 for bytes) */
  readonly vocab: number
  /** number of transformer blocks */
  readonly layers: number
  /** model width D */
  readonly width: number
  /** attention heads (D must be divisible by it, and D/heads even for rotary embedding) */
  readonly heads: number
  /** context length T */
  readonly context: number
  /** hidden width of the SwiGLU MLP (default: 8D/3 rounded up to a multiple of 8) */
  readonly hidden?: number
}

/** One decoder block's weights. */
export interface Block {
  readonly attn_norm: Tensor
  readonly attn: nn.AttentionWeights
  readonly mlp_norm: Tensor
  /** SwiGLU: w2(silu(x·w1) ⊙ x·w3) */
  readonly mlp: { readonly w1: Tensor; readonly w2: Tensor; readonly w3: Tensor }
}

/** The model's parameters (a pytree). */
export interface LlamaParams {
  readonly embed: Tensor
  readonly layers: readonly Block[]
  readonly final_norm: Tensor
  readonly head: Tensor
}

/** The parameters below the output head: what a classifier fine-tunes. */
export type Backbone = Pick<LlamaParams, 'embed' | 'layers' | 'final_norm'>

/**
 * The SwiGLU hidden width of a config: `hidden`, or 8D/3 rounded up to a multiple of 8.
 * @example hiddenWidth({ vocab: 256, layers: 1, width: 48, heads: 2, context: 32 }) // 128
 */
export const hiddenWidth = (c: ModelConfig): number => c.hidden ?? Math.ceil((8 * c.width) / 3 / 8) * 8

/**
 * Random initial parameters: normal(0, 0.02) linears and embedding, the
 * residual-output projections (wo, w2) scaled by 1/√(2·layers) as in GPT-2,
 * norms at one.
 * @param c the model's shape
 * @param key a PRNG key
 * @returns fresh parameters
 * @example const params = initParams(config, Key.key(0))
 */
export const initParams = (c: ModelConfig, key: Tensor): LlamaParams =>
  scope(() => {
    const { vocab: v, width: d, layers: n } = c
    const h = hiddenWidth(c)
    const keys = Key.splitKeys(key, 2 + n)
    const normal = (k: Tensor, shape: number[], std: number) => mul(Key.normal(k, shape), std)
    const resid = 0.02 / Math.sqrt(2 * n)
    const layers = Array.from({ length: n }, (_, i): Block => {
      const [kq, kk, kv, ko, k1, k2, k3] = Key.splitKeys(keys[2 + i], 7)
      return {
        attn_norm: ones([d]),
        attn: { wq: normal(kq, [d, d], 0.02), wk: normal(kk, [d, d], 0.02), wv: normal(kv, [d, d], 0.02), wo: normal(ko, [d, d], resid) },
        mlp_norm: ones([d]),
        mlp: { w1: normal(k1, [d, h], 0.02), w2: normal(k2, [h, d], resid), w3: normal(k3, [d, h], 0.02) },
      }
    })
    return { embed: normal(keys[0], [v, d], 0.02), layers, final_norm: ones([d]), head: normal(keys[1], [d, v], 0.02) }
  })

/**
 * Rotary position embedding (Su et al., arXiv 2104.09864), "rotate half"
 * form: for x [..., T, d] the pairs (x_i, x_{i+d/2}) are rotated by the angle
 * t·θ_i, θ_i = base^(−2i/d). The angle tables are host constants.
 * @param t sequence length
 * @param d head width (even)
 * @returns a function rotating q or k [B, H, T, d]
 * @example causalSelfAttention(x, w, heads, rotary(T, D / heads))
 */
export const rotary = (t: number, d: number, base = 10000): ((x: Tensor) => Tensor) => {
  const half = d / 2
  const cos = new Float32Array(t * half)
  const sin = new Float32Array(t * half)
  for (let p = 0; p < t; p++)
    for (let i = 0; i < half; i++) {
      const a = p * Math.pow(base, (-2 * i) / d)
      cos[p * half + i] = Math.cos(a)
      sin[p * half + i] = Math.sin(a)
    }
  return (x) => {
    const c = fromArray(cos, [t, half])
    const s = fromArray(sin, [t, half])
    const lead = x.shape.slice(0, -1).map(() => 0)
    const size = [...x.shape.slice(0, -1), half]
    const x1 = slice(x, [...lead, 0], size)
    const x2 = slice(x, [...lead, half], size)
    return concat([sub(mul(x1, c), mul(x2, s)), add(mul(x1, s), mul(x2, c))], -1)
  }
}

/**
 * The final hidden states [B, T, D] of token ids [B, T] (int32), after the last RMSNorm.
 * @example const h = hiddenStates(params, ids, 2)
 */
export const hiddenStates = (p: Backbone, ids: Tensor, heads: number): Tensor => {
  const [, t] = ids.shape
  const d = p.embed.shape[1]
  const rope = rotary(t, d / heads)
  let x = nn.embedding(p.embed, ids)
  for (const b of p.layers) {
    x = add(x, nn.causalSelfAttention(nn.rmsNorm(x, b.attn_norm), b.attn, heads, rope))
    const y = nn.rmsNorm(x, b.mlp_norm)
    x = add(x, nn.linear(mul(nn.silu(nn.linear(y, b.mlp.w1)), nn.linear(y, b.mlp.w3)), b.mlp.w2))
  }
  return nn.rmsNorm(x, p.final_norm)
}

/**
 * Next-token logits [B, T, V] of token ids [B, T].
 * @example const l = logits(params, ids, 2)
 */
export const logits = (p: LlamaParams, ids: Tensor, heads: number): Tensor => nn.linear(hiddenStates(p, ids, heads), p.head)

/**
 * Mean next-token cross-entropy: inputs are `tokens[:, :-1]`, targets `tokens[:, 1:]`.
 * @param p parameters
 * @param tokens int32 [B, T + 1]
 * @param heads attention heads
 * @returns a scalar loss (nats per token)
 * @example const [loss, grads] = valueAndGrad((p) => lmLoss(p, batch, 2))(params)
 */
export const lmLoss = (p: LlamaParams, tokens: Tensor, heads: number): Tensor => {
  const [b, t1] = tokens.shape
  const x = slice(tokens, [0, 0], [b, t1 - 1])
  const y = slice(tokens, [0, 1], [b, t1 - 1])
  return nn.crossEntropy(logits(p, x, heads), y)
}

/**
 * Number of scalar parameters.
 * @example parameterCount(params) // e.g. 57,000
 */
export const parameterCount = (p: LlamaParams): number => {
  let n = p.embed.size + p.final_norm.size + p.head.size
  for (const b of p.layers) n += b.attn_norm.size + b.mlp_norm.size + Object.values(b.attn).concat(Object.values(b.mlp)).reduce((s, w) => s + w.size, 0)
  return n
}
