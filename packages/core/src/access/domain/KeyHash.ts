/**
 * Keyed hashing of API keys (HMAC-SHA-256 on Web Crypto, present on Node and Workers alike) and a
 * comparison whose time does not depend on where two hashes differ.
 */
const encoder = new TextEncoder()

export const importSecret = (secret: string): Promise<CryptoKey> =>
  crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"])

const hex = (bytes: ArrayBuffer): string => {
  let out = ""
  for (const byte of new Uint8Array(bytes)) out += byte.toString(16).padStart(2, "0")
  return out
}

export const hash = async (secret: CryptoKey, key: string): Promise<string> =>
  hex(await crypto.subtle.sign("HMAC", secret, encoder.encode(key)))

export const constantTimeEqual = (a: string, b: string): boolean => {
  let difference = a.length ^ b.length
  const length = Math.max(a.length, b.length)
  for (let i = 0; i < length; i++) difference |= (a.charCodeAt(i) | 0) ^ (b.charCodeAt(i) | 0)
  return difference === 0
}
