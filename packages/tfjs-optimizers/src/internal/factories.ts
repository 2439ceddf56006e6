/**
 * The ready-made optimizers (what `tf.train` lacks: AdamW, Lion, signSGD,
 * Signum, FRUGAL, GaLore, BAdam; and Adam, to compare), user recipes, and
 * `registerOptimizers`, the one call that registers the class with tfjs
 * serialization (each factory makes it too; importing does nothing).
 * @internal
 */
import * as tfc from '@tensorflow/tfjs-core'
import * as F from '@frugal-ts/frugal'
import type { AdamOptions, AdamWOptions, FrugalOptions, GradientTransformation, LionOptions, SignumOptions, WithLearningRate } from '@frugal-ts/frugal'
import { TfjsOptimizersError } from '../TfjsOptimizersError'
import { variablePredicate } from './names'
import type { VariableRule } from './names'
import { TransformationOptimizer } from './optimizer'
import { getRecipe, setRecipe } from './registry'
import type { RecipeBuilder, RecipeContext } from './registry'

/**
 * Options of `frugal`, `galore` and `badam`: those of `@frugal-ts/frugal`'s
 * presets, with `projectable` as a rule on tfjs variable names.
 * @example frugal({ learningRate: 1e-3, density: 0.25, projector: 'columns', projectable: [/dense_Dense[12]\/kernel/] })
 * @see https://arxiv.org/abs/2411.07837 (FRUGAL)
 */
export interface TfjsFrugalOptions extends Omit<FrugalOptions, 'projectable'> {
  /** which variables are split (default: 2-D Dense kernels except the output layer's; see `defaultVariableRule`) */
  readonly projectable?: VariableRule
}

type Presets = 'frugal' | 'galore' | 'badam'

const frugalFamily = (preset: Presets) => (options: unknown, context: RecipeContext): GradientTransformation<any> => {
  if (!options || typeof options !== 'object') throw new TfjsOptimizersError(`${preset}: options must be an object with a learningRate, got ${typeof options} (at ${preset})`)
  const o = options as TfjsFrugalOptions
  const variables = context.names.map((name, i) => ({ name, rank: context.ranks[i] }))
  const isProjectable = variablePredicate(o.projectable, variables, preset)
  return F[preset]({ ...o, projectable: (path, leaf) => isProjectable(String(path[0]), leaf) })
}

const builtins: Record<string, RecipeBuilder> = {
  adam: (o) => F.adam(o as WithLearningRate<AdamOptions>),
  adamw: (o) => F.adamw(o as WithLearningRate<AdamWOptions>),
  lion: (o) => F.lion(o as WithLearningRate<LionOptions>),
  signSgd: (o) => F.signSgd(o as WithLearningRate<object>),
  signum: (o) => F.signum(o as WithLearningRate<SignumOptions>),
  frugal: frugalFamily('frugal'),
  galore: frugalFamily('galore'),
  badam: frugalFamily('badam'),
}

const NAME = /^[A-Za-z][A-Za-z0-9.:-]*$/

/**
 * Registers `TransformationOptimizer` with tfjs serialization
 * (`tf.serialization.registerClass`) and the built-in recipes (`adam`,
 * `adamw`, `lion`, `signSgd`, `signum`, `frugal`, `galore`, `badam`). Call it
 * before `tf.loadLayersModel` of a model saved with one of these optimizers;
 * every factory calls it too. Calling it again does nothing new.
 * @example
 * registerOptimizers()
 * const model = await tf.loadLayersModel('file://./model/model.json') // its FRUGAL optimizer, state and all
 */
export const registerOptimizers = (): void => {
  tfc.serialization.registerClass(TransformationOptimizer)
  for (const [name, build] of Object.entries(builtins)) if (getRecipe(name) === undefined) setRecipe(name, build)
}

/**
 * Registers a recipe: a name for a builder of your own transformation (a
 * `chain`, say) from JSON options, so that optimizers made with
 * `fromRecipe(name, options)` can be saved with a model and rebuilt by
 * `tf.loadLayersModel`. Replaces a recipe of the same name.
 * @param name letters, digits, `.`, `:`, `-` (no `_`: tfjs-layers rewrites those on load)
 * @param build the transformation for the options and the variables' names
 * @throws TfjsOptimizersError for a bad name or a builder that is not a function
 * @example
 * registerRecipe('clipped-adamw', (o) => chain(clipByGlobalNorm(1), F.adamw(o as { learningRate: number })))
 * const optimizer = fromRecipe('clipped-adamw', { learningRate: 1e-3, weightDecay: 0.01 })
 */
export const registerRecipe = (name: string, build: RecipeBuilder): void => {
  if (typeof name !== 'string' || !NAME.test(name))
    throw new TfjsOptimizersError(`registerRecipe: the name must be letters, digits, '.', ':' or '-' and start with a letter, got ${JSON.stringify(name)} (at registerRecipe.name)`)
  if (typeof build !== 'function') throw new TfjsOptimizersError(`registerRecipe: build must be a function, got ${typeof build} (at registerRecipe.build)`)
  registerOptimizers()
  setRecipe(name, build)
}

/**
 * An optimizer of a registered recipe (built-in or `registerRecipe`'s).
 * @param name the recipe
 * @param options its options (JSON data and RegExps, so that `getConfig` can save them)
 * @returns the optimizer
 * @throws TfjsOptimizersError for an unknown recipe
 * @example const optimizer = fromRecipe('frugal', { learningRate: 1e-3, density: 0.25 })
 */
