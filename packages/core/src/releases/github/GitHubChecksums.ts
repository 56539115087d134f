import type { Checksum } from "../domain/Catalog.ts"

/**
 * Checksums published next to release assets: a sidecar per file (`app.exe.sha256`, `app.exe.md5`)
 * or one list for the release (`SHA256SUMS`, `MD5SUMS`, `checksums.txt`, in GNU or BSD format).
 * A sidecar beats a list; GitHub's own `digest` of an asset is the fallback for SHA-256.
 */
export type ChecksumFile =
  | { readonly kind: "sidecar"; readonly algorithm: "sha256" | "md5"; readonly target: string }
  | { readonly kind: "list" }

const sidecar = /^(.+)\.(sha256|sha256sum|md5|md5sum)$/i
const list = /^(sha256sums|md5sums|checksums)(\.txt)?$/i

/** Whether an asset is a checksum file, and which. Checksum files are never builds. */
export const classify = (name: string): ChecksumFile | undefined => {
  if (list.test(name)) return { kind: "list" }
  const match = sidecar.exec(name)
  if (match === null) return undefined
  return { kind: "sidecar", algorithm: match[2]!.toLowerCase().startsWith("md5") ? "md5" : "sha256", target: match[1]! }
}

const algorithmOf = (hex: string): "sha256" | "md5" | undefined =>
  /^[a-f0-9]{64}$/i.test(hex) ? "sha256" : /^[a-f0-9]{32}$/i.test(hex) ? "md5" : undefined

/** A sidecar's digest: its first word (`sha256sum` output names the file after it). */
export const parseSidecar = (text: string, algorithm: "sha256" | "md5"): string | undefined => {
  const word = text.trim().split(/\s+/)[0] ?? ""
  return algorithmOf(word) === algorithm ? word.toLowerCase() : undefined
}

export interface ListedChecksum {
  readonly file: string
  readonly algorithm: "sha256" | "md5"
  readonly hex: string
}

const gnuLine = /^([a-f0-9]{32}|[a-f0-9]{64})\s+\*?(.+)$/i
const bsdLine = /^(SHA256|MD5)\s*\((.+)\)\s*=\s*([a-f0-9]{32}|[a-f0-9]{64})$/i

/** Every entry of a checksum list; the algorithm is told by the digest's length. Other lines are skipped. */
export const parseList = (text: string): ReadonlyArray<ListedChecksum> => {
  const entries: Array<ListedChecksum> = []
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim()
    const gnu = gnuLine.exec(line)
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
  const found = new Map<string, { sha256?: string; md5?: string }>()
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
  return found
}
