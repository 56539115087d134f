/**
 * LunarCore LC-LOG: sensitive values never reach a log line. Keys that name secrets are masked
 * whatever their value, and values that look like credentials are masked wherever they appear.
 */
// `token(?!s)`: `max_tokens` and `tokens_used` are counts, not secrets.
const sensitiveKey = /authorization|cookie|password|passwd|secret|token(?!s)|api[-_]?key|^key$|credential|private/i

// Gateway keys, OpenAI/Anthropic keys, GitHub tokens, bearer and basic credentials.
const sensitiveValue =
  /\b(lbapi_[A-Za-z0-9_-]+|lbadmin_[A-Za-z0-9_-]+|sk-[A-Za-z0-9_-]{8,}|gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,})|((?:Bearer|Basic)\s+)[^\s"']+/g

export const mask = "[REDACTED]"

export const redactString = (value: string): string =>
  value.replace(sensitiveValue, (_match, _credential, bearer) => (bearer ? `${bearer}${mask}` : mask))

/** A deep copy of `value` with secrets masked. Cycles and depth are bounded so hostile input cannot hang it. */
export const redact = (value: unknown, depth = 0): unknown => {
  if (typeof value === "string") return redactString(value)
  if (typeof value !== "object" || value === null) return value
  if (depth > 8) return "[Truncated]"
  if (Array.isArray(value)) return value.map((item) => redact(item, depth + 1))
  if (value instanceof Error) return { name: value.name, message: redactString(value.message) }
  const out: Record<string, unknown> = {}
  for (const [key, item] of Object.entries(value)) {
    out[key] = sensitiveKey.test(key) ? mask : redact(item, depth + 1)
  }
  return out
}

// An opaque token: long, one run of key characters, letters and digits mixed. Names, versions and
// platforms in the gateway's paths are short or carry dots; a key pasted without its prefix is not.
const opaqueToken = /^(?=[^/]*[0-9])(?=[^/]*[A-Za-z])[A-Za-z0-9_+=-]{32,}$/

const decoded = (text: string): string => {
  try {
    return decodeURIComponent(text)
  } catch {
    return text
  }
}

/** Whether `text` holds a credential or is an opaque token that could be one (a key without its prefix). */
export const isKeyShaped = (text: string): boolean => redactString(text) !== text || opaqueToken.test(text)

const redactSegment = (segment: string): string => (isKeyShaped(decoded(segment)) ? mask : segment)

const redactParameter = (pair: string): string => {
  const equals = pair.indexOf("=")
  if (equals === -1) return redactSegment(pair)
  const name = pair.slice(0, equals)
  return `${name}=${sensitiveKey.test(decoded(name)) ? mask : redactSegment(pair.slice(equals + 1))}`
}

/**
 * A request target (path and optional query) fit for a log line: key-shaped path segments and
 * query values, and the values of secret-named parameters (`?api_key=`), masked. A caller who puts
 * a key in the URL by mistake must not leave it in the access log.
 */
export const redactPath = (target: string): string => {
  const query = target.indexOf("?")
  const path = (query === -1 ? target : target.slice(0, query)).split("/").map(redactSegment).join("/")
  return query === -1
    ? path
    : `${path}?${target
        .slice(query + 1)
        .split("&")
        .map(redactParameter)
        .join("&")}`
}
