import { mkdirSync, readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { ApiKeyFormat, type GatewayConfig } from "@lunarbit/gateway-core"
import { Effect, Redacted } from "effect"

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
  // The shape of every gateway key, so secret scanners and the log redaction recognise it too.
  const key = ApiKeyFormat.generate()
  writeFileSync(file, `${key}\n`, { mode: 0o600 })
  return { key, file }
}

/** Shorter admin keys can be guessed or were typed by hand; development may use one anyway. */
export const minimumLength = 32

/** Succeeds with `value` when the configured admin key is long enough, or the run is a development one. */
export const requireStrongAdminKey = <A>(config: GatewayConfig.GatewayConfigShape, value: A) =>
  config.nodeEnv === "development" ||
  config.adminKey._tag === "None" ||
  Redacted.value(config.adminKey.value).length >= minimumLength
    ? Effect.succeed(value)
    : Effect.fail(
        new Error(
          `API_KEY_ADMIN must be at least ${minimumLength} characters when NODE_ENV=${config.nodeEnv} (generate one with: openssl rand -base64 32)`
        )
      )
