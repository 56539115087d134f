import { randomBytes } from "node:crypto"
import { mkdirSync, readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"

/**
 * The admin key for a development run that has none: created once in the state directory (mode
 * 0600) and reused, so `npm start` works on a fresh clone without a secret ever being printed.
 * Production refuses to start without `API_KEY_ADMIN`.
 */
export const developmentAdminKey = (stateDir: string): { readonly key: string; readonly file: string } => {
  const file = join(stateDir, "admin-key")
  try {
    const existing = readFileSync(file, "utf8").trim()
    if (existing.length >= 32) return { key: existing, file }
  } catch {
    // No key yet: make one below.
  }
  mkdirSync(stateDir, { recursive: true, mode: 0o700 })
  const key = `lbadmin_${randomBytes(32).toString("base64url")}`
  writeFileSync(file, `${key}\n`, { mode: 0o600 })
  return { key, file }
}
