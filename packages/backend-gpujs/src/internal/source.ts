/**
 * Kernel source generation: gpu.js kernels are written here as JavaScript
 * source strings in the subset gpu.js transpiles (to GLSL for the WebGL
 * backends, to JS or WebAssembly for the CPU ones), one per primitive and
 * shape signature, with every shape, stride and loop bound baked in as a literal.
 *
 * Every kernel has a flat 1-D output (`this.thread.x` is the row-major index
 * of the output element) and reads its inputs as flat 1-D arrays, so a
 * texture's layout depends only on its element count and a reshape never moves data.
 *
 * Index math runs in float32 on WebGL (gpu.js declares every variable a
 * float): a quotient `floor(i / d)` is corrected by one step each way, which
 * makes the decomposition of a flat index into coordinates exact for every
 * index below 2^24.
 * @internal
 */

/** A JS literal for a float32 value (NaN and infinities included). */
export const lit = (v: number): string => {
  if (Number.isNaN(v)) return '(0.0 / 0.0)'
  if (v === Infinity) return 'Infinity'
  if (v === -Infinity) return '(-Infinity)'
  const s = String(v)
  return v < 0 ? `(${s})` : s
}

/** The statements and coordinate names that decompose the flat index `v` over `dims` (row-major). */
export const decompose = (dims: readonly number[], v = 'i', p = 'c'): { lines: string[]; coords: string[] } => {
  const lines: string[] = []
  const coords = new Array<string>(dims.length)
  let rem = v
  for (let j = dims.length - 1; j >= 1; j--) {
    const d = dims[j]
    if (d === 1) {
      coords[j] = '0'
      continue
    }
    lines.push(
      `const ${p}q${j} = Math.floor(${rem} / ${d});`,
      `const ${p}k${j} = ${p}q${j} + (${rem} - ${p}q${j} * ${d} >= ${d} ? 1 : 0) - (${rem} - ${p}q${j} * ${d} < 0 ? 1 : 0);`,
      `const ${p}${j} = ${rem} - ${p}k${j} * ${d};`,
    )
    coords[j] = `${p}${j}`
    rem = `${p}k${j}`
  }
  if (dims.length > 0) coords[0] = rem
  return { lines, coords }
}

/** `base + Σ coord·stride` as source, omitting zero terms. */
export const indexExpr = (base: number, coords: readonly string[], strides: readonly number[]): string => {
  const terms: string[] = []
  coords.forEach((c, j) => {
    const s = strides[j]
    if (s === 0 || c === '0') return
    terms.push(s === 1 ? c : `${c} * ${s}`)
  })
  if (base !== 0 || terms.length === 0) terms.push(String(base))
  return terms.join(' + ')
}

/** An operand read at every output element: flat offset `base + Σ coord[j]·strides[j]` over the output axes. */
export interface Operand {
  readonly base: number
  readonly strides: readonly number[]
}

/** What a kernel body computes from its operands' values: statements, then the returned expression. */
export interface Body {
  readonly pre: readonly string[]
  readonly expr: string
}

/**
 * Drops output axes of length 1 and merges neighbouring axes along which
 * every operand is contiguous, so a same-shape elementwise op needs no index
 * math and a row broadcast one division.
 */
const coalesce = (dims: readonly number[], operands: readonly Operand[]) => {
  const out: { n: number; strides: number[] }[] = []
  dims.forEach((n, j) => {
    if (n === 1) return
    const strides = operands.map((o) => o.strides[j])
    const last = out[out.length - 1]
    if (last && last.strides.every((s, k) => s === strides[k] * n)) {
      last.n *= n
      last.strides.forEach((_, k) => (last.strides[k] = strides[k]))
    } else out.push({ n, strides })
  })
  return out
}

/** Binds `x<k>` to operand k's value at this output element (operand k is kernel argument `a<k>`). */
export const readOperands = (dims: readonly number[], operands: readonly Operand[]): string[] => {
  const axes = coalesce(dims, operands)
  if (axes.length <= 1) {
    const s = axes.length === 1 ? axes[0].strides : operands.map(() => 0)
    return operands.map((o, k) => `const x${k} = a${k}[${indexExpr(o.base, ['i'], [s[k]])}];`)
  }
  const { lines, coords } = decompose(axes.map((a) => a.n))
  return [...lines, ...operands.map((o, k) => `const x${k} = a${k}[${indexExpr(o.base, coords, axes.map((a) => a.strides[k]))}];`)]
}

/** A kernel function's source: `function(a0, …) { const i = this.thread.x; … }`. */
export const kernelSource = (nArgs: number, lines: readonly string[]): string =>
  `function(${Array.from({ length: nArgs }, (_, k) => `a${k}`).join(', ')}) {\n  const i = this.thread.x;\n  ${lines.join('\n  ')}\n}`

/**
 * The source of a kernel over an output of shape `dims` that reads each
 * operand at its strided offset and returns `body(values)`.
 */
export const mapSource = (dims: readonly number[], operands: readonly Operand[], body: (values: string[]) => Body): string => {
  const b = body(operands.map((_, k) => `x${k}`))
  return kernelSource(operands.length, [...readOperands(dims, operands), ...b.pre, `return ${b.expr};`])
}

/** Row-major strides. */
export const stridesOf = (shape: readonly number[]): number[] => {
  const s = new Array<number>(shape.length)
  let acc = 1
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc
    acc *= shape[i]
  }
  return s
}

/** Strides reading `shape` broadcast (numpy rules, right-aligned) to `out`: 0 along stretched or missing axes. */
export const broadcastStrides = (shape: readonly number[], out: readonly number[]): number[] => {
  const s = stridesOf(shape)
  const off = out.length - shape.length
  return out.map((_, j) => (j < off || shape[j - off] === 1 ? 0 : s[j - off]))
}

/** Number of elements of a shape. */
export const sizeOf = (shape: readonly number[]): number => shape.reduce((n, d) => n * d, 1)
