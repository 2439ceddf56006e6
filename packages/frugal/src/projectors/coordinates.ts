import type { Shape as ShapeNS, Tensor } from '@frugal-ts/core'
import { Key, fromArray, reshape, scatterAdd, take } from '@frugal-ts/core'
import { FrugalError } from '../FrugalError'
import type { Projector, ProjectorContext } from './Projector'
import { flooredCount, unsupported } from './Projector'
import { checkOptions } from '../internal/options'

/**
 * Which coordinates are kept: `randk` ⌊ρ·size⌋ random entries of the leaf,
 * `rows` ⌊ρ·shape[0]⌋ random rows, `columns` ⌊ρ·shape[last]⌋ random columns.
 * ⌊·⌋ is Python's `int()` of the float product, as the authors'
 * `coordinate_projector.py` (`flooredCount`): ρ = 0.5 of 5 columns keeps 2, ρ = 0.29 of 100 keeps 28.
 * Note the layout: the authors' PyTorch weights are [out, in], so their
 * `columns` are input features; a weight used as x·W ([in, out]) has its input features on `rows`.
 * @example coordinates({ mode: 'columns' })
 * @see https://arxiv.org/abs/2411.07837 (FRUGAL)
 */
export type CoordinateMode = 'randk' | 'rows' | 'columns'

/**
 * Options of `coordinates`.
 * @example coordinates({ mode: 'rows' })
 * @see https://arxiv.org/abs/2411.07837 (FRUGAL)
 */
export interface CoordinatesOptions {
  /** default `randk` */
  readonly mode?: CoordinateMode
}

/**
 * The state of `coordinates` for one leaf: the kept entries (flat indices for
 * `randk`, row or column indices otherwise), int32, ascending. The stateful
 * optimizer's state has the shape of `down(g)`: `[k]`, `[k, n]` or `[m, k]`.
 * @example coordinates().init(w, standaloneContext(0.25))!.indices // int32[k]
 * @see https://arxiv.org/abs/2411.07837 (FRUGAL)
 */
export interface CoordinatesState {
  readonly indices: Tensor
}

const modes: readonly CoordinateMode[] = ['randk', 'rows', 'columns']

/**
 * Coordinate projection (RandK and its row/column variants): `down` gathers
 * the chosen entries, `up` scatters them back into zeros, and the residual is
 * exactly the gradient with those entries zeroed (the complement). The state
 * of the stateful optimizer is stored for the chosen coordinates only, never
 * as a full-size masked buffer. The choice is random (from the state's key),
 * so `init` makes it and each refresh makes a new one; gradients are not read.
 * @param options mode (default `randk`)
 * @returns a projector whose state is `CoordinatesState`
 * @throws FrugalError for an unknown mode, or (at use) a leaf of too low a rank
 * @see https://arxiv.org/abs/2411.07837 (FRUGAL §3, RandK and column projections)
 * @example
 * const p = coordinates({ mode: 'columns' })
 * const ps = p.init(w, standaloneContext(0.5))! // w: [4, 6] → 3 column indices
 * p.down(g, ps).shape // [4, 3]
 * p.init(w45, standaloneContext(0.5))!.indices.shape // w45: [4, 5] → [2] (Python's int(2.5) = 2)
 */
export const coordinates = (options: CoordinatesOptions = {}): Projector<CoordinatesState> => {
  checkOptions(options, ['mode'], 'coordinates')
  const { mode = 'randk' } = options
  if (!modes.includes(mode))
    throw new FrugalError(`mode must be one of ${modes.join(', ')}, got ${JSON.stringify(mode)} (at coordinates.mode)`)

  const axisOf = (shape: ShapeNS.Shape): number => (mode === 'rows' ? 0 : shape.length - 1)
  const dimOf = (shape: ShapeNS.Shape): number => (mode === 'randk' ? shape.reduce((a, b) => a * b, 1) : shape[axisOf(shape)])

  const validate = (shape: ShapeNS.Shape, path: readonly (string | number)[]) => {
    if (mode === 'rows' && shape.length < 1) unsupported('coordinates (rows)', path, shape, 'a leaf of rank ≥ 1')
    if (mode === 'columns' && shape.length < 2) unsupported('coordinates (columns)', path, shape, 'a leaf of rank ≥ 2')
  }

  const choose = (shape: ShapeNS.Shape, ctx: ProjectorContext): CoordinatesState | null => {
    validate(shape, ctx.path)
    const dim = dimOf(shape)
    const k = flooredCount(ctx.density, dim)
    if (k === 0) return null
    const perm = Key.permutation(ctx.leafKey, dim).dataSync()
    const chosen = Int32Array.from(perm.subarray(0, k)).sort()
    return { indices: fromArray(chosen, [k], 'int32') }
  }

  return {
    name: 'coordinates',
    validate,
    init: (param, ctx) => choose(param.shape, ctx),
    refresh: (grad, _previous, ctx) => choose(grad.shape, ctx),
    lowShape: (shape, ps) => {
      const k = ps.indices.shape[0]
      if (mode === 'randk') return [k]
      const axis = axisOf(shape)
      return shape.map((d, i) => (i === axis ? k : d))
    },
    down: (g, ps) => (mode === 'randk' ? take(reshape(g, [-1]), ps.indices, 0) : take(g, ps.indices, axisOf(g.shape))),
    up: (low, ps, shape) => {
      if (mode === 'randk') return reshape(scatterAdd(ps.indices, low, 0, dimOf(shape)), shape)
      const axis = axisOf(shape)
      return scatterAdd(ps.indices, low, axis, shape[axis])
    },
  }
}
