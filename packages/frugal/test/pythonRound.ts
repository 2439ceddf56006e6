/**
 * An independent reference of Python's `round(x)` for a double (halves to even),
 * by exact integer arithmetic on the double's bits: x = ±M·2^(E−1075), so the
 * integer part is M >> s and the fraction M mod 2^s is compared with 2^(s−1)
 * exactly (s = 1075 − E). No floating-point step, so no rounding error.
 * @example pythonRound(2.5) // 2
 */
export const pythonRound = (x: number): number => {
  if (!Number.isFinite(x) || Number.isInteger(x)) return x
  const view = new DataView(new ArrayBuffer(8))
  view.setFloat64(0, x)
  const bits = view.getBigUint64(0)
  const negative = bits >> 63n === 1n
  const e = Number((bits >> 52n) & 0x7ffn)
  const frac = bits & ((1n << 52n) - 1n)
  const m = e === 0 ? frac : frac | (1n << 52n)
  const s = BigInt(1075 - Math.max(e, 1)) // > 0: x is not an integer
  let q = m >> s
  const r = m & ((1n << s) - 1n)
  const half = 1n << (s - 1n)
  if (r > half || (r === half && (q & 1n) === 1n)) q += 1n
  const v = Number(q)
  return negative ? (v === 0 ? 0 : -v) : v
}

/**
 * An independent reference of Python's `int(x)` for a double: truncation toward zero of the exact value.
 * @example pythonInt(28.999999999999996) // 28
 */
export const pythonInt = (x: number): number => {
  const t = Math.trunc(x)
  return t === 0 ? 0 : t
}
