/**
 * `TransformationOptimizer`: any frugal-ts `GradientTransformation` as a
 * `tf.Optimizer`. Each step sees the variables and gradients as frugal-ts
 * tensors on a tfjs backend (no copies), runs the transformation's host-side
 * `refresh` when it is due and its `update`, and writes the variables with
 * `assign` inside `tf.tidy`.
 * @internal
 */
import * as tfc from '@tensorflow/tfjs-core'
import { Tensor, Tree, dispose, fromArray, keep, scope, storageOf, withBackend, zeros } from '@frugal-ts/core'
import { jit } from '@frugal-ts/autodiff'
import type { Jitted } from '@frugal-ts/autodiff'
import type { GradientTransformation, Params } from '@frugal-ts/frugal'
import { applyUpdates, stateBytes } from '@frugal-ts/frugal'
import { TfjsOptimizersError } from '../TfjsOptimizersError'
import { decodeOptions, encodeOptions } from './config'
import { getRecipe, recipeNames } from './registry'
import type { RecipeContext } from './registry'
import { BACKEND, adapterBackend, handleOf, view } from './runtime'
import { META, PREFIX, checkLeaf, fromSkeleton, parseMeta, skeletonOf } from './weights'
import type { LeafSpec, Meta } from './weights'

/** tfjs's `NamedTensor` (not exported by tfjs-core's index). */
interface NamedTensor {
  name: string
  tensor: tfc.Tensor
}

/**
 * How a `TransformationOptimizer` was made, for `getConfig`: a recipe name and
 * its JSON options (see `registerRecipe`).
 * @example const recipe: Recipe = { name: 'frugal', options: { learningRate: 1e-3, density: 0.25 } }
 */
export interface Recipe {
  /** the recipe's registered name */
  readonly name: string
  /** its options: JSON data (RegExps allowed) */
  readonly options: unknown
}

/** One variable the state is for. */
interface Slot {
  readonly key: string
  readonly shape: readonly number[]
}

/** The state with every tensor that `isView` picks replaced by a copy. */
const copyViews = (state: unknown, isView: (t: Tensor) => boolean): unknown => {
  const { skeleton, tensors } = skeletonOf(state)
  return fromSkeleton(skeleton, tensors.map((t) => (isView(t) ? fromArray(t.dataSync(), [...t.shape], t.dtype) : t)))
}

const sameShape = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((d, i) => d === b[i])
const showShape = (s: readonly number[]) => `[${s.join(', ')}]`

/**
 * A `tf.Optimizer` that runs a frugal-ts `GradientTransformation` (FRUGAL,
 * GaLore, BAdam, AdamW, Lion, any `chain`) on tfjs variables: use it in
 * `model.compile({ optimizer })`, `model.fit`, `optimizer.minimize`.
 *
 * - `applyGradients` takes a named map or an array of `{ name, tensor }`;
 *   every call must cover the same variables (a missing gradient counts as
 *   zeros). The optimizer state is a frugal-ts pytree keyed by the variable
 *   names of the first step, in the sorted order of those names.
 * - `getWeights`/`setWeights` carry the whole state (FRUGAL's subspaces,
 *   PRNG key and step counters included), so `model.save(url, {
 *   includeOptimizer: true })` and `tf.loadLayersModel` resume bit for bit.
 *   After `setWeights`, the next step binds its variables to the saved state
 *   by position (a reloaded model's variables may carry new names) and checks
 *   their shapes.
 * - `getConfig`/`fromConfig` save and rebuild it by recipe (call
 *   `registerOptimizers()` before `tf.loadLayersModel`).
 *
 * Make it with a factory (`frugal`, `adamw`, …) or `fromTransformation`.
 * @example
 * const optimizer = frugal({ learningRate: 1e-3, density: 0.25 })
 * model.compile({ optimizer, loss: 'categoricalCrossentropy', metrics: ['accuracy'] })
 * await model.fit(xs, ys, { epochs: 5 })
 * optimizer.stateBytes() // bytes of FRUGAL's optimizer state
 */
export class TransformationOptimizer extends tfc.Optimizer {
  /** The class name tfjs serialization records (`tf.serialization.registerClass`). */
  static get className(): string {
    return 'FrugalTsOptimizer'
  }

  /**
   * Plain `instanceof` (tfjs's `Optimizer` answers true for any object with
   * `minimize`, `computeGradients` and `applyGradients`, which its subclasses inherit).
   * @param x any value
   * @returns whether `x` was made by this class (or a subclass)
   */
  static override [Symbol.hasInstance](x: unknown): boolean {
    return Function.prototype[Symbol.hasInstance].call(this, x)
  }

