import type { Tensor as TensorT } from '@frugal-ts/core'
import { CoreError, Shape, Tensor, Tree, full, withTrace } from '@frugal-ts/core'
import type { Node } from './internal/VjpTrace'
import { VjpTrace } from './internal/VjpTrace'

const describe = (x: unknown): string =>
  x instanceof Tensor ? `${x.dtype}${Shape.show(x.shape)}` : Array.isArray(x) ? 'an array' : x === null ? 'null' : typeof x

/** Traces `f` on the primals, returning its outputs (primal values), an optional aux, and a pullback. */
const vjpCore = <R>(f: (...args: any[]) => unknown, primals: readonly unknown[], hasAux: boolean) =>
  withTrace(
    (level) => new VjpTrace(level),
    (trace) => {
      const inputNodes: Node[] = []
      const traced = primals.map((p) =>
        Tree.map(p, (leaf: unknown) => {
          if (!(leaf instanceof Tensor)) return leaf
          if (leaf.dtype !== 'float32') return leaf
          const t = trace.input(leaf)
          inputNodes.push(trace.node(t) as Node)
          return t
        }),
      )
      const result = f(...traced)
      let out: unknown = result
      let aux: unknown = undefined
      if (hasAux) {
        if (!Array.isArray(result) || result.length !== 2)
          throw new CoreError(`valueAndGrad(hasAux): the function must return [output, aux], got ${describe(result)}`)
        ;[out, aux] = result
        aux = Tree.map(aux, (l: unknown) => (l instanceof Tensor ? trace.primal(l) : l))
      }
      const [outLeaves, outDef] = Tree.flatten(out)
      const primalOut = Tree.unflatten(
        outDef,
        outLeaves.map((l) => (l instanceof Tensor ? trace.primal(l) : l)),
      ) as R
      const pullback = (ct: unknown): unknown[] => {
        const [ctLeaves, ctDef] = Tree.flatten(ct)
        if (!Tree.TreeDef.equals(ctDef, outDef))
          throw new CoreError(`vjp: cotangent structure ${Tree.TreeDef.show(ctDef)} differs from the output's ${Tree.TreeDef.show(outDef)}`)
        const seeds: [Node, TensorT][] = []
        outLeaves.forEach((l, i) => {
          if (!(l instanceof Tensor)) return
          const c = ctLeaves[i]
          if (!(c instanceof Tensor) || !Shape.equals(c.shape, l.shape) || c.dtype !== l.dtype)
            throw new CoreError(`vjp: cotangent ${i} is ${describe(c)}, expected ${l.dtype}${Shape.show(l.shape)} like the output`)
          const n = trace.node(l)
          if (n) seeds.push([n, c])
        })
        const cts = trace.backward(seeds, inputNodes)
        let k = 0
        return primals.map((p) =>
          Tree.map(p, (leaf: unknown) => {
            if (!(leaf instanceof Tensor)) return leaf
            if (leaf.dtype !== 'float32') return full(leaf.shape, 0, leaf.dtype)
            return cts[k++] ?? full(leaf.shape, 0, 'float32')
          }),
        )
      }
      return { out: primalOut, aux, pullback }
    },
  )

/**
 * Reverse mode: runs `f` on `primals` (pytrees of tensors) and returns its
 * output and a pullback mapping an output cotangent to one cotangent per primal.
 * @example
 * const [y, pullback] = vjp((x) => mul(x, x), tensor([1, 2]))
 * pullback(tensor([1, 1]))[0] // [2, 4]
 */
export const vjp = <A extends unknown[], R>(f: (...args: A) => R, ...primals: A): [R, (ct: R) => A] => {
  const { out, pullback } = vjpCore<R>(f as (...args: unknown[]) => unknown, primals, false)
  return [out, pullback as (ct: R) => A]
}

/**
 * Options of `grad` and `valueAndGrad`.
 * @example
 * grad((w: Tensor, x: Tensor) => sum(mul(w, x)), { argnums: [0, 1] })(tensor([1]), tensor([2])) // [[2], [1]]
 */
export interface GradOptions {
  /** which positional arguments to differentiate (default 0); an array gives a tuple of gradients */
  readonly argnums?: number | readonly number[]
  /** the function returns `[loss, aux]`; aux is returned alongside, not differentiated */
  readonly hasAux?: boolean
}

/**
 * The value of a scalar function and its gradient with respect to `argnums`.
 * Returns `[value, grads]`, or `[[value, aux], grads]` with `hasAux`.
 * @example
 * const [loss, g] = valueAndGrad((w) => sum(square(w)))(tensor([1, 2])) // 5, [2, 4]
 */
export const valueAndGrad =
  <A extends unknown[]>(f: (...args: A) => unknown, options: GradOptions = {}) =>
  (...args: A): [any, any] => {
    const { argnums = 0, hasAux = false } = options
    const nums = typeof argnums === 'number' ? [argnums] : [...argnums]
    for (const n of nums)
      if (!Number.isInteger(n) || n < 0 || n >= args.length)
        throw new CoreError(`grad: argnums ${n} is out of range for ${args.length} argument${args.length === 1 ? '' : 's'}`)
    for (const n of nums)
      for (const [p, x] of Tree.leavesWithPath(args[n] as Tree.Tree<unknown>))
        if (x instanceof Tensor && x.dtype !== 'float32')
          throw new CoreError(
            `grad: argument ${n} has ${x.dtype === 'int32' ? 'an' : 'a'} ${x.dtype}${x.shape.length ? `[${x.shape.join(', ')}]` : '[]'} tensor${p.length ? ` at ${Tree.pathString(p)}` : ''}; ` +
              'gradients are taken with respect to float32 inputs only (leave integer inputs out of argnums, or cast them)',
          )
    const g = (...diff: unknown[]) => {
      const full = [...args] as unknown[]
      nums.forEach((n, i) => (full[n] = diff[i]))
      return f(...(full as A))
    }
    const { out, aux, pullback } = vjpCore<unknown>(g, nums.map((n) => args[n]), hasAux)
    if (!(out instanceof Tensor) || out.rank !== 0 || out.dtype !== 'float32')
      throw new CoreError(
        `grad: the function must return a scalar float32 tensor, got ${describe(out)} (use vjp for non-scalar outputs${hasAux ? '' : ', or hasAux for [loss, aux]'})`,
      )
    const cts = pullback(full([], 1))
    const grads = typeof argnums === 'number' ? cts[0] : cts
    return [hasAux ? [out, aux] : out, grads]
  }

/**
 * The gradient of a scalar function with respect to `argnums` (default the first argument).
 * @example grad((x) => sum(mul(x, x)))(tensor([3])) // [6]
 */
export const grad =
  <A extends unknown[]>(f: (...args: A) => unknown, options: GradOptions = {}) =>
  (...args: A): any => {
    const [value, g] = valueAndGrad(f, options)(...args)
    return options.hasAux ? [g, value[1]] : g
  }
