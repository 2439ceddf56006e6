/**
 * A tiny WebAssembly binary emitter: LEB128, the sections a kernel module
 * needs (types, an imported memory, functions, exports, code), and `Code`, an
 * instruction stream with the core and SIMD opcodes the cpu backend's kernels
 * use, plus structured helpers (`block`, `loop`, `forUp`) so generators read
 * like the loops they emit.
 * @internal
 */

/** The value types of a function signature or local. */
export type ValType = 'i32' | 'i64' | 'f32' | 'f64' | 'v128'

const valCode: Readonly<Record<ValType, number>> = { i32: 0x7f, i64: 0x7e, f32: 0x7d, f64: 0x7c, v128: 0x7b }

/** Appends `n` (0 ≤ n < 2³²) as unsigned LEB128. @example uleb(624485, out) // e5 8e 26 */
export const uleb = (n: number, out: number[]): void => {
  let v = n >>> 0
  do {
    const byte = v & 0x7f
    v >>>= 7
    out.push(v === 0 ? byte : byte | 0x80)
  } while (v !== 0)
}

/** Appends a 32-bit integer as signed LEB128. @example sleb(-123456, out) // c0 bb 78 */
export const sleb = (n: number, out: number[]): void => {
  let v = n | 0
  for (;;) {
    const byte = v & 0x7f
    v >>= 7
    const done = (v === 0 && (byte & 0x40) === 0) || (v === -1 && (byte & 0x40) !== 0)
    out.push(done ? byte : byte | 0x80)
    if (done) return
  }
}

const f32Bytes = new Uint8Array(4)
const f32View = new DataView(f32Bytes.buffer)
const f64Bytes = new Uint8Array(8)
const f64View = new DataView(f64Bytes.buffer)

/** SIMD opcodes (after the 0xfd prefix) used by the kernels. */
export const V = {
  load: 0x00, load32Splat: 0x09, store: 0x0b, const: 0x0c, shuffle: 0x0d,
  i32x4Splat: 0x11, f32x4Splat: 0x13, f64x2Splat: 0x14,
  i32x4ExtractLane: 0x1b, f32x4ExtractLane: 0x1f, f32x4ReplaceLane: 0x20, f64x2ExtractLane: 0x21,
  i32x4Eq: 0x37, i32x4Ne: 0x38, i32x4LtS: 0x39, i32x4GtS: 0x3b, i32x4LeS: 0x3d, i32x4GeS: 0x3f,
  f32x4Eq: 0x41, f32x4Ne: 0x42, f32x4Lt: 0x43, f32x4Gt: 0x44, f32x4Le: 0x45, f32x4Ge: 0x46,
  not: 0x4d, and: 0x4e, andnot: 0x4f, or: 0x50, xor: 0x51, bitselect: 0x52, anyTrue: 0x53,
  store8Lane: 0x58, store32Lane: 0x5a, store64Lane: 0x5b, load32Zero: 0x5c, load64Zero: 0x5d,
  f32x4DemoteF64x2Zero: 0x5e, f64x2PromoteLow: 0x5f, i8x16NarrowI16x8U: 0x66,
  f32x4Ceil: 0x67, f32x4Floor: 0x68, f32x4Trunc: 0x69, f32x4Nearest: 0x6a,
  i16x8NarrowI32x4U: 0x86, i16x8ExtendLowI8x16U: 0x89, i32x4ExtendLowI16x8U: 0xa9,
  i32x4Abs: 0xa0, i32x4Neg: 0xa1, i32x4Shl: 0xab, i32x4ShrS: 0xac, i32x4ShrU: 0xad,
  i32x4Add: 0xae, i32x4Sub: 0xb1, i32x4Mul: 0xb5, i32x4MinS: 0xb6, i32x4MaxS: 0xb8,
  f32x4Abs: 0xe0, f32x4Neg: 0xe1, f32x4Sqrt: 0xe3, f32x4Add: 0xe4, f32x4Sub: 0xe5, f32x4Mul: 0xe6,
  f32x4Div: 0xe7, f32x4Min: 0xe8, f32x4Max: 0xe9, f32x4Pmin: 0xea, f32x4Pmax: 0xeb,
  f64x2Eq: 0x47, f64x2Ne: 0x48, f64x2Lt: 0x49, f64x2Gt: 0x4a, f64x2Ge: 0x4c,
  f64x2Floor: 0x75, f64x2Nearest: 0x94, f64x2Abs: 0xec, f64x2Neg: 0xed,
  f64x2Add: 0xf0, f64x2Sub: 0xf1, f64x2Mul: 0xf2, f64x2Div: 0xf3, f64x2Min: 0xf4, f64x2Max: 0xf5,
  i32x4TruncSatF32x4S: 0xf8, f32x4ConvertI32x4S: 0xfa, i32x4TruncSatF64x2SZero: 0xfc, f64x2ConvertLowI32x4S: 0xfe,
} as const

