import { CoreError } from './CoreError'

/** A tensor shape: one non-negative integer per axis; `[]` is a scalar. @example const s: Shape.Shape = tensor([[1, 2, 3]]).shape // [1, 3] */
export type Shape = readonly number[]

/** Number of elements of a shape. @example size([2, 3]) // 6 */
export const size = (shape: Shape): number => {
  let n = 1
  for (const d of shape) n *= d
  return n
}

/** Row-major strides of a shape. @example strides([2, 3, 4]) // [12, 4, 1] */
export const strides = (shape: Shape): number[] => {
  const s = new Array<number>(shape.length)
  let acc = 1
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc
    acc *= shape[i]
  }
  return s
}

/** Structural equality of shapes. @example Shape.equals([2, 3], [2, 3]) // true */
export const equals = (a: Shape, b: Shape): boolean => a.length === b.length && a.every((d, i) => d === b[i])

/** `[2,3]` printed as in error messages. @example Shape.show([2, 3]) // '[2,3]' */
export const show = (shape: Shape): string => `[${shape.join(',')}]`

/**
 * The numpy broadcast of several shapes (right-aligned; a dimension of 1 stretches).
 * @param op the operation asking, named in the error
 * @throws CoreError naming the op and every shape when they do not broadcast
 * @example broadcastShapes('add', [3, 1], [4]) // [3, 4]
 */
export const broadcastShapes = (op: string, ...shapes: Shape[]): number[] => {
  const rank = Math.max(...shapes.map((s) => s.length))
  const out = new Array<number>(rank).fill(1)
  for (const s of shapes) {
    for (let i = 0; i < s.length; i++) {
      const j = rank - s.length + i
      const d = s[i]
      if (out[j] === 1) out[j] = d
      else if (d !== 1 && d !== out[j])
        throw new CoreError(
          `${op}: ${shapes.map(show).join(' and ')}: dimension ${j} (${out[j]} vs ${d}) does not broadcast`,
        )
    }
  }
  return out
}

/**
 * Normalises an axis that may be negative (`-1` is the last axis).
 * @throws CoreError naming the op when the axis is out of range
 * @example Shape.normAxis('sum', -1, 3) // 2
 */
export const normAxis = (op: string, axis: number, rank: number): number => {
  if (!Number.isInteger(axis) || axis < -rank || axis >= Math.max(rank, 1) || (rank === 0 && axis !== 0 && axis !== -1))
    throw new CoreError(`${op}: axis ${axis} is out of range for rank ${rank}`)
  return axis < 0 ? axis + rank : axis
}

/**
 * True when `x` is a valid shape (array of non-negative integers).
 * @example
 * Shape.isShape([2, 3]) // true
 * Shape.isShape([2.5]) // false
 */
export const isShape = (x: unknown): x is Shape =>
  Array.isArray(x) && x.every((d) => Number.isInteger(d) && d >= 0)
