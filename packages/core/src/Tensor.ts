import { CoreError } from './CoreError'
import type { DType, TypedArray } from './DType'
import type { Backend } from './Backend'
import type { Aval } from './Primitive'
import * as S from './Shape'
import type { Shape } from './Shape'
import type { Trace } from './Trace'

/** @internal the storage of a concrete tensor */
export interface Storage {
  readonly backend: Backend
  readonly handle: unknown
  released: boolean
}

/**
 * Nested JS arrays of numbers (or booleans) as returned by `toArray`.
 * @example
 * const data: NestedArray = [[1, 2], [3, 4]]
 * tensor(data).toArray() // [[1, 2], [3, 4]]
 */
export type NestedArray = number | boolean | NestedArray[]

/**
 * An immutable n-dimensional array: a `shape`, a `dtype`, and either data
 * owned by one backend (a concrete tensor) or, inside `jit`/`grad`/`jvp`, a
 * tracer that records what is done to it. No public operation mutates a tensor.
 * @example
 * const t = tensor([[1, 2], [3, 4]])
 * t.shape // [2, 2]; t.dtype // 'float32'; t.rank // 2; t.size // 4
 * t.toArray() // [[1, 2], [3, 4]]
 * sum(t).item() // 10
 */
export class Tensor implements Aval {
  /** @internal use `tensor()`, the ops, or a Trace's `lift` */
  constructor(
    readonly shape: Shape,
    readonly dtype: DType,
    /** @internal the trace this tensor is a tracer of, null when concrete */
    readonly trace: Trace | null,
    /** @internal Storage when concrete, the trace's own payload when a tracer */
    readonly payload: unknown,
  ) {}

  /** Number of elements. */
  get size(): number {
    return S.size(this.shape)
  }

  /** Number of axes. */
  get rank(): number {
    return this.shape.length
  }

  /** True once `dispose` or a `scope` released this tensor's memory. */
  get isDisposed(): boolean {
    return this.trace === null && (this.payload as Storage).released
  }

  /** The backend holding this tensor's data (a tracer answers with its concrete value's backend, if known). */
  get backend(): Backend {
    return storageOf(this, 'backend').backend
  }

  /** A copy of the data as a host typed array (Float32Array, Int32Array or Uint8Array for bool). */
  dataSync(): TypedArray {
    const st = storageOf(this, 'dataSync')
    return st.backend.readSync(st.handle, this)
  }

  /** As `dataSync`, without blocking where the backend can (GPU readback). */
  data(): Promise<TypedArray> {
    const st = storageOf(this, 'data')
    return st.backend.read(st.handle, this)
  }

  /** The data as nested JS arrays (booleans for bool tensors); a scalar gives a number. */
  toArray(): NestedArray {
    const d = this.dataSync()
    const conv = (i: number): number | boolean => (this.dtype === 'bool' ? d[i] !== 0 : d[i])
    const build = (axis: number, offset: number, str: number[]): NestedArray => {
      if (axis === this.shape.length) return conv(offset)
      const out: NestedArray[] = []
      for (let i = 0; i < this.shape[axis]; i++) out.push(build(axis + 1, offset + i * str[axis], str))
      return out
    }
    return build(0, 0, S.strides(this.shape))
  }

  /** The single element of a size-1 tensor as a number (1/0 for bool). */
  item(): number {
    if (this.size !== 1) throw new CoreError(`item: tensor ${S.show(this.shape)} has ${this.size} elements, expected 1`)
    return this.dataSync()[0]
  }

  toString(): string {
    const head = `Tensor(${this.dtype}${S.show(this.shape)}`
    if (this.trace !== null) return `${head}, traced by ${this.trace.kind})`
    if (this.isDisposed) return `${head}, disposed)`
    return this.size <= 64 ? `${head}, ${JSON.stringify(this.toArray())})` : `${head})`
  }
}

/** @internal the storage behind a tensor, reading through vjp/jvp tracers; throws for jit tracers and disposed tensors */
export const storageOf = (t: Tensor, what: string): Storage => {
  let x: Tensor = t
  while (x.trace !== null) {
    const c = x.trace.concrete(x)
    if (c === null)
      throw new CoreError(
        x.trace.active
          ? `${what}: cannot read the value of a tensor ${x.dtype}${S.show(x.shape)} traced by ${x.trace.kind}; its value is not known while tracing (move the read outside the jitted function)`
          : `${what}: a tensor ${x.dtype}${S.show(x.shape)} traced by ${x.trace.kind} escaped its trace, which has ended: it has no value (the traced function kept it outside, e.g. in a closure or a global; return it instead)`,
      )
    x = c
  }
  const st = x.payload as Storage
  if (st.released) throw new CoreError(`${what}: tensor ${x.dtype}${S.show(x.shape)} was disposed (by scope or dispose)`)
  return st
}
