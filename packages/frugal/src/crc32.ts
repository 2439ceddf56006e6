/**
 * CRC-32 (IEEE 802.3, the polynomial of zip, PNG and gzip: reflected
 * 0xEDB88320, initial value and final xor 0xFFFFFFFF), the checksum every
 * checkpoint of this package carries over all of its bytes.
 */

const TABLE = Uint32Array.from({ length: 256 }, (_, n) => {
  let c = n
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1
  return c >>> 0
})

/**
 * The CRC-32 of bytes, as an unsigned 32-bit integer; `previous` continues a
 * checksum over several chunks (`crc32(b, crc32(a))` is `crc32(a ++ b)`).
 * @example crc32(new TextEncoder().encode('123456789')) // 0xcbf43926
 */
export const crc32 = (bytes: Uint8Array, previous = 0): number => {
  let c = (previous ^ 0xffffffff) >>> 0
  for (let i = 0; i < bytes.length; i++) c = TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8)
  return (c ^ 0xffffffff) >>> 0
}

/** The CRC-32 as 8 lowercase hex digits. @example crc32Hex(new TextEncoder().encode('123456789')) // 'cbf43926' */
export const crc32Hex = (bytes: Uint8Array): string => crc32(bytes).toString(16).padStart(8, '0')
