/**
 * Recipes: named builders of optimizers, so that `fromConfig` (what
 * `tf.loadLayersModel` calls) can rebuild the optimizer a model was saved
 * with. Filled by `registerOptimizers` and `registerRecipe`, never on import.
 * @internal
 */
import type { GradientTransformation } from '@frugal-ts/frugal'

/**
 * What a recipe's builder is given: the names (state keys) of the variables
 * it optimizes, in the order tfjs hands them over.
 * @example const build = ({ names }: RecipeContext) => adamw({ learningRate: 1e-3, mask: (path) => !/bias/.test(String(path[0])) })
 */
export interface RecipeContext {
  /** the variables' names, in order (state keys: the names when the optimizer first stepped) */
  readonly names: readonly string[]
  /** the variables' ranks, in the same order */
  readonly ranks: readonly number[]
}

/**
 * A recipe's builder: the transformation for its (JSON) options and the variables.
 * @example const make: RecipeBuilder = (options) => chain(clipByGlobalNorm(1), adamw(options as AdamWOptions & { learningRate: number }))
 */
export type RecipeBuilder = (options: unknown, context: RecipeContext) => GradientTransformation<any>

const recipes = new Map<string, RecipeBuilder>()

/** Adds or replaces a recipe. */
export const setRecipe = (name: string, build: RecipeBuilder): void => void recipes.set(name, build)
/** The recipe of a name, if registered. */
export const getRecipe = (name: string): RecipeBuilder | undefined => recipes.get(name)
/** The registered names. */
export const recipeNames = (): string[] => [...recipes.keys()].sort()