/** Core opcodes used by the kernels. */
export const O = {
  block: 0x02, loop: 0x03, if: 0x04, else: 0x05, end: 0x0b, br: 0x0c, brIf: 0x0d, return: 0x0f, call: 0x10,
  drop: 0x1a, select: 0x1b, localGet: 0x20, localSet: 0x21, localTee: 0x22,
  i32Load: 0x28, f32Load: 0x2a, f64Load: 0x2b, i32Load8U: 0x2d, i32Store: 0x36, f32Store: 0x38, f64Store: 0x39,
  i32Store8: 0x3a, i32Const: 0x41, f32Const: 0x43,
  i32Eqz: 0x45, i32Eq: 0x46, i32Ne: 0x47, i32LtS: 0x48, i32LtU: 0x49, i32GtS: 0x4a, i32GtU: 0x4b,
  i32LeS: 0x4c, i32GeS: 0x4e, i32GeU: 0x4f, i32Add: 0x6a, i32Sub: 0x6b, i32Mul: 0x6c, i32DivS: 0x6d, i32RemS: 0x6f,
  i32And: 0x71, i32Or: 0x72, i32Shl: 0x74, i32ShrS: 0x75, i32ShrU: 0x76,
  f32Add: 0x92, f32Max: 0x97, f64Add: 0xa0, f32DemoteF64: 0xb6, f64PromoteF32: 0xbb,
} as const

/**
 * One function's instruction stream and locals. Parameters are locals
 * `0 … params.length-1`; `local(t)` adds more.
 * @example
 * const c = new Code(['i32'], ['i32'])
 * c.get(0).i32(1).op(O.i32Add) // (x) => x + 1
 */
export class Code {
  readonly bytes: number[] = []
  readonly locals: ValType[] = []
  constructor(
    readonly params: readonly ValType[],
    readonly results: readonly ValType[] = [],
  ) {}

  /** a new local of type `t`; returns its index */
  local(t: ValType): number {
    this.locals.push(t)
    return this.params.length + this.locals.length - 1
  }
  /** raw opcode bytes */
  op(...codes: number[]): this {
    this.bytes.push(...codes)
    return this
  }
  i32(n: number): this {
    this.bytes.push(O.i32Const)
    sleb(n, this.bytes)
    return this
  }
  f32(x: number): this {
    f32View.setFloat32(0, x, true)
    this.bytes.push(O.f32Const, ...f32Bytes)
    return this
  }
  get(i: number): this {
    this.bytes.push(O.localGet)
    uleb(i, this.bytes)
    return this
  }
  set(i: number): this {
    this.bytes.push(O.localSet)
    uleb(i, this.bytes)
    return this
  }
  tee(i: number): this {
    this.bytes.push(O.localTee)
    uleb(i, this.bytes)
    return this
  }
  /** a load or store with alignment log2 `align` and constant byte `offset` */
  mem(opcode: number, align: number, offset = 0): this {
    this.bytes.push(opcode, align)
    uleb(offset, this.bytes)
    return this
  }
  /** a SIMD instruction without immediates */
  v(simdop: number): this {
    this.bytes.push(0xfd)
    uleb(simdop, this.bytes)
    return this
  }
  /** a SIMD memory instruction (`V.load`, `V.store`, `V.load32Splat`, …); `align` is a log2 hint */
  vmem(simdop: number, offset = 0, align = 0): this {
    this.v(simdop)
    this.bytes.push(align)
    uleb(offset, this.bytes)
    return this
  }
  /** a SIMD store of one lane (`V.store32Lane`, `V.store8Lane`) */
  vlane(simdop: number, lane: number, offset = 0, align = 0): this {
    this.vmem(simdop, offset, align)
    this.bytes.push(lane)
    return this
  }
  /** `i8x16.shuffle` of the two v128 on the stack, picking 32-bit lanes `lanes` (0–3 first operand, 4–7 second) */
  shuffle32(lanes: readonly number[]): this {
    this.v(V.shuffle)
    for (const l of lanes) for (let b = 0; b < 4; b++) this.bytes.push(l * 4 + b)
    return this
  }
  /** a SIMD lane access (`V.f32x4ExtractLane`, …) */
  lane(simdop: number, lane: number): this {
    this.v(simdop)
    this.bytes.push(lane)
    return this
  }
  f64(x: number): this {
    f64View.setFloat64(0, x, true)
    this.bytes.push(0x44, ...f64Bytes)
    return this
  }
  /** `f64x2.splat(x)` as a constant */
  f64x2(x: number): this {
    return this.f64(x).v(V.f64x2Splat)
  }
  /** `f32x4.splat(x)` as a constant */
  f32x4(x: number): this {
    return this.f32(x).v(V.f32x4Splat)
  }
  /** `i32x4.splat(n)` as a constant */
  i32x4(n: number): this {
    return this.i32(n).v(V.i32x4Splat)
  }
  /** a block (branch depth 0 inside `body` exits it) */
  block(body: () => void): this {
    this.bytes.push(O.block, 0x40)
    body()
    this.bytes.push(O.end)
    return this
  }
  /** a loop (branch depth 0 inside `body` repeats it) */
  loop(body: () => void): this {
    this.bytes.push(O.loop, 0x40)
    body()
    this.bytes.push(O.end)
    return this
  }
  /** pops an i32 condition: runs `then` when non-zero, else `otherwise` */
  if(then: () => void, otherwise?: () => void): this {
    this.bytes.push(O.if, 0x40)
    then()
    if (otherwise) {
      this.bytes.push(O.else)
      otherwise()
    }
    this.bytes.push(O.end)
    return this
  }
  br(depth: number): this {
    this.bytes.push(O.br)
    uleb(depth, this.bytes)
    return this
  }
  brIf(depth: number): this {
    this.bytes.push(O.brIf)
    uleb(depth, this.bytes)
    return this
  }
  /**
   * `for (i = i; i + step <= end; i += step) body()` with i32 locals `i` and
   * `end` (signed); `i` keeps its value after the loop (for a tail loop).
   */
  forUp(i: number, end: number, step: number, body: () => void): this {
    return this.block(() =>
      this.loop(() => {
        this.get(i).i32(step).op(O.i32Add).get(end).op(O.i32GtS).brIf(1)
        body()
        this.get(i).i32(step).op(O.i32Add).set(i).br(0)
      }),
    )
  }
  /** `local[x] += n` for an i32 local */
  addTo(x: number, n: number): this {
    return n === 0 ? this : this.get(x).i32(n).op(O.i32Add).set(x)
  }
}

