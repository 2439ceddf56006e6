import type { Tensor } from '@frugal-ts/core'
import {
  CoreError, Shape, add, arange, div, exp, expandDims, greaterEqual, log, matmul, matrixTranspose, max, mean, mul, neg,
  oneHot, reshape, rsqrt, sigmoid, square, sub, sum, take, tanh, transpose, where,
} from '@frugal-ts/core'
import { stopGradient } from './stopGradient'

export { relu, sigmoid } from '@frugal-ts/core'

/**
 * log Σ exp(x) along `axis`, computed stably (the max is subtracted first).
 * @example logSumExp(tensor([0, 0])) // log 2
 */
export const logSumExp = (x: Tensor, axis = -1, keepDims = false): Tensor => {
  const m = stopGradient(max(x, axis, true))
  const r = add(log(sum(exp(sub(x, m)), axis, true)), m)
  return keepDims ? r : reshape(r, x.shape.filter((_, i) => i !== Shape.normAxis('logSumExp', axis, x.rank)))
}

/** exp(x) / Σ exp(x) along `axis`. @example softmax(tensor([0, 0])) // [0.5, 0.5] */
export const softmax = (x: Tensor, axis = -1): Tensor => {
  const e = exp(sub(x, stopGradient(max(x, axis, true))))
  return div(e, sum(e, axis, true))
}

/** log softmax along `axis`. @example nn.logSoftmax(tensor([0, 0])) // [-0.693, -0.693] (log ½) */
export const logSoftmax = (x: Tensor, axis = -1): Tensor => sub(x, logSumExp(x, axis, true))

/**
 * Mean cross-entropy of `logits` [..., C] against int32 class `labels` [...].
 * @example crossEntropy(tensor([[0, 0]]), tensor([1], 'int32')) // log 2
 */
export const crossEntropy = (logits: Tensor, labels: Tensor): Tensor => {
  if (labels.dtype !== 'int32') throw new CoreError(`crossEntropy: labels must be int32, got ${labels.dtype}`)
  if (!Shape.equals(labels.shape, logits.shape.slice(0, -1)))
    throw new CoreError(
      `crossEntropy: logits ${Shape.show(logits.shape)} need labels ${Shape.show(logits.shape.slice(0, -1))}, got ${Shape.show(labels.shape)}`,
    )
  const classes = logits.shape[logits.rank - 1]
  return neg(mean(sum(mul(logSoftmax(logits), oneHot(labels, classes)), -1)))
}

/** Mean squared error. @example nn.mse(tensor([1, 2]), tensor([1, 4])) // 2 */
export const mse = (pred: Tensor, target: Tensor): Tensor => mean(square(sub(pred, target)))

/** RMSNorm over the last axis: x / √(mean(x²) + eps) · weight. @example nn.rmsNorm(tensor([[3, 4]])) // [[0.8485, 1.1314]]: x / √(mean(x²) + eps) */
export const rmsNorm = (x: Tensor, weight?: Tensor, eps = 1e-6): Tensor => {
  const y = mul(x, rsqrt(add(mean(square(x), -1, true), eps)))
  return weight ? mul(y, weight) : y
}

/** LayerNorm over the last axis: (x − μ) / √(σ² + eps) · weight + bias. @example nn.layerNorm(tensor([[1, 3]])) // [[-1, 1]] (up to eps) */
export const layerNorm = (x: Tensor, weight?: Tensor, bias?: Tensor, eps = 1e-5): Tensor => {
  const c = sub(x, mean(x, -1, true))
  const y = mul(c, rsqrt(add(mean(square(c), -1, true), eps)))
  const w = weight ? mul(y, weight) : y
  return bias ? add(w, bias) : w
}

/** GELU, tanh approximation: ½x(1 + tanh(√(2/π)(x + 0.044715x³))). @example nn.gelu(tensor([0, 1])) // [0, 0.841] */
export const gelu = (x: Tensor): Tensor =>
  mul(mul(x, 0.5), add(tanh(mul(add(x, mul(mul(mul(x, x), x), 0.044715)), Math.sqrt(2 / Math.PI))), 1))

