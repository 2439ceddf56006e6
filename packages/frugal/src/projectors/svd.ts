import type { Shape as ShapeNS, Tensor } from '@frugal-ts/core'
import { Key, fromArray, matmul, matrixTranspose, qrHost, svdHost } from '@frugal-ts/core'
import { FrugalError } from '../FrugalError'
import type { Projector, ProjectorContext } from './Projector'
import { roundedCount, unsupported } from './Projector'
import { checkOptions } from '../internal/options'

/**
 * Which side of an m×n gradient is projected: `left` keeps Pᵀg (r = round(ρ·m)
 * rows), `right` keeps gQ (r = round(ρ·n) columns), `full` both with
 * r = round(ρ·min(m, n)) on each side; `std` is GaLore's default (right when
 * m ≥ n, else left), `reverse_std` the opposite. `round` is Python's (halves
 * to even, as the authors' `galore_projector.py`): ρ = 0.5 of a 5-wide side is rank 2.
 * @example svdProjector({ side: 'full' })
 * @see https://arxiv.org/abs/2411.07837 (FRUGAL)
 */
export type SvdSide = 'std' | 'reverse_std' | 'left' | 'right' | 'full'

/**
 * How the basis is chosen at each refresh: `svd` the top-r singular vectors of
 * the gradient (GaLore), `random` an orthonormal basis from the QR of a
 * Gaussian matrix, `randperm` r random coordinate directions.
 * @example svdProjector({ type: 'random' })
 * @see https://arxiv.org/abs/2411.07837 (FRUGAL)
 */
export type SvdType = 'svd' | 'random' | 'randperm'

/**
 * Options of `svdProjector`.
 * @example svdProjector({ side: 'std', type: 'svd' })
 * @see https://arxiv.org/abs/2411.07837 (FRUGAL)
 */
export interface SvdProjectorOptions {
  /** default `std` */
  readonly side?: SvdSide
  /** default `svd` */
  readonly type?: SvdType
}

/**
 * The state of `svdProjector` for one leaf: orthonormal bases (columns) of the
 * kept subspaces, `left` m×r and/or `right` n×r.
 * @example svdProjector().refresh(g, null, ctx)!.right // n×r basis
 * @see https://arxiv.org/abs/2411.07837 (FRUGAL)
 */
export interface SvdProjectorState {
  readonly left: Tensor | null
  readonly right: Tensor | null
}

const sides: readonly SvdSide[] = ['std', 'reverse_std', 'left', 'right', 'full']
const types: readonly SvdType[] = ['svd', 'random', 'randperm']

/** Which bases an m×n leaf gets for a side. */
const resolveSide = (side: SvdSide, m: number, n: number): { left: boolean; right: boolean } => {
  switch (side) {
    case 'std':
      return m >= n ? { left: false, right: true } : { left: true, right: false }
    case 'reverse_std':
      return m >= n ? { left: true, right: false } : { left: false, right: true }
    case 'left':
      return { left: true, right: false }
    case 'right':
      return { left: false, right: true }
    case 'full':
      return { left: true, right: true }
  }
}

/** Columns [0, r) of a row-major rows×cols host matrix, as a float32 rows×r tensor. */
const leadingColumns = (a: ArrayLike<number>, rows: number, cols: number, r: number): Tensor => {
  const out = new Float32Array(rows * r)
  for (let i = 0; i < rows; i++) for (let j = 0; j < r; j++) out[i * r + j] = a[i * cols + j]
  return fromArray(out, [rows, r])
}

/** Rows [0, r) of a row-major r'×cols host matrix, transposed: a cols×r tensor. */
const leadingRowsTransposed = (a: ArrayLike<number>, cols: number, r: number): Tensor => {
  const out = new Float32Array(cols * r)
  for (let i = 0; i < r; i++) for (let j = 0; j < cols; j++) out[j * r + i] = a[i * cols + j]
  return fromArray(out, [cols, r])
}

/** An orthonormal dim×r basis that does not depend on a gradient. */
const randomBasis = (type: SvdType, dim: number, r: number, key: Key.Key): Tensor => {
  if (type === 'randperm') {
    const idx = Key.permutation(key, dim).dataSync()
    const out = new Float32Array(dim * r)
    for (let j = 0; j < r; j++) out[idx[j] * r + j] = 1
    return fromArray(out, [dim, r])
  }
  const gauss = Key.normal(key, [dim, r]).dataSync()
  const { q } = qrHost(Float64Array.from(gauss), dim, r)
  return leadingColumns(q, dim, r, r)
}