  readonly #build: (context: RecipeContext) => GradientTransformation<any>
  readonly #recipe: Recipe | null
  #transformation: GradientTransformation<any> | null = null
  /** the step's tensor math (update, then θ + u) compiled by frugal-ts's jit; null when jit is off */
  #step: Jitted<[Params, unknown, Params], { params: Params; state: unknown }> | null = null
  /**
   * Whether the step's tensor math runs as one compiled program (frugal-ts's
   * `jit` on the tfjs backend: one `tf.tidy`, fused ops) rather than op by op.
   * Default true; set it before the first step.
   */
  jit = true
  #slots: Slot[] | null = null
  /** tfjs variable name → slot index; empty after `setWeights` until the next step binds by position */
  #byName = new Map<string, number>()
  #state: unknown = null
  #exported: tfc.Tensor[] = []

  /**
   * @param build the transformation, given the variables' names and ranks (called once, at the first step)
   * @param recipe how to rebuild it (`getConfig`); null when it cannot be saved by config
   */
  constructor(build: (context: RecipeContext) => GradientTransformation<any>, recipe: Recipe | null = null) {
    super()
    if (typeof build !== 'function') throw new TfjsOptimizersError(`TransformationOptimizer: build must be a function of the variables, got ${typeof build}`)
    this.#build = build
    this.#recipe = recipe
  }

  /** The recipe this optimizer was made from, or null. */
  get recipe(): Recipe | null {
    return this.#recipe
  }

  /** The frugal-ts optimizer state (a pytree of tensors on the adapter's tfjs backend); null before the first step. */
  get state(): unknown {
    return this.#state
  }

  /** The names the state is keyed by (the variables' names at the first step), in order; empty before it. */
  get names(): string[] {
    return (this.#slots ?? []).map((s) => s.key)
  }

  /** The bytes of the optimizer state's tensors (`stateBytes` of `@frugal-ts/frugal`); 0 before the first step. */
  stateBytes(): number {
    return this.#state === null ? 0 : stateBytes(this.#state)
  }

  /** Slot indices of the gradients' variables, binding them on the first step (or the first after `setWeights`). */
  #bind(names: readonly string[], vars: readonly tfc.Variable[]): number[] {
    const dup = names.find((n, i) => names.indexOf(n) !== i)
    if (dup !== undefined) throw new TfjsOptimizersError(`applyGradients: variable '${dup}' is given twice (at applyGradients.${dup})`)
    if (this.#slots === null) {
      this.#slots = names.map((n, i) => ({ key: n, shape: vars[i].shape }))
      this.#byName = new Map(names.map((n, i) => [n, i]))
    } else if (this.#byName.size === 0) {
      const slots = this.#slots
      if (names.length !== slots.length)
        throw new TfjsOptimizersError(
          `applyGradients: the restored optimizer state is for ${slots.length} variables, got gradients for ${names.length} (expected the variables of the model it was saved with, in the same order)`,
        )
      names.forEach((n, i) => {
        if (!sameShape(vars[i].shape, slots[i].shape))
          throw new TfjsOptimizersError(
            `applyGradients: variable ${i} ('${n}') has shape ${showShape(vars[i].shape)}, the restored state's variable ${i} ('${slots[i].key}') had ${showShape(slots[i].shape)} (at applyGradients.${n})`,
          )
      })
      this.#byName = new Map(names.map((n, i) => [n, i]))
    }
    const slots = this.#slots
    const idx = names.map((n) => {
      const j = this.#byName.get(n)
      if (j === undefined)
        throw new TfjsOptimizersError(
          `applyGradients: variable '${n}' has no state in this optimizer, which steps ${slots.length} variables (${slots.map((s) => s.key).join(', ')}) (at applyGradients.${n})`,
        )
      return j
    })
    if (idx.length !== slots.length) {
      const given = new Set(idx)
      const missing = slots.filter((_, j) => !given.has(j)).map((s) => s.key)
      throw new TfjsOptimizersError(`applyGradients: no gradients for ${missing.join(', ')}; every step must cover the same variables (at applyGradients)`)
    }
    return idx
  }

