/** Byte-level helpers of the checkpoint codecs: strict base64 and little-endian tensor bytes. */
import { alloc, byteSize } from '../../DType'
import type { DType, TypedArray } from '../../DType'
import * as S from '../../Shape'

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'
const B64_INDEX = new Map([...B64].map((ch, i) => [ch, i]))
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1

/** Padded standard base64 of bytes. */
export const toBase64 = (b: Uint8Array): string => {
  let out = ''
  for (let i = 0; i < b.length; i += 3) {
    const n = (b[i] << 16) | ((b[i + 1] ?? 0) << 8) | (b[i + 2] ?? 0)
    out += B64[n >>> 18] + B64[(n >>> 12) & 63] + (i + 1 < b.length ? B64[(n >>> 6) & 63] : '=') + (i + 2 < b.length ? B64[n & 63] : '=')
  }
  return out
}

/** The bytes of strict, padded base64, or a message saying what is wrong. */
export const fromBase64 = (s: string): Uint8Array | string => {
  if (s.length % 4 !== 0) return `invalid base64: length ${s.length} is not a multiple of 4`
  const pad = s.endsWith('==') ? 2 : s.endsWith('=') ? 1 : 0
  const out = new Uint8Array((s.length / 4) * 3 - pad)
  for (let i = 0, o = 0; i < s.length; i += 4) {
    let n = 0
    for (let j = 0; j < 4; j++) {
      const ch = s[i + j]
      const v = ch === '=' && i + j >= s.length - pad ? 0 : B64_INDEX.get(ch)
      if (v === undefined) return `invalid base64: character ${JSON.stringify(ch)} at position ${i + j}`
      n = (n << 6) | v
    }
    for (let j = 0; j < 3 && o < out.length; j++) out[o++] = (n >>> (16 - 8 * j)) & 255
  }
  return out
}

/** Little-endian bytes of a host array (a copy). */
export const leBytes = (a: TypedArray): Uint8Array => {
  const b = new Uint8Array(a.buffer.slice(a.byteOffset, a.byteOffset + a.byteLength))
  if (!LITTLE_ENDIAN && a.BYTES_PER_ELEMENT === 4) for (let i = 0; i < b.length; i += 4) b.subarray(i, i + 4).reverse()
  return b
}

/** A host array of `dtype` from little-endian bytes (copied, so any alignment works). */
export const fromLeBytes = (b: Uint8Array, dtype: DType): TypedArray => {
  const out = alloc(dtype, b.length / byteSize[dtype])
  const view = new Uint8Array(out.buffer)
  view.set(b)
  if (!LITTLE_ENDIAN && byteSize[dtype] === 4) for (let i = 0; i < view.length; i += 4) view.subarray(i, i + 4).reverse()
  return out
}

/** Checks the data of a tensor: byte count, and 0/1 bytes for bool. Returns a message on failure. */
export const checkData = (b: Uint8Array, dtype: DType, shape: readonly number[], what: string): string | null => {
  const need = S.size(shape) * byteSize[dtype]
  if (b.length !== need) return `${what} has ${b.length} bytes, shape ${S.show(shape)} ${dtype} needs ${need}`
  if (dtype === 'bool') {
    const bad = b.findIndex((x) => x > 1)
    if (bad >= 0) return `bool element ${bad} is byte ${b[bad]}, expected 0 or 1`
  }
  return null
}
