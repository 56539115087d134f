/**
 * Gateway API keys: `lbapi_`, 43 base62 characters of randomness (256 bits) and a 6-character
 * base62 CRC-32 of them. The fixed shape and the checksum let the gateway refuse a mistyped or
 * malformed key without touching the store, and let secret scanners recognise leaked keys.
 */
export const prefix = "lbapi_"

const alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
const bodyLength = 43
const checksumLength = 6
const shape = new RegExp(`^${prefix}[0-9A-Za-z]{${bodyLength + checksumLength}}$`)

const crcTable = (() => {
  const table = new Uint32Array(256)
  for (let n = 0; n < 256; n++) {
    let c = n
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1
    table[n] = c >>> 0
  }
  return table
})()

const crc32 = (text: string): number => {
  let crc = 0xffffffff
  for (let i = 0; i < text.length; i++) crc = crcTable[(crc ^ text.charCodeAt(i)) & 0xff]! ^ (crc >>> 8)
  return (crc ^ 0xffffffff) >>> 0
}

const base62 = (value: number, length: number): string => {
  let out = ""
  for (let i = 0; i < length; i++) {
    out = alphabet[value % 62]! + out
    value = Math.floor(value / 62)
  }
  return out
}

const checksum = (body: string) => base62(crc32(body), checksumLength)

/** A new random key. */
export const generate = (): string => {
  // Rejection sampling keeps every character uniformly distributed (256 is not a multiple of 62).
  let body = ""
  while (body.length < bodyLength) {
    for (const byte of crypto.getRandomValues(new Uint8Array(64))) {
      if (byte < 248 && body.length < bodyLength) body += alphabet[byte % 62]
    }
  }
  return `${prefix}${body}${checksum(body)}`
}

/** Whether `key` has the shape of a gateway key and its checksum matches. */
export const isWellFormed = (key: string): boolean => {
  if (!shape.test(key)) return false
  const body = key.slice(prefix.length, prefix.length + bodyLength)
  return key.slice(prefix.length + bodyLength) === checksum(body)
}

/** The form shown in listings: the prefix and the last four characters. */
export const mask = (last4: string): string => `${prefix}…${last4}`
