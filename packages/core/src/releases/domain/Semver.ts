/**
 * SemVer 2.0.0 (https://semver.org): parsing and precedence, including pre-release identifiers.
 * Build metadata is kept but never affects precedence. A leading `v` is accepted, as in Git tags.
 */
export interface SemVer {
  readonly major: number
  readonly minor: number
  readonly patch: number
  readonly prerelease: ReadonlyArray<string | number>
  readonly build: ReadonlyArray<string>
}

// The official regular expression from semver.org, with an optional leading "v".
const pattern =
  /^v?(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$/

// Longer inputs are rejected before the expression runs, so hostile input costs nothing.
const maxLength = 256

/** Parses a version string; `undefined` when it is not SemVer 2.0.0. */
export const parse = (input: string): SemVer | undefined => {
  if (input.length > maxLength) return undefined
  const match = pattern.exec(input)
  if (match === null) return undefined
  const [, major, minor, patch, prerelease, build] = match
  const numbers = [Number(major), Number(minor), Number(patch)] as const
  if (!numbers.every(Number.isSafeInteger)) return undefined
  const identifiers = prerelease === undefined ? [] : prerelease.split(".").map(identifier)
  // Beyond 2^53 distinct identifiers would compare equal and format as other text (1e+22), so refuse them.
  if (identifiers.some((id) => typeof id === "number" && !Number.isSafeInteger(id))) return undefined
  return {
    major: numbers[0],
    minor: numbers[1],
    patch: numbers[2],
    prerelease: identifiers,
    build: build === undefined ? [] : build.split(".")
  }
}

const identifier = (part: string): string | number => (/^\d+$/.test(part) ? Number(part) : part)

export const isValid = (input: string): boolean => parse(input) !== undefined

export const isPrerelease = (version: SemVer): boolean => version.prerelease.length > 0

/** Canonical text: no leading `v`, build metadata kept. */
export const format = (version: SemVer): string =>
  `${version.major}.${version.minor}.${version.patch}` +
  (version.prerelease.length > 0 ? `-${version.prerelease.join(".")}` : "") +
  (version.build.length > 0 ? `+${version.build.join(".")}` : "")

const compareIdentifiers = (a: string | number, b: string | number): number => {
  if (typeof a === "number" && typeof b === "number") return a === b ? 0 : a < b ? -1 : 1
  // Numeric identifiers always have lower precedence than alphanumeric ones (SemVer 11.4.3).
  if (typeof a === "number") return -1
  if (typeof b === "number") return 1
  return a === b ? 0 : a < b ? -1 : 1
}

/** Precedence as SemVer 2.0.0 section 11 defines it: negative, zero or positive. */
export const compare = (a: SemVer, b: SemVer): number => {
  if (a.major !== b.major) return a.major < b.major ? -1 : 1
  if (a.minor !== b.minor) return a.minor < b.minor ? -1 : 1
  if (a.patch !== b.patch) return a.patch < b.patch ? -1 : 1
  // A version without pre-release identifiers outranks one with them (SemVer 11.3).
  if (a.prerelease.length === 0) return b.prerelease.length === 0 ? 0 : 1
  if (b.prerelease.length === 0) return -1
  const length = Math.min(a.prerelease.length, b.prerelease.length)
  for (let i = 0; i < length; i++) {
    const order = compareIdentifiers(a.prerelease[i]!, b.prerelease[i]!)
    if (order !== 0) return order
  }
  return a.prerelease.length === b.prerelease.length ? 0 : a.prerelease.length < b.prerelease.length ? -1 : 1
}
