/**
 * FRUGAL by hand: the reference the bench's FRUGAL rows are checked against.
 * Plain Float64Array loops, no library code: for each checked leaf, the
 * subspace the library chose (read from its state by `subspaceOf`), Adam with
 * bias correction on the subspace (its own step counter, from 1: the refresh
 * before step 1 resets it) and signSGD, `lr × stateFreeScale × sign`, on the
 * residual, as DESIGN.md §4 "FRUGAL, normative semantics" states:
 *
 * - `full` (an active block): Adam on the whole gradient;
 * - `none` (an inactive block, ρ = 0): only `−lr·sfs·sign(g)`;
 * - `coords` (randk): Adam on the chosen flat coordinates, the sign step on the others;
 * - `left` / `right` (svd): `low = Bᵀg` (or `gB`), Adam on `low`,
 *   `B·adam(low)` back (or `adam(low)·Bᵀ`), and the sign step on the residual `g − B·low`.
 *
 * Where the float64 residual is within `TIE` of zero its sign is not
 * determined by float32 arithmetic (the library's matmuls round differently),
 * so that coordinate's `slack` grows by the most a different sign can move it
 * (2·lr·sfs per step); the check subtracts the slack before comparing.
 */

/** The subspace of one leaf, as the library chose it. */
export type Subspace =
  | { readonly kind: 'full' }
  | { readonly kind: 'none' }
  | { readonly kind: 'coords'; readonly indices: Int32Array }
  /** an m×r (left) or n×r (right) orthonormal basis, row-major */
  | { readonly kind: 'left' | 'right'; readonly basis: Float32Array; readonly r: number }

/** What the reference needs: the hyperparameters, the start, the gradient sets (alternating step by step), and the checked leaves. */
export interface FrugalRefSpec {
  readonly rows: number
  readonly cols: number
  readonly lr: number
  readonly b1: number
  readonly b2: number
  readonly eps: number
  /** multiplies the sign step (FRUGAL's default 1) */
  readonly stateFreeScale?: number
  /** steps from the initial parameters */
  readonly steps: number
  /** initial parameters of every leaf */
  readonly params: readonly Float32Array[]
  /** gradient sets; step t (from 1) uses set (t − 1) mod count */
  readonly gradSets: readonly (readonly Float32Array[])[]
  /** the leaves to compute (indices into `params`), with their subspaces */
  readonly leaves: readonly { readonly index: number; readonly subspace: Subspace }[]
}

/** The reference's result: the checked leaves after `steps`, concatenated in `leaves` order, and each coordinate's slack. */
export interface FrugalRef {
  readonly output: Float32Array
  readonly slack: Float32Array
  /** coordinate-steps whose residual sign was a tie (|r| < TIE) */
  readonly ties: number
}

/** |residual| below which float32 arithmetic does not determine its sign */
export const TIE = 1e-7

/** One Adam step on `g` (in place on m, v), its direction m̂/(√v̂ + ε) into `out`. */
const adamDir = (g: Float64Array, m: Float64Array, v: Float64Array, t: number, s: FrugalRefSpec, out: Float64Array): void => {
  const c1 = 1 - s.b1 ** t
  const c2 = 1 - s.b2 ** t
  for (let i = 0; i < g.length; i++) {
    m[i] = s.b1 * m[i] + (1 - s.b1) * g[i]
    v[i] = s.b2 * v[i] + (1 - s.b2) * g[i] * g[i]
    out[i] = m[i] / c1 / (Math.sqrt(v[i] / c2) + s.eps)
  }
}

/** b (m×r) times x (r×n) into out (m×n), row-major. */
const mulBx = (b: Float64Array, x: Float64Array, m: number, r: number, n: number, out: Float64Array): void => {
  out.fill(0)
  for (let i = 0; i < m; i++)
    for (let a = 0; a < r; a++) {
      const w = b[i * r + a]
      const xo = a * n
      const oo = i * n
      for (let j = 0; j < n; j++) out[oo + j] += w * x[xo + j]
    }
}

/** bᵀ (r×m) times g (m×n) into out (r×n). */
const mulBtG = (b: Float64Array, g: Float64Array, m: number, r: number, n: number, out: Float64Array): void => {
  out.fill(0)
  for (let i = 0; i < m; i++)
    for (let a = 0; a < r; a++) {
      const w = b[i * r + a]
      const go = i * n
      const oo = a * n
      for (let j = 0; j < n; j++) out[oo + j] += w * g[go + j]
    }
}

const transpose = (x: ArrayLike<number>, rows: number, cols: number): Float64Array => {
  const out = new Float64Array(rows * cols)
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) out[j * rows + i] = x[i * cols + j]
  return out
}

