import { Tensor, Tree, dispose, scope } from '@frugal-ts/core'
import type { Jitted } from '@frugal-ts/autodiff'
import { jit, valueAndGrad } from '@frugal-ts/autodiff'
import { FrugalError } from './FrugalError'
import type { GradientTransformation, Params } from './GradientTransformation'
import { applyUpdates } from './GradientTransformation'
import type { PieceCompiler } from './internal/pieces'
import { withPieceCompiler } from './internal/pieces'

/**
 * What one training step returns: the next parameters and optimizer state
 * (the ones passed in are consumed) and the loss before the update.
 * @example const { params, state, loss } = step(params0, state0, x, y)
 */
export interface TrainStepResult<P, S> {
  readonly params: P
  readonly state: S
  /** the loss at the parameters passed in (read on the host) */
  readonly loss: number
  /** whether the optimizer's host-side refresh ran before this update (new subspaces: state sizes may have changed) */
  readonly refreshed: boolean
}

/**
 * How a `trainStep` runs its steps:
 * - `fused`: one compiled program does forward, backward, update and `applyUpdates`
 *   (optimizers without host-side refresh);
 * - `split`: optimizers whose refresh keeps the state's structure (svd, coordinates,
 *   ρ = 0): the fused program on every step that no refresh precedes (`refreshDue`
 *   says so from the state), and on refresh steps a compiled forward/backward, the
 *   host-side refresh, then a compiled update;
 * - `pieces`: a compiled forward/backward, the refresh, then the update with each
 *   FRUGAL leaf compiled once per shape and role (block projectors, whose refresh
 *   moves the stateful state from leaf to leaf) and a compiled `applyUpdates`.
 * @example step.mode // 'pieces' after a FRUGAL blocks refresh
 */
export type TrainStepMode = 'fused' | 'split' | 'pieces'

/**
 * A compiled training step (see `trainStep`), with what it compiled.
 * @example
 * const step = trainStep(loss, adam(1e-3))
 * ;({ params, state } = step(params, state, x, y))
 * step.traceCount // 1: Adam's whole step is one program
 */
export interface TrainStep<P extends object, S, B extends Tensor[] = Tensor[]> {
  (params: P, state: S, ...batch: B): TrainStepResult<P, S>
  /** how the steps run now (it changes from `split` to `pieces` at the first refresh that moves state between leaves) */
  readonly mode: TrainStepMode
  /** how many programs were traced (and compiled) so far, over all the step's parts */
  readonly traceCount: number
  /** how many of them are cached now */
  readonly cacheSize: number
  /** how many host-side refreshes ran */
  readonly refreshes: number
  /** drops every compiled program and its memory (the next step compiles again) */
  clear(): void
}

/**
 * Options of `trainStep`.
 * @example trainStep(loss, opt, { cacheLimit: 8 })
 */
export interface TrainStepOptions {
  /** signatures each compiled part keeps (default 16; FRUGAL's per-leaf pieces keep 64: one per leaf shape and role) */
  readonly cacheLimit?: number
}

/** the structure, shapes and dtypes of a tree: equal exactly when a jitted function sees the same signature */
const signature = (tree: unknown): string => {
  const [leaves, def] = Tree.flatten(tree as Tree.Tree<unknown>)
  return `${Tree.TreeDef.show(def)}|${leaves.map((l) => (l instanceof Tensor ? `${l.dtype}[${l.shape.join(',')}]` : String(l))).join(';')}`
}

/**
 * One training step as the library runs it: `valueAndGrad` of `loss`, the
 * optimizer's `update` and `applyUpdates`, compiled with the parameters and
 * the optimizer state donated (their buffers are reused; the ones passed in
 * are consumed, so always continue with the returned ones), every temporary
 * and replaced tensor released, and the optimizer's host-side part (FRUGAL's
 * subspace refresh: SVDs, random draws) run when it is due, through any
 * combinator (`chain`, `partition`, `masked`, `injectHyperparams`,
 * `multiSteps`, `applyIfFinite`). Memory and the number of compiled programs
 * stay flat over any number of refreshes: a refresh that moves the stateful
 * state between leaves (FRUGAL's blocks) switches to per-leaf pieces compiled
 * once per leaf shape and role, never once per choice (see `TrainStepMode`).
 * @param loss the scalar loss of the parameters and the batch tensors
 * @param optimizer any `GradientTransformation`
 * @param options see `TrainStepOptions`
 * @returns the step: `(params, state, ...batch) => { params, state, loss }`
 * @throws FrugalError when the loss is not a scalar (at the first step)
 * @see https://arxiv.org/abs/2411.07837 (FRUGAL, Algorithm 1: the refresh every T steps)
 * @example
 * const opt = chain(clipByGlobalNorm(1), frugal({ learningRate: 1e-3, updateGap: 200 }))
 * const step = trainStep((p: typeof params, x: Tensor, y: Tensor) => mse(predict(p, x), y), opt)
 * let state = opt.init(params)
 * for (const [x, y] of batches) ({ params, state } = step(params, state, x, y))
 */
