import { Shape, Tensor, add, broadcastTo, reshape, sum } from '@frugal-ts/core'

/**
 * Sums a cotangent of a broadcast result back to the operand's shape:
 * over the leading axes broadcasting added and the axes it stretched from 1.
 */
export const unbroadcast = (ct: Tensor, shape: Shape.Shape): Tensor => {
  if (Shape.equals(ct.shape, shape)) return ct
  const lead = ct.rank - shape.length
  const axes: number[] = []
  for (let i = 0; i < ct.rank; i++) if (i < lead || (shape[i - lead] === 1 && ct.shape[i] !== 1)) axes.push(i)
  return reshape(axes.length ? sum(ct, axes) : ct, shape)
}

/** Broadcasts a reduction's cotangent back over the reduced axes. */
export const unreduce = (ct: Tensor, shape: Shape.Shape, axes: readonly number[]): Tensor =>
  broadcastTo(
    reshape(
      ct,
      shape.map((d, i) => (axes.includes(i) ? 1 : d)),
    ),
    shape,
  )

/** Adds two cotangents where either may be missing (null means zero). */
export const addCt = (a: Tensor | null, b: Tensor | null): Tensor | null => (a === null ? b : b === null ? a : add(a, b))

/** The inverse of a permutation. */
export const invertPerm = (perm: readonly number[]): number[] => {
  const inv = new Array<number>(perm.length)
  perm.forEach((p, i) => (inv[p] = i))
  return inv
}