export const fromRecipe = (name: string, options: unknown): TransformationOptimizer => {
  registerOptimizers()
  const build = getRecipe(name)
  if (build === undefined) throw new TfjsOptimizersError(`fromRecipe: unknown recipe ${JSON.stringify(name)}; register it with registerRecipe (at fromRecipe.name)`)
  // build once now, so bad options throw here rather than at the first step
  build(options, { names: [], ranks: [] })
  return new TransformationOptimizer((context) => build(options, context), { name, options })
}

/**
 * Any `GradientTransformation` as a `tf.Optimizer` (no recipe: it trains and
 * its state saves with `includeOptimizer`, but `getConfig` throws, so a model
 * saved with it loads its state only into an optimizer you make yourself —
 * use `registerRecipe` to save it by config).
 * @param transformation the transformation, or a builder of it given the variables' names and ranks
 * @returns the optimizer
 * @example
 * const optimizer = fromTransformation(chain(clipByGlobalNorm(1), F.adamw({ learningRate: 1e-3 })))
 * model.compile({ optimizer, loss: 'meanSquaredError' })
 */
export const fromTransformation = (
  transformation: GradientTransformation<any> | ((context: RecipeContext) => GradientTransformation<any>),
): TransformationOptimizer => {
  registerOptimizers()
  if (typeof transformation === 'function') return new TransformationOptimizer(transformation)
  if (!transformation || typeof transformation.init !== 'function' || typeof transformation.update !== 'function')
    throw new TfjsOptimizersError(`fromTransformation: expected a GradientTransformation ({ init, update }) or a function of the variables, got ${typeof transformation}`)
  return new TransformationOptimizer(() => transformation)
}

/**
 * Adam (`@frugal-ts/frugal`'s `adam`) as a `tf.Optimizer`: what `tf.train.adam`
 * does, to compare against.
 * @example model.compile({ optimizer: adam({ learningRate: 1e-3, eps: 1e-7 }), loss: 'meanSquaredError' })
 * @see https://arxiv.org/abs/1412.6980 (Adam)
 */
export const adam = (options: WithLearningRate<AdamOptions>): TransformationOptimizer => fromRecipe('adam', options)

/**
 * AdamW (Adam with decoupled weight decay) as a `tf.Optimizer`.
 * @example model.compile({ optimizer: adamw({ learningRate: 1e-3, weightDecay: 0.01 }), loss: 'meanSquaredError' })
 * @see https://arxiv.org/abs/1711.05101 (AdamW)
 */
export const adamw = (options: WithLearningRate<AdamWOptions>): TransformationOptimizer => fromRecipe('adamw', options)

/**
 * Lion as a `tf.Optimizer`.
 * @example model.compile({ optimizer: lion({ learningRate: 1e-4, weightDecay: 0.1 }), loss: 'meanSquaredError' })
 * @see https://arxiv.org/abs/2302.06675 (Lion)
 */
export const lion = (options: WithLearningRate<LionOptions>): TransformationOptimizer => fromRecipe('lion', options)

/**
 * signSGD (`θ ← θ − η·sign(g)`) as a `tf.Optimizer`: no state at all.
 * @example model.compile({ optimizer: signSgd({ learningRate: 1e-3 }), loss: 'meanSquaredError' })
 * @see https://arxiv.org/abs/1802.04434 (signSGD)
 */
export const signSgd = (options: { readonly learningRate: F.LearningRate }): TransformationOptimizer => fromRecipe('signSgd', options)

/**
 * Signum (sign descent on the momentum) as a `tf.Optimizer`.
 * @example model.compile({ optimizer: signum({ learningRate: 1e-3, momentum: 0.9 }), loss: 'meanSquaredError' })
 * @see https://arxiv.org/abs/1802.04434 (signSGD and Signum)
 */
export const signum = (options: WithLearningRate<SignumOptions>): TransformationOptimizer => fromRecipe('signum', options)

/**
 * FRUGAL as a `tf.Optimizer`: Adam on a subspace of each projectable
 * variable (default: 2-D Dense kernels except the output layer's), signSGD on
 * the rest of its gradient, Adam on every other variable. Subspaces are
 * refreshed every `updateGap` steps on the host.
 * @example model.compile({ optimizer: frugal({ learningRate: 1e-3, density: 0.25, projector: 'columns', updateGap: 50 }), loss: 'categoricalCrossentropy' })
 * @see https://arxiv.org/abs/2411.07837 (FRUGAL)
 */
export const frugal = (options: TfjsFrugalOptions): TransformationOptimizer => fromRecipe('frugal', options)

/**
 * GaLore (Adam on a low-rank SVD subspace of each projectable variable's gradient, nothing on the rest) as a `tf.Optimizer`.
 * @example model.compile({ optimizer: galore({ learningRate: 1e-3, density: 0.25 }), loss: 'categoricalCrossentropy' })
 * @see https://arxiv.org/abs/2403.03507 (GaLore)
 */
export const galore = (options: TfjsFrugalOptions): TransformationOptimizer => fromRecipe('galore', options)

/**
 * BAdam (Adam on a few whole projectable variables at a time, in descending order, nothing on the others) as a `tf.Optimizer`.
 * @example model.compile({ optimizer: badam({ learningRate: 1e-3, density: 0.5 }), loss: 'categoricalCrossentropy' })
 * @see https://arxiv.org/abs/2404.02827 (BAdam)
 */
export const badam = (options: TfjsFrugalOptions): TransformationOptimizer => fromRecipe('badam', options)
