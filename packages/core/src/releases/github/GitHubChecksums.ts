import type { Checksum } from "../domain/Catalog.ts"

/**
 * Checksums and signatures published next to release assets: a sidecar per file (`app.exe.sha256`,
 * `app.exe.md5`, `app.exe.sha512`, `app.exe.sha1`), one list for the release (`SHA256SUMS`,
 * `MD5SUMS`, `checksums.txt`, in GNU or BSD format, or Squirrel.Windows' `RELEASES` with the SHA-1 of
 * each `.nupkg`), and Tauri's minisign signature beside each updater bundle (`app.tar.gz.sig`).
 * A sidecar beats a list; GitHub's own `digest` of an asset is the fallback for SHA-256.
 */
export type Algorithm = "sha256" | "md5" | "sha512" | "sha1"

export type ChecksumFile =
  | { readonly kind: "sidecar"; readonly algorithm: Algorithm; readonly target: string }
  | { readonly kind: "signature"; readonly target: string }
  | { readonly kind: "list" }

const sidecar = /^(.+)\.(sha256|md5|sha512|sha1)(sum)?$/i
const signature = /^(.+)\.sig$/i
const list = /^((sha256|md5|sha512|sha1)sums|checksums)(\.txt)?$|^RELEASES$/i

/** Whether an asset is a checksum or signature file, and which. They are never builds. */
export const classify = (name: string): ChecksumFile | undefined => {
  if (list.test(name)) return { kind: "list" }
  const signed = signature.exec(name)
  if (signed !== null) return { kind: "signature", target: signed[1]! }
  const match = sidecar.exec(name)
  if (match === null) return undefined
  return { kind: "sidecar", algorithm: match[2]!.toLowerCase() as Algorithm, target: match[1]! }
}

const lengths: Record<number, Algorithm> = { 32: "md5", 40: "sha1", 64: "sha256", 128: "sha512" }

const algorithmOf = (hex: string): Algorithm | undefined => (/^[a-f0-9]+$/i.test(hex) ? lengths[hex.length] : undefined)

/** A sidecar's digest: its first word (`sha256sum` output names the file after it). */
export const parseSidecar = (text: string, algorithm: Algorithm): string | undefined => {
  const word = text.trim().split(/\s+/)[0] ?? ""
  return algorithmOf(word) === algorithm ? word.toLowerCase() : undefined
}

export interface ListedChecksum {
  readonly file: string
  readonly algorithm: Algorithm
  readonly hex: string
}

const digest = "[a-f0-9]{32}|[a-f0-9]{40}|[a-f0-9]{64}|[a-f0-9]{128}"
// Squirrel.Windows' RELEASES: `SHA1 filename size`, the size after the name.
const squirrelLine = /^([a-f0-9]{40})\s+(\S+)\s+\d+$/i
const gnuLine = new RegExp(`^(${digest})\\s+\\*?(.+)$`, "i")
const bsdLine = new RegExp(`^(SHA256|MD5|SHA512|SHA1)\\s*\\((.+)\\)\\s*=\\s*(${digest})$`, "i")

/** Every entry of a checksum list; the algorithm is told by the digest's length. Other lines are skipped. */
export const parseList = (text: string): ReadonlyArray<ListedChecksum> => {
  const entries: Array<ListedChecksum> = []
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim()
    const gnu = squirrelLine.exec(line) ?? gnuLine.exec(line)
    const bsd = gnu === null ? bsdLine.exec(line) : null
    const hex = gnu?.[1] ?? bsd?.[3]
    const file = (gnu?.[2] ?? bsd?.[2])?.trim().replace(/^\.\//, "")
    const algorithm = hex === undefined ? undefined : algorithmOf(hex)
    if (hex !== undefined && file !== undefined && algorithm !== undefined) {
      entries.push({ file, algorithm, hex: hex.toLowerCase() })
    }
  }
  return entries
}

/** GitHub's `sha256:<hex>` digest of an asset, when it computed one. */
export const fromDigest = (digest: string | null | undefined): string | undefined => {
  const match = digest?.match(/^sha256:([a-f0-9]{64})$/i)
  return match?.[1]?.toLowerCase()
}

/**
 * The checksums of each file of a release, from the texts of its checksum files (by asset name)
 * and GitHub's digests. Precedence: sidecar, then list, then digest.
 */
export const resolve = (
  files: ReadonlyArray<{ readonly name: string; readonly digest?: string | null | undefined }>,
  texts: ReadonlyMap<string, string>
): ReadonlyMap<string, Checksum> => {
  const found = new Map<string, { -readonly [A in Algorithm]?: string }>()
  const entry = (file: string) => {
    const value = found.get(file) ?? {}
    found.set(file, value)
    return value
  }
  for (const file of files) {
    const sha256 = fromDigest(file.digest)
    if (sha256 !== undefined) entry(file.name).sha256 = sha256
  }
  for (const [name, text] of texts) {
    if (classify(name)?.kind !== "list") continue
    for (const listed of parseList(text)) entry(listed.file)[listed.algorithm] = listed.hex
  }
  for (const [name, text] of texts) {
    const kind = classify(name)
    if (kind?.kind !== "sidecar") continue
    const hex = parseSidecar(text, kind.algorithm)
    if (hex !== undefined) entry(kind.target)[kind.algorithm] = hex
  }
  // electron-updater compares SHA-512 in base64, as electron-builder writes it.
  for (const value of found.values()) if (value.sha512 !== undefined) value.sha512 = hexToBase64(value.sha512)
  return found
}

const hexToBase64 = (hex: string): string => {
  let binary = ""
  for (let i = 0; i < hex.length; i += 2) binary += String.fromCharCode(Number.parseInt(hex.slice(i, i + 2), 16))
  return btoa(binary)
}

/** Tauri's signatures by the file they sign: the `.sig` file's content, as Tauri's updater expects it. */
export const signatures = (texts: ReadonlyMap<string, string>): ReadonlyMap<string, string> => {
  const found = new Map<string, string>()
  for (const [name, text] of texts) {
    const kind = classify(name)
    const content = text.trim()
    if (kind?.kind === "signature" && content !== "" && content.length <= 4096) found.set(kind.target, content)
  }
  return found
}