  /**
   * One step: `θ ← θ + update(g)` for every variable, with the
   * transformation's `refresh` run first when it is due.
   * @param variableGradients gradients by variable name, as a map or a list of `{ name, tensor }`
   * @throws TfjsOptimizersError for an unknown variable, a gradient of the wrong shape, a step that leaves out variables; nothing is changed then
   */
  override applyGradients(variableGradients: tfc.NamedTensorMap | NamedTensor[]): void {
    const items: [string, tfc.Tensor | null | undefined][] = Array.isArray(variableGradients)
      ? variableGradients.map((v) => [v.name, v.tensor])
      : Object.entries(variableGradients)
    const registered = tfc.engine().registeredVariables
    const vars = items.map(([name]) => {
      const v = registered[name]
      if (v === undefined) throw new TfjsOptimizersError(`applyGradients: there is no tfjs variable named '${name}' (at applyGradients.${name})`)
      return v
    })
    items.forEach(([name, g], i) => {
      if (g != null && !sameShape(g.shape, vars[i].shape))
        throw new TfjsOptimizersError(`applyGradients: the gradient of '${name}' has shape ${showShape(g.shape)}, the variable ${showShape(vars[i].shape)} (at applyGradients.${name})`)
    })
    const idx = this.#bind(items.map((i) => i[0]), vars)
    const slots = this.#slots!
    const backend = adapterBackend()
    withBackend(BACKEND, () => {
      const t = (this.#transformation ??= this.#build({ names: slots.map((s) => s.key), ranks: slots.map((s) => s.shape.length) }))
      const old = this.#state
      const next = scope(() => {
        const grads: Record<string, Tensor> = {}
        const params: Record<string, Tensor> = {}
        items.forEach(([name, g], i) => {
          const key = slots[idx[i]].key
          params[key] = view(backend, vars[i], `applyGradients.${name}`)
          grads[key] = g == null ? zeros(vars[i].shape) : view(backend, g, `applyGradients.${name}`)
        })
        const s0 = old ?? t.init(params as Params)
        const fresh = t.refresh?.(grads as Params, s0, params as Params) ?? null
        const r = this.#stepOf(t)(grads as Params, fresh ?? s0, params as Params)
        const values = r.params as Record<string, Tensor>
        const handles = items.map(([name], i) => {
          const u = values?.[slots[idx[i]].key]
          if (u === undefined || !sameShape(u.shape, vars[i].shape))
            throw new TfjsOptimizersError(`applyGradients: the transformation gave ${u === undefined ? 'no update' : `an update of shape ${showShape(u.shape)}`} for '${name}', expected ${showShape(vars[i].shape)} (at applyGradients.${name})`)
          return handleOf(u, `applyGradients.${name}`)
        })
        // a state that holds a variable or gradient itself (an average initialised from the
        // parameters, say) gets a copy: the variable changes under it, the gradient is tfjs's
        const tfjsOwned = new Set<unknown>([...vars, ...items.map((i) => i[1])])
        const isView = (l: unknown) => l instanceof Tensor && l.trace === null && !l.isDisposed && tfjsOwned.has(storageOf(l, 'applyGradients').handle)
        const state = (Tree.leaves(r.state as Tree.Tree<unknown>) as unknown[]).some(isView) ? copyViews(r.state, isView) : r.state
        // the variables share the new values' data (tfjs counts references), so the values can be released
        tfc.tidy(() => vars.forEach((v, i) => void (handles[i] === v ? undefined : v.assign(handles[i]))))
        return keep(state)
      })
      if (old !== null) {
        const kept = new Set(Tree.leaves(next as Tree.Tree<unknown>))
        dispose((Tree.leaves(old as Tree.Tree<unknown>) as unknown[]).filter((x) => !kept.has(x)))
      }
      this.#state = next
    })
    this.incrementIterations()
  }

  /** The step: update, then θ + u, jitted or not. */
  #stepOf(t: GradientTransformation<any>): (g: Params, s: unknown, p: Params) => { params: Params; state: unknown } {
    const math = (g: Params, s: unknown, p: Params) => {
      const r = t.update(g, s, p)
      return { params: applyUpdates(p, r.updates), state: r.state }
    }
    if (!this.jit) return math
    return (this.#step ??= jit(math))
  }

  #disposeExported(): void {
    for (const t of this.#exported) t.dispose()
    this.#exported = []
  }

  /**
   * The optimizer state as named tfjs tensors: `iter` (the step count, as
   * every tfjs optimizer saves it), `frugal-ts/meta` (a string tensor: the
   * state's structure and the variables it is for) and one tensor per state
   * tensor, `frugal-ts/state/<path>`. The state tensors are the optimizer's
   * own (do not dispose them); `iter` and the meta tensor are released at the
   * next `getWeights` or `dispose`.
   * @returns the weights, for `model.save(…, { includeOptimizer: true })`
   */
  override async getWeights(): Promise<NamedTensor[]> {
    this.#disposeExported()
    const iter = (await this.saveIterations()).tensor
    this.#exported.push(iter)
    const out: NamedTensor[] = [{ name: 'iter', tensor: iter }]
    if (this.#slots === null || this.#state === null) return out
    const { skeleton, tensors, paths } = skeletonOf(this.#state)
    const leaves: LeafSpec[] = tensors.map((t, i) => ({ name: `${PREFIX}/${paths[i] || i}`, dtype: t.dtype, shape: [...t.shape] }))
    const meta: Meta = { format: 'frugal-ts/tfjs-optimizer-state', version: 1, keys: this.names, shapes: this.#slots.map((s) => [...s.shape]), skeleton, leaves }
    const metaTensor = tfc.scalar(JSON.stringify(meta), 'string')
    this.#exported.push(metaTensor)
    out.push({ name: META, tensor: metaTensor })
    tensors.forEach((t, i) => out.push({ name: leaves[i].name, tensor: handleOf(t, `getWeights.${leaves[i].name}`) }))
    return out
  }

  /**
   * Restores the state of `getWeights` (what `tf.loadLayersModel` calls with
   * a model's saved optimizer weights). The tensors are copied: the caller
   * may dispose them. All is checked before anything changes.
   * @param weightValues the weights, `iter` first
   * @throws TfjsOptimizersError for a missing `iter` or meta weight, a malformed document, a state tensor missing or of another dtype or shape
   */
  override async setWeights(weightValues: NamedTensor[]): Promise<void> {
    const byName = new Map(weightValues.map((w) => [w.name, w.tensor]))
    const iter = byName.get('iter')
    if (iter === undefined || iter.size !== 1) throw new TfjsOptimizersError(`setWeights: no scalar 'iter' weight (got ${weightValues.map((w) => w.name).join(', ') || 'no weights'}) (at weight 'iter')`)
    const iterations = (await iter.data())[0] as number
    const metaTensor = byName.get(META)
    if (metaTensor === undefined) {
      if (weightValues.length > 1)
        throw new TfjsOptimizersError(`setWeights: no '${META}' weight among ${weightValues.length} weights: these are not a frugal-ts optimizer's (at weight '${META}')`)
      this.#replaceState(null, null, iterations)
      return
    }
    if (metaTensor.dtype !== 'string' || metaTensor.size !== 1) throw new TfjsOptimizersError(`setWeights: '${META}' must be a string scalar, got ${metaTensor.dtype}[${metaTensor.shape.join(', ')}] (at weight '${META}')`)
    const meta = parseMeta((await metaTensor.data())[0] as unknown as string)
    const saved = meta.leaves.map((spec) => checkLeaf(spec, byName.get(spec.name)))
    const datas = await Promise.all(saved.map((t) => t.data()))
    const state = withBackend(BACKEND, () => {
      adapterBackend()
      const tensors = keep(datas.map((d, i) => fromArray(d as Float32Array | Int32Array | Uint8Array, [...meta.leaves[i].shape], meta.leaves[i].dtype)))
      return fromSkeleton(meta.skeleton, tensors)
    })
    this.#replaceState(meta.keys.map((key, i) => ({ key, shape: meta.shapes[i] })), state, iterations)
  }

  #replaceState(slots: Slot[] | null, state: unknown, iterations: number): void {
    if (this.#state !== null) dispose(Tree.leaves(this.#state as Tree.Tree<unknown>))
    this.#state = state
    this.#slots = slots
    this.#byName = new Map()
    this.#transformation = null
    this.#step = null
    this.iterations_ = iterations
  }

  /**
   * The config tfjs saves with a model: the recipe's name and options.
   * @throws TfjsOptimizersError when the optimizer was made without a recipe, or its options hold functions or tensors
   */
  override getConfig(): tfc.serialization.ConfigDict {
    const r = this.#recipe
    if (r === null)
      throw new TfjsOptimizersError(
        'getConfig: this optimizer was made from a transformation without a recipe, so it cannot be saved by config; register one with registerRecipe(name, build) and make the optimizer with fromRecipe(name, options)',
      )
    return { recipe: r.name, options: encodeOptions(r.options, r.name) }
  }

  /**
   * Rebuilds an optimizer from its config (what `tf.loadLayersModel` calls).
   * @param cls the class (tfjs passes it)
   * @param config `{ recipe, options }` of `getConfig`
   * @returns the optimizer, state-less until `setWeights` or its first step
   * @throws TfjsOptimizersError for an unknown recipe (and the names known)
   */
  static override fromConfig<T extends tfc.serialization.Serializable>(
    cls: tfc.serialization.SerializableConstructor<T>,
    config: tfc.serialization.ConfigDict,
  ): T {
    void cls
    const name = config.recipe
    if (typeof name !== 'string') throw new TfjsOptimizersError(`fromConfig: the config has no recipe name (at config.recipe)`)
    const build = getRecipe(name)
    if (build === undefined)
      throw new TfjsOptimizersError(
        `fromConfig: unknown optimizer recipe '${name}' (registered: ${recipeNames().join(', ') || 'none'}); call registerOptimizers() (and registerRecipe for your own) before tf.loadLayersModel (at config.recipe)`,
      )
    const options = decodeOptions(config.options, name)
    return new TransformationOptimizer((context) => build(options, context), { name, options }) as unknown as T
  }

  /** Releases the optimizer state and the tensors of the last `getWeights`. */
  override dispose(): void {
    this.#disposeExported()
    if (this.#state !== null) dispose(Tree.leaves(this.#state as Tree.Tree<unknown>))
    this.#state = null
    super.dispose()
  }
}