export const trainStep = <P extends object, S, B extends Tensor[] = Tensor[]>(
  loss: (params: P, ...batch: B) => Tensor,
  optimizer: GradientTransformation<S>,
  options: TrainStepOptions = {},
): TrainStep<P, S, B> => {
  const cacheLimit = options.cacheLimit ?? 16
  const lossOf = (p: P, xs: B): Tensor => {
    const l = loss(p, ...xs)
    if (!(l instanceof Tensor) || l.rank !== 0)
      throw new FrugalError(
        `the loss must return a scalar tensor, got ${l instanceof Tensor ? `shape [${l.shape.join(', ')}]` : typeof l} (at trainStep.loss)`,
      )
    return l
  }
  const apply = (g: Params, s: S, p: P) => {
    const { updates, state } = optimizer.update(g, s, p as Params)
    return { params: applyUpdates(p as Params, updates) as P, state }
  }
  const fused = jit(
    (p: P, s: S, xs: B) => {
      const [l, g] = valueAndGrad((q: P) => lossOf(q, xs))(p)
      return { loss: l, ...apply(g as Params, s, p) }
    },
    { donate: [0, 1], cacheLimit },
  )
  const grads = jit((p: P, xs: B) => valueAndGrad((q: P) => lossOf(q, xs))(p) as [Tensor, Params], { cacheLimit })
  const update = jit(apply, { donate: [0, 1, 2], cacheLimit })
  const add = jit((p: P, u: Params) => applyUpdates(p as Params, u) as P, { donate: [0, 1], cacheLimit })
  const pieceJits: Jitted<unknown[], unknown>[] = []
  const compiler: PieceCompiler = <A extends unknown[], R>(f: (...args: A) => R) => {
    const j = jit(f, { cacheLimit: Math.max(cacheLimit, 64) })
    pieceJits.push(j as unknown as Jitted<unknown[], unknown>)
    return j
  }
  const jits = (): Jitted<any, any>[] => [fused, grads, update, add, ...pieceJits]
  let mode: TrainStepMode = optimizer.refresh ? 'split' : 'fused'
  let refreshes = 0

  const run = (params: P, state: S, xs: B): { loss: Tensor; params: P; state: S; seen: S } => {
    // the fused program serves every step that no refresh precedes, unless refreshes move state between leaves
    if (mode === 'fused' || (mode === 'split' && optimizer.refreshDue?.(state) === false)) return { ...fused(params, state, xs), seen: state }
    const [l, g] = grads(params, xs)
    const fresh = optimizer.refresh!(g, state, params as Params)
    let s = state
    if (fresh !== null) {
      refreshes++
      if (mode === 'split' && signature(fresh) !== signature(state)) {
        // the stateful state moved between leaves: a jitted update would be a new program per choice
        mode = 'pieces'
        update.clear()
        fused.clear()
      }
      s = fresh
    }
    if (mode === 'split') return { loss: l, ...update(g, s, params), seen: s }
    const r = withPieceCompiler(compiler, () => optimizer.update(g, s, params as Params))
    return { loss: l, params: add(params, r.updates), state: r.state, seen: s }
  }

  const step = ((params: P, state: S, ...batch: B): TrainStepResult<P, S> => {
    const before = refreshes
    const out = scope(() => run(params, state, batch))
    const value = out.loss.item()
    dispose(out.loss)
    // what the step replaced: inputs not donated away, and states the refresh superseded (disposing twice is a no-op)
    const kept = new Set<unknown>([...Tree.leaves(out.params as Tree.Tree<unknown>), ...Tree.leaves(out.state as Tree.Tree<unknown>)])
    const old = [params, state, out.seen].flatMap((t) => Tree.leaves(t as Tree.Tree<unknown>))
    dispose(old.filter((t) => t instanceof Tensor && !kept.has(t)))
    return { params: out.params, state: out.state, loss: value, refreshed: refreshes > before }
  }) as TrainStep<P, S, B>
  Object.defineProperties(step, {
    mode: { get: () => mode },
    traceCount: { get: () => jits().reduce((n, j) => n + j.traceCount, 0) },
    cacheSize: { get: () => jits().reduce((n, j) => n + j.cacheSize, 0) },
    refreshes: { get: () => refreshes },
  })
  Object.assign(step, { clear: () => jits().forEach((j) => j.clear()) })
  return step
}
