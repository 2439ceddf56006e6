import { CoreError } from './CoreError'
import { concrete } from './Memory'
import { inferAval } from './Primitive'
import type { Primitive, PrimitiveParams } from './Primitive'
import type { Storage } from './Tensor'
import { Tensor, storageOf } from './Tensor'
import { escaped } from './Trace'
import type { Trace } from './Trace'

/**
 * Applies a primitive: checks shapes and dtypes (throwing a CoreError that
 * names the op and shapes), then hands it to the innermost active interpreter
 * among the inputs: a trace (vjp, jvp, jit) or eager evaluation on the inputs' backend.
 * @example bind('add', [x, y], {})
 */
export const bind = <P extends Primitive>(prim: P, inputs: readonly Tensor[], params: PrimitiveParams[P]): Tensor => {
  for (let i = 0; i < inputs.length; i++)
    if (!(inputs[i] instanceof Tensor)) throw new CoreError(`${prim}: input ${i} is not a Tensor (got ${describe(inputs[i])})`)
  const out = inferAval(prim, inputs, params)
  let top: Trace | null = null
  for (const x of inputs) if (x.trace !== null && (top === null || x.trace.level > top.level)) top = x.trace
  if (top === null) return evalEager(prim, inputs, params, out)
  if (!top.active) escaped(top, prim)
  const t = top
  return t.process(prim, inputs.map((x) => (x.trace === t ? x : t.lift(x))), params, out)
}

const describe = (x: unknown): string => (x === null ? 'null' : Array.isArray(x) ? 'an array' : typeof x)

const evalEager = <P extends Primitive>(
  prim: P,
  inputs: readonly Tensor[],
  params: PrimitiveParams[P],
  out: { shape: readonly number[]; dtype: Tensor['dtype'] },
): Tensor => {
  const sts: Storage[] = inputs.map((x) => storageOf(x, prim))
  const backend = sts[0].backend
  for (const st of sts)
    if (st.backend !== backend)
      throw new CoreError(
        `${prim}: inputs live on different backends (${backend.name} and ${st.backend.name}); move them with toBackend()`,
      )
  const kernel = backend.kernels[prim] as (h: readonly unknown[], a: readonly Tensor[], p: PrimitiveParams[P], o: typeof out) => unknown
  const handle = kernel(
    sts.map((s) => s.handle),
    inputs,
    params,
    out,
  )
  return concrete(backend, handle, out.shape, out.dtype)
}