/** A function of a module: exported under `name` unless `internal`. */
export interface Func {
  readonly name: string
  readonly code: Code
  readonly internal?: boolean
}

const section = (id: number, body: number[], out: number[]) => {
  out.push(id)
  uleb(body.length, out)
  for (const b of body) out.push(b)
}

const vec = <T>(xs: readonly T[], item: (x: T, out: number[]) => void, out: number[]) => {
  uleb(xs.length, out)
  for (const x of xs) item(x, out)
}

const name = (s: string, out: number[]) => {
  const b = new TextEncoder().encode(s)
  uleb(b.length, out)
  out.push(...b)
}

/** The imported memory: `env.memory`, in 64 KiB pages. */
export interface MemoryImport {
  readonly min: number
  readonly max: number
  readonly shared: boolean
}

/**
 * The bytes of a module that imports `env.memory` and defines `funcs`, in
 * order (function index = position; call internal helpers by it).
 * @example new WebAssembly.Module(moduleBytes([{ name: 'f', code }], { min: 1, max: 1, shared: false }))
 */
export const moduleBytes = (funcs: readonly Func[], memory: MemoryImport): Uint8Array<ArrayBuffer> => {
  const out: number[] = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]
  const sigs: string[] = []
  const typeOf = funcs.map((f) => {
    const key = `${f.code.params.join(',')}>${f.code.results.join(',')}`
    if (!sigs.includes(key)) sigs.push(key)
    return sigs.indexOf(key)
  })
  const types: number[] = []
  vec(sigs, (key, o) => {
    const [ps, rs] = key.split('>').map((s) => (s === '' ? [] : (s.split(',') as ValType[])))
    o.push(0x60)
    vec(ps, (t, o2) => o2.push(valCode[t]), o)
    vec(rs, (t, o2) => o2.push(valCode[t]), o)
  }, types)
  section(1, types, out)
  const imports: number[] = [1]
  name('env', imports)
  name('memory', imports)
  imports.push(0x02, memory.shared ? 0x03 : 0x01)
  uleb(memory.min, imports)
  uleb(memory.max, imports)
  section(2, imports, out)
  const fns: number[] = []
  vec(typeOf, (t, o) => uleb(t, o), fns)
  section(3, fns, out)
  const exported = funcs.map((f, i) => [f, i] as const).filter(([f]) => !f.internal)
  const exports: number[] = []
  vec(exported, ([f, i], o) => {
    name(f.name, o)
    o.push(0x00)
    uleb(i, o)
  }, exports)
  section(7, exports, out)
  const code: number[] = []
  vec(funcs, (f, o) => {
    const body: number[] = []
    const runs: [number, ValType][] = []
    for (const t of f.code.locals) {
      const last = runs[runs.length - 1]
      if (last && last[1] === t) last[0]++
      else runs.push([1, t])
    }
    vec(runs, ([n, t], o2) => {
      uleb(n, o2)
      o2.push(valCode[t])
    }, body)
    for (const b of f.code.bytes) body.push(b)
    body.push(O.end)
    uleb(body.length, o)
    for (const b of body) o.push(b)
  }, code)
  section(10, code, out)
  return new Uint8Array(out)
}
