import type { Shape as ShapeNS, Tensor } from '@frugal-ts/core'
import { Key, Tree, sub } from '@frugal-ts/core'
import { FrugalError } from '../FrugalError'

/**
 * What a projector knows when it (re)chooses a leaf's subspace: the density,
 * where the leaf sits among the projectable leaves, and keys derived from the
 * optimizer state's PRNG key, so every choice is a pure function of the state.
 * @example svdProjector().refresh(g, null, standaloneContext(0.25))
 * @see https://arxiv.org/abs/2411.07837 (FRUGAL)
 */
export interface ProjectorContext {
  /** ρ ∈ [0, 1]: the fraction of the leaf (or, for blocks, of the leaves) kept in the subspace */
  readonly density: number
  /** the leaf's path in the parameter tree */
  readonly path: Tree.Path
  /** the leaf's position among the projectable leaves (canonical tree order) */
  readonly index: number
  /** how many projectable leaves there are */
  readonly total: number
  /** how many refreshes happened before this one (0 at `init` and at the first refresh) */
  readonly period: number
  /** the key of this refresh, shared by every leaf (block selection) */
  readonly periodKey: Key.Key
  /** the key of this refresh and this leaf */
  readonly leafKey: Key.Key
}

/**
 * A subspace chooser for one parameter leaf, as a value: its state (a basis,
 * indices, or nothing) lives in the optimizer state, so the optimizer stays
 * pure and replayable. `null` in place of a state means an empty subspace:
 * the whole gradient goes to the state-free part (density 0, an inactive block).
 *
 * Laws (checked by the tests): `down(up(x)) = x` for `x` of `lowShape`;
 * `g − up(down(g))` is orthogonal to the subspace (svd) or its complement
 * (coordinates, blocks).
 * @typeParam PS the projector's per-leaf state (a pytree of tensors, stored in the optimizer state)
 * @see https://arxiv.org/abs/2411.07837 (FRUGAL, §3: state-full subspace and state-free residual)
 * @example
 * const p = coordinates({ mode: 'rows' })
 * const ps = p.init(w, ctx)! // 25% of w's rows, chosen by ctx.leafKey
 * const low = p.down(g, ps)  // [k, n]
 * const back = p.up(low, ps, g.shape)
 */
export interface Projector<PS = unknown> {
  /** a short name for messages (`svd`, `coordinates`, `blocks`) */
  readonly name: string
  /** throws a FrugalError when the projector cannot handle a leaf of this shape */
  validate(shape: ShapeNS.Shape, path: Tree.Path): void
  /** the subspace before any gradient is seen (random or placeholder), with the right sizes */
  init(param: Tensor, ctx: ProjectorContext): PS | null
  /** a new subspace chosen on the host from the current gradient (concrete tensors only) */
  refresh(grad: Tensor, previous: PS | null, ctx: ProjectorContext): PS | null
  /** the shape of `down(g)` for a leaf of `shape` */
  lowShape(shape: ShapeNS.Shape, ps: PS): ShapeNS.Shape
  /** the coordinates of `g` in the subspace */
  down(g: Tensor, ps: PS): Tensor
  /** a low-dimensional tensor mapped back to the leaf's `shape` */
  up(low: Tensor, ps: PS, shape: ShapeNS.Shape): Tensor
  /**
   * `g − up(down(g))`, given `low = down(g)`; `null` when it is always zero
   * (an active block). Defaults to the subtraction.
   */
  residual?(g: Tensor, low: Tensor, ps: PS): Tensor | null
}

/**
 * The residual `g − up(down(g))` of a projector, from `low = down(g)`; null when it is zero by construction.
 * @example const r = residualOf(p, g, p.down(g, ps), ps)
 * @see https://arxiv.org/abs/2411.07837 (FRUGAL)
 */
export const residualOf = <PS>(p: Projector<PS>, g: Tensor, low: Tensor, ps: PS): Tensor | null =>
  p.residual ? p.residual(g, low, ps) : sub(g, p.up(low, ps, g.shape))

/**
 * A context for using a projector on its own (outside the FRUGAL combinator):
 * one leaf, period 0, keys derived from `seed`.
 * @example const ps = svdProjector().refresh(g, null, standaloneContext(0.25))
 * @see https://arxiv.org/abs/2411.07837 (FRUGAL)
 */
export const standaloneContext = (density: number, seed = 0, overrides: Partial<ProjectorContext> = {}): ProjectorContext => {
  const base = Key.key(seed)
  return {
    density,
    path: [],
    index: 0,
    total: 1,
    period: 0,
    periodKey: Key.foldIn(base, 0),
    leafKey: Key.foldIn(Key.foldIn(base, 0), 0),
    ...overrides,
  }
}

/**
 * @internal Throws the FrugalError every projector uses for a leaf it cannot handle.
 * @example unsupported('svd', ['b'], [5], 'a 2-D leaf')
 */
export const unsupported = (name: string, path: Tree.Path, shape: ShapeNS.Shape, expected: string): never => {
  throw new FrugalError(
    `the ${name} projector needs ${expected}, got shape [${shape.join(', ')}] (at ${Tree.pathString(path) || '<root>'}); ` +
      `mark the leaf non-projectable with the projectable option`,
  )
}

/**
 * Python's `round` of a float: the nearest integer, halves to the even one
 * (`round(2.5) = 2`, `round(3.5) = 4`, `round(-0.5) = 0`), exact for every
 * double (`x − ⌊x⌋` is computed without rounding error).
 * @example roundHalfEven(2.5) // 2
 * @example roundHalfEven(3.5) // 4
 * @see https://docs.python.org/3/library/functions.html#round
 */
export const roundHalfEven = (x: number): number => {
  if (!Number.isFinite(x)) return x
  const f = Math.floor(x)
  const d = x - f
  return d > 0.5 || (d === 0.5 && f % 2 !== 0) ? f + 1 : f
}

/**
 * Python's `round(n · ρ)` (halves to even), clamped to [0, n]: the size rule of
 * the authors' svd rank (`round(grad_shape[1] * density)`) and of the number of
 * active blocks (`round(len(params) * density)`). ρ = 0.25 of 10 leaves is
 * round(2.5) = 2 blocks; ρ = 0.5 of a 5-wide side is rank round(2.5) = 2.
 * @example roundedCount(0.25, 10) // 2
 * @example roundedCount(0.25, 14) // 4 (round(3.5))
 * @see https://arxiv.org/abs/2411.07837 (FRUGAL; the authors' galore_projector.py and proj_optimizer_templates.py)
 */
export const roundedCount = (density: number, n: number): number => Math.min(n, Math.max(0, roundHalfEven(n * density)))

/**
 * Python's `int(n · ρ)` (truncation of the float product), clamped to [0, n]:
 * the size rule of the authors' RandK, rows and columns
 * (`randperm(total_length)[:int(total_length * density)]`). The float product
 * is taken as it is, as Python does: 0.29 · 100 = 28.999999999999996 keeps 28.
 * @example flooredCount(0.25, 10) // 2
 * @example flooredCount(0.29, 100) // 28
 * @see https://arxiv.org/abs/2411.07837 (FRUGAL; the authors' coordinate_projector.py)
 */
export const flooredCount = (density: number, n: number): number => Math.min(n, Math.max(0, Math.floor(n * density)))
