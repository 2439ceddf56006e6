import { Tree } from '@frugal-ts/core'
import { FrugalError, check } from '../FrugalError'
import type { CoordinateMode } from '../projectors/coordinates'
import { coordinates } from '../projectors/coordinates'
import type { Projector } from '../projectors/Projector'
import type { FrugalAdamTransformation, FrugalOptions } from './presets'
import { frugal } from './presets'

/**
 * A projector that works only on the leaves whose dotted path `targets`
 * matches and gives every other projectable leaf an empty subspace (`null`):
 * those leaves are permanently state-free, they get only the state-free update.
 * @param inner the projector of the target leaves
 * @param targets tested against the dotted path (`layers.0.attn.wq`)
 * @returns a projector named `<inner>@targets`
 * @see https://arxiv.org/abs/2411.07837 (FRUGAL §5.2, fine-tuning: only the query and value matrices get a subspace)
 * @example onlyOn(coordinates({ mode: 'columns' }), /\.(wq|wv)$/)
 */
export const onlyOn = <PS>(inner: Projector<PS>, targets: RegExp): Projector<PS> => {
  if (!(targets instanceof RegExp)) throw new FrugalError(`targets must be a RegExp, got ${typeof targets} (at onlyOn.targets)`)
  const hit = (path: Tree.Path) => {
    targets.lastIndex = 0
    return targets.test(Tree.pathString(path))
  }
  return {
    ...inner,
    name: `${inner.name}@targets`,
    validate: (shape, path) => (hit(path) ? inner.validate(shape, path) : undefined),
    init: (param, ctx) => (hit(ctx.path) ? inner.init(param, ctx) : null),
    refresh: (grad, previous, ctx) => (hit(ctx.path) ? inner.refresh(grad, previous, ctx) : null),
  }
}

/**
 * The attention query and value matrices under the names of this repository's
 * LLaMA (`attn.wq`, `attn.wv`), of Hugging Face LLaMA (`q_proj`, `v_proj`) and of BERT/RoBERTa (`query`, `value`).
 * @example QUERY_VALUE.test('layers.0.attn.wq') // true
 * @see https://arxiv.org/abs/2411.07837 (FRUGAL §5.2)
 */
export const QUERY_VALUE = /(^|\.)(wq|wv|q_proj|v_proj|query|value)(\.weight)?$/

/**
 * Options of `frugalFinetune`.
 * @example frugalFinetune({ learningRate: 1e-3, rank: 8, width: 768 })
 * @see https://arxiv.org/abs/2411.07837 (FRUGAL §5.2)
 */
export interface FrugalFinetuneOptions extends Omit<FrugalOptions, 'projector' | 'density' | 'blockOrder' | 'blockCount'> {
  /** r: the subspace's rank, with `width` (ρ = r / width); the paper uses 8 (and 0) */
  readonly rank?: number
  /** the width the rank is a fraction of (the authors: the classifier's smaller side, 768 for RoBERTa-base) */
  readonly width?: number
  /** ρ directly, instead of `rank` and `width` */
  readonly density?: number
  /** which leaves get the coordinates subspace (default `QUERY_VALUE`); the other projectable leaves are permanently state-free */
  readonly targets?: RegExp
  /** the coordinates kept on the targets (default `columns`, the authors' `coord_choice`) */
  readonly mode?: CoordinateMode
}

/**
 * The paper's fine-tuning recipe as one preset: coordinates (whole columns,
 * ⌊ρ·n⌋ of them) on the attention query and value matrices only, with AdamW
 * there and signSGD on the rest of them; the key, output and MLP matrices
 * permanently state-free (signSGD only, no optimizer state at all);
 * embeddings, norms and the head with AdamW. T = 500, the state-free part
 * scaled by 0.1, ρ = rank / width. As the authors' `run_glue.py` and
 * `scripts/glue/rank_8` (`--coord_choice columns --update_gap 500 --inactive_lr_scale 0.1 --rank 8`).
 *
 * Layout: the authors' weights are PyTorch's [out, in], so their `columns` are
 * input features; this repository's LLaMA multiplies x·W with W [in, out], so
 * `columns` here are output features. For the square query and value matrices
 * the counts and state sizes are the same; pass `mode: 'rows'` for input features.
 * @param options learning rate, rank and width (or density), and any `frugal` option
 * @returns a `FrugalTransformation`
 * @throws FrugalError naming the bad option: a rank or width that is not a non-negative / positive integer, a rank above the width, both `density` and `rank`
 * @see https://arxiv.org/abs/2411.07837 (FRUGAL §5.2 and Appendix A.2)
 * @example
 * const opt = frugalFinetune({ learningRate: 1e-3, rank: 8, width: 64 }) // ρ = 0.125: 8 of 64 columns of wq and wv
 * let state = opt.init(params)
 */
export const frugalFinetune = (options: FrugalFinetuneOptions): FrugalAdamTransformation => {
  const at = 'frugalFinetune'
  if (!options || typeof options !== 'object') throw new FrugalError(`options must be an object with a learningRate, got ${typeof options} (at ${at})`)
  const { rank, width, density, targets = QUERY_VALUE, mode = 'columns', ...rest } = options
  if (density !== undefined && (rank !== undefined || width !== undefined))
    throw new FrugalError(`give density or rank and width, not both (at ${at}.density)`)
  let rho = density ?? 0
  if (density === undefined) {
    if (rank === undefined || width === undefined) throw new FrugalError(`needs rank and width (ρ = rank / width), or density (at ${at}.rank)`)
    check(rank, 'nonNegativeInteger', `${at}.rank`)
    check(width, 'positiveInteger', `${at}.width`)
    if (rank > width) throw new FrugalError(`rank must not exceed width (${width}), got ${rank} (at ${at}.rank)`)
    rho = rank / width
  }
  return frugal({
    updateGap: 500,
    stateFreeScale: 0.1,
    ...rest,
    density: rho,
    projector: onlyOn(coordinates({ mode }), targets),
  })
}