/** One leaf through `steps` steps: its parameters and slack, in the leaf's own layout. */
const leafRef = (s: FrugalRefSpec, index: number, sub: Subspace): { p: Float64Array; slack: Float64Array; ties: number } => {
  const [m, n] = [s.rows, s.cols]
  const size = m * n
  const p = Float64Array.from(s.params[index])
  const slack = new Float64Array(size)
  const free = s.lr * (s.stateFreeScale ?? 1)
  let ties = 0
  // the subspace's size, and the moments over it
  const lowSize = sub.kind === 'full' ? size : sub.kind === 'none' ? 0 : sub.kind === 'coords' ? sub.indices.length : sub.r * (sub.kind === 'left' ? n : m)
  const mom = new Float64Array(lowSize)
  const vel = new Float64Array(lowSize)
  const low = new Float64Array(lowSize)
  const dir = new Float64Array(lowSize)
  // svd: work in the left layout (a right basis projects gᵀ from the left)
  const [lm, ln] = sub.kind === 'right' ? [n, m] : [m, n]
  const basis = sub.kind === 'left' || sub.kind === 'right' ? Float64Array.from(sub.basis) : null
  const back = basis ? new Float64Array(size) : null
  const proj = basis ? new Float64Array(size) : null
  for (let t = 1; t <= s.steps; t++) {
    const g32 = s.gradSets[(t - 1) % s.gradSets.length][index]
    if (sub.kind === 'full') {
      adamDir(Float64Array.from(g32), mom, vel, t, s, dir)
      for (let i = 0; i < size; i++) p[i] -= s.lr * dir[i]
    } else if (sub.kind === 'none') {
      for (let i = 0; i < size; i++) p[i] -= free * Math.sign(g32[i])
    } else if (sub.kind === 'coords') {
      const chosen = new Uint8Array(size)
      sub.indices.forEach((k, a) => ((chosen[k] = 1), (low[a] = g32[k])))
      adamDir(low, mom, vel, t, s, dir)
      sub.indices.forEach((k, a) => (p[k] -= s.lr * dir[a]))
      for (let i = 0; i < size; i++) if (!chosen[i]) p[i] -= free * Math.sign(g32[i])
    } else {
      const g = sub.kind === 'right' ? transpose(g32, m, n) : Float64Array.from(g32)
      mulBtG(basis!, g, lm, sub.r, ln, low)
      mulBx(basis!, low, lm, sub.r, ln, proj!)
      adamDir(low, mom, vel, t, s, dir)
      mulBx(basis!, dir, lm, sub.r, ln, back!)
      // back to the leaf's layout: element (i, j) of the leaf is (i, j) of the left layout, or (j, i) of the transposed one
      for (let i = 0; i < m; i++)
        for (let j = 0; j < n; j++) {
          const k = sub.kind === 'right' ? j * m + i : i * n + j
          const res = g[k] - proj![k]
          p[i * n + j] -= s.lr * back![k] + free * Math.sign(res)
          if (Math.abs(res) < TIE) (slack[i * n + j] += 2 * free), ties++
        }
    }
  }
  return { p, slack, ties }
}

/**
 * The checked leaves after `spec.steps` steps of FRUGAL, computed by hand.
 * @example const ref = frugalReference({ rows: 2, cols: 2, lr: 1e-3, b1: 0.9, b2: 0.999, eps: 1e-8, steps: 2, params, gradSets, leaves: [{ index: 0, subspace: { kind: 'none' } }] })
 */
export const frugalReference = (spec: FrugalRefSpec): FrugalRef => {
  const size = spec.rows * spec.cols
  const output = new Float32Array(size * spec.leaves.length)
  const slack = new Float32Array(size * spec.leaves.length)
  let ties = 0
  spec.leaves.forEach(({ index, subspace }, k) => {
    const r = leafRef(spec, index, subspace)
    output.set(r.p, k * size)
    slack.set(r.slack, k * size)
    ties += r.ties
  })
  return { output, slack, ties }
}

/** What `subspaceOf` reads of a tensor. */
interface HostTensor {
  readonly shape: readonly number[]
  dataSync(): ArrayLike<number>
}

/**
 * The subspace of a projected leaf state of the library (`{ projector, inner }`):
 * `null` projector: none; blocks' active marker `{}`: full; `{ indices }`:
 * coords; `{ left, right }` (one of them set): left or right. Reads, never changes, the state.
 * @example subspaceOf((state.leaves as any).layers[0].mlp.w1)
 */
export const subspaceOf = (leafState: unknown): Subspace => {
  const ps = (leafState as { projector?: unknown }).projector
  if (ps === undefined) throw new Error('subspaceOf: not a projected leaf state (no projector field)')
  if (ps === null) return { kind: 'none' }
  const o = ps as { indices?: HostTensor; left?: HostTensor | null; right?: HostTensor | null }
  if (o.indices) return { kind: 'coords', indices: Int32Array.from(o.indices.dataSync()) }
  if (o.left && o.right) throw new Error('subspaceOf: a two-sided svd basis is not handled by the reference')
  const b = o.left ?? o.right
  if (b) return { kind: o.left ? 'left' : 'right', basis: Float32Array.from(b.dataSync()), r: b.shape[1] }
  if (Object.keys(o).length === 0) return { kind: 'full' }
  throw new Error(`subspaceOf: unknown projector state with keys ${Object.keys(o).join(', ')}`)
}
