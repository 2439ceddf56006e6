/**
 * A byte-level tokenizer: a token is one byte of the UTF-8 encoding, so the
 * vocabulary is the 256 byte values and every text round-trips exactly.
 */

/** Vocabulary size of the byte tokenizer. */
export const VOCAB = 256

const encoder = new TextEncoder()
const decoder = new TextDecoder('utf-8')

/**
 * The byte tokens of a text.
 * @param text any string
 * @returns its UTF-8 bytes, one token each
 * @example encode('hé') // Uint8Array [104, 195, 169]
 */
export const encode = (text: string): Uint8Array => encoder.encode(text)

/**
 * The text of byte tokens (invalid UTF-8 sequences become U+FFFD).
 * @param tokens byte values 0–255
 * @returns the decoded string
 * @example decode(encode('hé')) // 'hé'
 */
export const decode = (tokens: ArrayLike<number>): string => decoder.decode(Uint8Array.from(tokens as ArrayLike<number>))