/** SiLU (swish): x · sigmoid(x). @example nn.silu(tensor([0, 1])) // [0, 0.731] */
export const silu = (x: Tensor): Tensor => mul(x, sigmoid(x))

/**
 * Rows of an embedding `table` [V, D] for int32 `ids` [...] → [..., D]; its gradient is a scatter-add.
 * @example
 * nn.embedding(tensor([[0, 0], [1, 2]]), tensor([1, 1, 0], 'int32')) // [[1, 2], [1, 2], [0, 0]]
 */
export const embedding = (table: Tensor, ids: Tensor): Tensor => take(table, ids, 0)

/** x·W (+ b) with W [in, out]; x may have any leading axes. @example nn.linear(tensor([[1, 2]]), tensor([[1], [1]]), tensor([0.5])) // [[3.5]] */
export const linear = (x: Tensor, w: Tensor, b?: Tensor): Tensor => {
  const y = matmul(x, w)
  return b ? add(y, b) : y
}

/**
 * The [T, T] bool mask that lets position i attend to positions ≤ i.
 * @example
 * nn.causalMask(3) // [[true, false, false], [true, true, false], [true, true, true]]
 */
export const causalMask = (t: number): Tensor => greaterEqual(expandDims(arange(t), 1), expandDims(arange(t), 0))

/**
 * Scaled dot-product attention: softmax(q·kᵀ/√d) · v over the last two axes
 * ([..., T, d] each), optionally causal.
 * @example
 * const q = Key.normal(Key.key(0), [2, 4, 8]) // [batch, T, d]
 * nn.attention(q, q, q, { causal: true }).shape // [2, 4, 8]
 */
export const attention = (q: Tensor, k: Tensor, v: Tensor, options: { causal?: boolean } = {}): Tensor => {
  const d = q.shape[q.rank - 1]
  let scores = mul(matmul(q, matrixTranspose(k)), 1 / Math.sqrt(d))
  if (options.causal) scores = where(causalMask(q.shape[q.rank - 2]), scores, -1e9)
  return matmul(softmax(scores, -1), v)
}

/**
 * The weights of one attention block, each [D, D].
 * @example
 * const w: nn.AttentionWeights = { wq: eye(8), wk: eye(8), wv: eye(8), wo: eye(8) }
 * nn.causalSelfAttention(Key.normal(Key.key(0), [1, 5, 8]), w, 2).shape // [1, 5, 8]
 */
export interface AttentionWeights {
  readonly wq: Tensor
  readonly wk: Tensor
  readonly wv: Tensor
  readonly wo: Tensor
}

/**
 * Causal multi-head self-attention of x [B, T, D] with `heads` heads.
 * `rotate` may transform q and k per head ([B, H, T, D/H]), e.g. rotary position embedding.
 * @example
 * const w = { wq: eye(8), wk: eye(8), wv: eye(8), wo: eye(8) }
 * nn.causalSelfAttention(Key.normal(Key.key(0), [1, 5, 8]), w, 2).shape // [1, 5, 8] (2 heads of 4)
 */
export const causalSelfAttention = (
  x: Tensor,
  w: AttentionWeights,
  heads: number,
  rotate?: (qk: Tensor) => Tensor,
): Tensor => {
  const [b, t, d] = x.shape
  if (x.rank !== 3 || d % heads !== 0)
    throw new CoreError(`causalSelfAttention: x ${Shape.show(x.shape)} must be [B, T, D] with D divisible by heads=${heads}`)
  const split = (y: Tensor) => transpose(reshape(y, [b, t, heads, d / heads]), [0, 2, 1, 3])
  let q = split(matmul(x, w.wq))
  let k = split(matmul(x, w.wk))
  const v = split(matmul(x, w.wv))
  if (rotate) [q, k] = [rotate(q), rotate(k)]
  const o = attention(q, k, v, { causal: true })
  return matmul(reshape(transpose(o, [0, 2, 1, 3]), [b, t, d]), w.wo)
}
