import { Tensor, Tree, byteSize } from '@frugal-ts/core'

/**
 * One tensor of an optimizer state and the bytes its data takes.
 * @example stateBytesEntries(state)[0] // { path: 'count', shape: [], dtype: 'int32', bytes: 4 }
 * @see https://arxiv.org/abs/2411.07837 (FRUGAL)
 */
export interface StateBytesEntry {
  /** the tensor's path in the state, dotted (`leaves.layers.0.wq.inner.mu`) */
  readonly path: string
  readonly shape: readonly number[]
  readonly dtype: Tensor['dtype']
  readonly bytes: number
}

const entries = (state: unknown): StateBytesEntry[] =>
  Tree.leavesWithPath(state as Tree.Tree<unknown>)
    .filter((e): e is [Tree.Path, Tensor] => e[1] instanceof Tensor)
    .map(([p, t]) => ({ path: Tree.pathString(p), shape: t.shape, dtype: t.dtype, bytes: t.size * byteSize[t.dtype] }))

/**
 * The bytes of tensor data an optimizer state holds (every tensor leaf: size
 * × bytes per element; other leaves count nothing). This is the memory FRUGAL
 * saves: with Adam as the stateful part a projectable leaf costs 2·(subspace
 * size) floats plus the projector (a basis for svd, indices for coordinates,
 * nothing for blocks), never a full-size masked buffer.
 * @param state any optimizer state (a pytree)
 * @returns the total in bytes
 * @see https://arxiv.org/abs/2411.07837 (FRUGAL, memory of the optimizer state)
 * @example stateBytes(adamw({ learningRate: 1e-3 }).init({ w: zeros([10, 10]) })) // 804: two 10×10 float32 moments and an int32 count
 */
export const stateBytes = (state: unknown): number => entries(state).reduce((s, e) => s + e.bytes, 0)

/**
 * Every tensor of an optimizer state with its path, shape, dtype and bytes, in canonical tree order.
 * @example stateBytesEntries(state).filter((e) => e.path.includes('wq'))
 * @see https://arxiv.org/abs/2411.07837 (FRUGAL)
 */
export const stateBytesEntries = (state: unknown): StateBytesEntry[] => entries(state)

/**
 * The bytes of an optimizer state per parameter: the state tensors whose path
 * contains a parameter's path (`leaves.layers.0.wq.…` for FRUGAL,
 * `0.mu.layers.0.wq` for a chain with Adam) are summed under it; tensors that
 * belong to no parameter (step counters, keys) are summed under `''`.
 * @param state any optimizer state
 * @param params the parameters the state was made for
 * @returns bytes by dotted parameter path
 * @see https://arxiv.org/abs/2411.07837 (FRUGAL, memory of the optimizer state)
 * @example stateBytesByParam(opt.init(params), params)['layers.0.wq'] // e.g. 0 for an inactive block
 */
export const stateBytesByParam = (state: unknown, params: Tree.Tree<Tensor>): Record<string, number> => {
  const names = Tree.paths(params).map((p) => p.map(String))
  const out: Record<string, number> = Object.fromEntries(names.map((n) => [n.join('.'), 0]))
  out[''] = 0
  // longest parameter paths first, so `w` does not claim the state of `w.x`
  const byLength = [...names].sort((a, b) => b.length - a.length)
  for (const [p, t] of Tree.leavesWithPath(state as Tree.Tree<unknown>)) {
    if (!(t instanceof Tensor)) continue
    const sp = p.map(String)
    const owner = byLength.find((n) => containsRun(sp, n))
    out[owner ? owner.join('.') : ''] += t.size * byteSize[t.dtype]
  }
  return out
}

/** True when `needle` (non-empty) occurs as consecutive segments of `hay`. */
const containsRun = (hay: readonly string[], needle: readonly string[]): boolean => {
  if (needle.length === 0) return false
  for (let i = 0; i + needle.length <= hay.length; i++) if (needle.every((s, j) => hay[i + j] === s)) return true
  return false
}
