import { CoreError, Shape, Tensor, Tree, withTrace } from '@frugal-ts/core'
import { JvpTrace } from './internal/JvpTrace'

/**
 * Forward mode: the output of `f` at `primals` and its directional derivative
 * along `tangents` (same structure, shapes and dtypes as the primals).
 * @example
 * const [y, dy] = jvp((x) => mul(x, x), [tensor([3])], [tensor([1])]) // 9, 6
 */
export const jvp = <A extends unknown[], R>(f: (...args: A) => R, primals: A, tangents: A): [R, R] =>
  withTrace(
    (level) => new JvpTrace(level),
    (trace) => {
      if (primals.length !== tangents.length)
        throw new CoreError(`jvp: ${primals.length} primals but ${tangents.length} tangents`)
      const args = primals.map((p, i) =>
        Tree.zipWith([p, tangents[i]], (x: unknown, t: unknown, path) => {
          if (!(x instanceof Tensor)) return x
          if (!(t instanceof Tensor) || !Shape.equals(t.shape, x.shape) || t.dtype !== x.dtype)
            throw new CoreError(
              `jvp: tangent at argument ${i}${path.length ? ' ' + Tree.pathString(path) : ''} must be ${x.dtype}${Shape.show(x.shape)} like its primal`,
            )
          return trace.pair(x, t)
        }),
      ) as A
      const out = f(...args)
      const primal = Tree.map(out, (l: unknown) => (l instanceof Tensor ? trace.unpair(l).primal : l)) as R
      const tangent = Tree.map(out, (l: unknown) => (l instanceof Tensor ? trace.unpair(l).tangent : l)) as R
      return [primal, tangent]
    },
  )
