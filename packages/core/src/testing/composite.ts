import fc from 'fast-check'
import type { Tensor } from '../Tensor'
import { add, concat, div, exp, log, matmul, matrixTranspose, max, mean, mul, oneHot, relu, slice, square, sub, sum, take, tanh } from '../ops'
import * as Tree from '../Tree'
import type { HostTensor } from './arbitraries'
import { arbTensor, toHost, toTensor } from './arbitraries'
import type { CheckOptions, JitFunction } from './check'
import { assertHostClose, assertNoLeak, assertProperty, onBackend, referenceBackend, toleranceFor } from './check'
import { checkParams } from './tolerances'

/**
 * The transformations of `@frugal-ts/autodiff` the conformance suite needs,
 * passed in by the caller (core does not depend on autodiff).
 * @example conformance('webgl', { autodiff: { grad, jit } })
 */
export interface AutodiffFunctions {
  readonly grad: (f: (...args: any[]) => any) => (...args: any[]) => any
  readonly jit: JitFunction
}

/**
 * The parameters of the test MLP: an embedding, a hidden layer and an output layer.
 * @example const shapes: MlpParams<number[]> = { emb: [6, 4], w1: [4, 8], b1: [8], w2t: [3, 8], b2: [3] }
 */
export interface MlpParams<T> {
  readonly emb: T
  readonly w1: T
  readonly b1: T
  readonly w2t: T
  readonly b2: T
}

/**
 * Inputs of `mlpLoss` on the host: parameters, token ids and labels.
 * @example const [inputs] = fc.sample(arbMlpInputs(), 1) // MlpInputs
 */
export interface MlpInputs {
  readonly params: MlpParams<HostTensor>
  readonly tokens: HostTensor
  readonly labels: HostTensor
}

const vocab = 6
const classes = 3
const batch = 5

/**
 * Cross-entropy loss of a small MLP over embedded tokens, plus an L2 term. Its
 * gradient exercises most VJP rules: gather (scatterAdd with duplicate tokens),
 * matmul, transpose, broadcasting bias, relu (max), tanh, slice/concat (pad),
 * the max/exp/log/sum of a log-sum-exp, division by a count, compare and cast.
 * @example grad(mlpLoss)(params, tokens, labels) // same tree as params
 */
export const mlpLoss = (p: MlpParams<Tensor>, tokens: Tensor, labels: Tensor): Tensor => {
  const x = take(p.emb, tokens, 0)
  const h = relu(add(matmul(x, p.w1), p.b1))
  const halves = concat([slice(h, [0, 0], [-1, 4]), tanh(slice(h, [0, 4], [-1, 4]))], 1)
  const logits = add(matmul(halves, matrixTranspose(p.w2t)), p.b2)
  const m = max(logits, -1, true)
  const lse = add(log(sum(exp(sub(logits, m)), -1, true)), m)
  const nll = sub(lse, sum(mul(logits, oneHot(labels, classes)), -1, true))
  return add(mean(nll), div(sum(square(p.w1)), 100))
}

/**
 * Random inputs of `mlpLoss`: weights in [−1, 1], tokens with duplicates.
 * @example fc.sample(arbMlpInputs(), 1)
 */
export const arbMlpInputs = (): fc.Arbitrary<MlpInputs> =>
  fc.record({
    params: fc.record({
      emb: arbTensor({ shape: [vocab, 4], min: -1, max: 1 }),
      w1: arbTensor({ shape: [4, 8], min: -1, max: 1 }),
      b1: arbTensor({ shape: [8], min: -1, max: 1 }),
      w2t: arbTensor({ shape: [classes, 8], min: -1, max: 1 }),
      b2: arbTensor({ shape: [classes], min: -1, max: 1 }),
    }),
    tokens: arbTensor({ shape: [batch], dtype: 'int32', min: 0, max: vocab - 1 }),
    labels: arbTensor({ shape: [batch], dtype: 'int32', min: 0, max: classes - 1 }),
  })

type Run = (f: typeof mlpLoss, ad: AutodiffFunctions) => (p: MlpParams<Tensor>, t: Tensor, l: Tensor) => unknown

/** Runs `make(mlpLoss)` on backend `name` with `inputs`, returning the result's leaves on the host. */
const run = (name: string, inputs: MlpInputs, ad: AutodiffFunctions, make: Run): HostTensor[] =>
  onBackend(name, () => {
    const p = Object.fromEntries(Object.entries(inputs.params).map(([k, h]) => [k, toTensor(h)])) as unknown as MlpParams<Tensor>
    const out = make(mlpLoss, ad)(p, toTensor(inputs.tokens), toTensor(inputs.labels))
    return Tree.leaves(out as Tree.Tree<Tensor>).map(toHost)
  })

/**
 * The transformations the suite compares: `name` ⇒ how to build the function from `mlpLoss`.
 * @example transforms.grad(mlpLoss, { grad, jit })(params, tokens, labels) // gradient tree
 */
export const transforms: Readonly<Record<string, Run>> = {
  eager: (f) => f,
  grad: (f, ad) => ad.grad(f),
  jit: (f, ad) => ad.jit(f),
  'jit(grad)': (f, ad) => ad.jit(ad.grad(f)),
}

/**
 * Checks `transforms[kind]` of `mlpLoss` on backend `name` against the eager
 * loss (for `jit`) or `grad` (for `jit(grad)`) on the reference backend. The
 * float32 tolerance is widened tenfold: a composite accumulates the error of
 * many kernels. `grad` and eager runs must also leave no memory behind.
 * Runs `o.numRuns` cases (default 10: each one traces).
 * @example checkComposite('webgl', 'grad', { grad, jit })
 */
export const checkComposite = (name: string, kind: keyof typeof transforms, ad: AutodiffFunctions, o: CheckOptions = {}): void => {
  const ref = o.reference ?? referenceBackend
  const refKind = kind === 'jit' ? 'eager' : kind === 'jit(grad)' ? 'grad' : kind
  const what = `${kind}(mlpLoss) on ${name} vs ${refKind} on ${ref}`
  const base = toleranceFor('float32', o)
  const tol = { rtol: base.rtol * 10, atol: base.atol * 10 }
  assertProperty(
    fc.property(arbMlpInputs(), (inputs) => {
      const expected = run(ref, inputs, ad, transforms[refKind])
      const go = () => run(name, inputs, ad, transforms[kind])
      const actual = kind.startsWith('jit') ? go() : assertNoLeak(name, go, what)
      if (actual.length !== expected.length) throw new Error(`${what}: ${actual.length} outputs, expected ${expected.length}`)
      actual.forEach((a, i) => assertHostClose(a, expected[i], tol, `${what}, output ${i}`))
    }),
    checkParams({ seed: o.seed, numRuns: o.numRuns ?? 10 }),
  )
}
