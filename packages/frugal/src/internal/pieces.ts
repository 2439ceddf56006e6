/**
 * Compiled pieces: per-leaf functions of an optimizer's update (FRUGAL's
 * update of one leaf in its current role) that `trainStep` compiles, each once
 * per signature (leaf shape and role), so that choosing a new subspace never
 * makes a new compiled program. Outside `withPieceCompiler` a piece is the
 * plain function, so `update` called by hand is exactly what it was.
 * @internal
 */

/** Turns a function into a compiled one with its own signature cache (`jit`). */
export type PieceCompiler = <A extends unknown[], R>(f: (...args: A) => R) => (...args: A) => R

let current: PieceCompiler | null = null

/**
 * A function that runs compiled (by the innermost `withPieceCompiler`'s
 * compiler, once per compiler) or, outside one, as itself.
 * @example const leaf = piece((g: Tensor, m: Tensor) => add(mul(m, 0.9), g)); leaf(g, m)
 */
export const piece = <A extends unknown[], R>(f: (...args: A) => R): ((...args: A) => R) => {
  const compiled = new WeakMap<PieceCompiler, (...args: A) => R>()
  return (...args: A): R => {
    if (current === null) return f(...args)
    let c = compiled.get(current)
    if (c === undefined) compiled.set(current, (c = current(f)))
    return c(...args)
  }
}

/**
 * Whether pieces run compiled now (inside `withPieceCompiler`): an update may
 * then group its work by signature rather than by role.
 * @example if (piecesCompiled()) { ... } // one call for what every step shares
 */
export const piecesCompiled = (): boolean => current !== null

/**
 * Runs `fn` with pieces compiled by `compiler`.
 * @example withPieceCompiler((f) => jit(f), () => opt.update(grads, state, params))
 */
export const withPieceCompiler = <R>(compiler: PieceCompiler, fn: () => R): R => {
  const outer = current
  current = compiler
  try {
    return fn()
  } finally {
    current = outer
  }
}