/**
 * Low-rank projection of 2-D leaves (GaLore's projector and its random
 * variants): `down(g)` = Pᵀg, gQ or PᵀgQ; `up` maps back with P·, ·Qᵀ. The
 * bases are orthonormal, so `down∘up` is the identity and the residual
 * `g − up(down(g))` is orthogonal to the subspace. With `type: 'svd'` the
 * refresh computes the top singular vectors of the gradient on the host
 * (Golub–Kahan in float64); `init` uses a random basis of the same size.
 * @param options side (default `std`) and type (default `svd`)
 * @returns a projector whose state is `SvdProjectorState`
 * @throws FrugalError for an unknown side or type, or (at use) a leaf that is not 2-D
 * @see https://arxiv.org/abs/2411.07837 (FRUGAL §3, SVD projection); GaLore, arXiv 2403.03507
 * @example
 * const p = svdProjector({ side: 'std' })
 * const ps = p.refresh(g, null, standaloneContext(0.25))! // g: [8, 4] → right basis [4, 1]
 * p.down(g, ps).shape // [8, 1]
 * p.refresh(g85, null, standaloneContext(0.5))!.right!.shape // g85: [8, 5] → [5, 2] (Python's round(2.5) = 2)
 */
export const svdProjector = (options: SvdProjectorOptions = {}): Projector<SvdProjectorState> => {
  checkOptions(options, ['side', 'type'], 'svdProjector')
  const { side = 'std', type = 'svd' } = options
  if (!sides.includes(side))
    throw new FrugalError(`side must be one of ${sides.join(', ')}, got ${JSON.stringify(side)} (at svdProjector.side)`)
  if (!types.includes(type))
    throw new FrugalError(`type must be one of ${types.join(', ')}, got ${JSON.stringify(type)} (at svdProjector.type)`)

  const ranks = (shape: ShapeNS.Shape, density: number) => {
    const [m, n] = shape
    const s = resolveSide(side, m, n)
    if (s.left && s.right) {
      const r = roundedCount(density, Math.min(m, n))
      return { left: r, right: r }
    }
    return { left: s.left ? roundedCount(density, m) : null, right: s.right ? roundedCount(density, n) : null }
  }
  const empty = (r: { left: number | null; right: number | null }) => r.left === 0 || r.right === 0

  const choose = (shape: ShapeNS.Shape, ctx: ProjectorContext, grad: Tensor | null): SvdProjectorState | null => {
    const [m, n] = shape
    const r = ranks(shape, ctx.density)
    if (empty(r)) return null
    if (grad === null || type !== 'svd') {
      const [kl, kr] = Key.splitKeys(ctx.leafKey, 2)
      return {
        left: r.left === null ? null : randomBasis(type === 'svd' ? 'random' : type, m, r.left, kl),
        right: r.right === null ? null : randomBasis(type === 'svd' ? 'random' : type, n, r.right, kr),
      }
    }
    const { u, vt } = svdHost(Float64Array.from(grad.dataSync()), m, n)
    const k = Math.min(m, n)
    return {
      left: r.left === null ? null : leadingColumns(u, m, k, Math.min(r.left, k)),
      right: r.right === null ? null : leadingRowsTransposed(vt, n, Math.min(r.right, k)),
    }
  }

  const validate = (shape: ShapeNS.Shape, path: readonly (string | number)[]) => {
    if (shape.length !== 2) unsupported('svd', path, shape, 'a 2-D leaf')
  }

  return {
    name: 'svd',
    validate,
    init: (param, ctx) => (validate(param.shape, ctx.path), choose(param.shape, ctx, null)),
    refresh: (grad, _previous, ctx) => (validate(grad.shape, ctx.path), choose(grad.shape, ctx, grad)),
    lowShape: (shape, ps) => [ps.left ? ps.left.shape[1] : shape[0], ps.right ? ps.right.shape[1] : shape[1]],
    down: (g, ps) => {
      const l = ps.left ? matmul(matrixTranspose(ps.left), g) : g
      return ps.right ? matmul(l, ps.right) : l
    },
    up: (low, ps) => {
      const l = ps.left ? matmul(ps.left, low) : low
      return ps.right ? matmul(l, matrixTranspose(ps.right)) : l
    },
  }
}
