import { Tensor, Tree } from '@frugal-ts/core'
import { JvpTrace } from './internal/JvpTrace'
import { VjpTrace } from './internal/VjpTrace'

/**
 * The same values, with no derivative flowing through them (at every
 * differentiation level). Works on a tensor or a pytree of tensors.
 * @example grad((x) => mul(stopGradient(x), x))(tensor([3])) // [3], not [6]
 */
export const stopGradient = <T>(x: T): T =>
  Tree.map(x, (leaf: unknown) => {
    if (!(leaf instanceof Tensor)) return leaf
    let y: Tensor = leaf
    while (y.trace instanceof VjpTrace || y.trace instanceof JvpTrace) y = y.trace.concrete(y)
    return y
  }) as T
