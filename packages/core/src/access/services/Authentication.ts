import { Clock, Context, Effect, Layer, Option, Redacted } from "effect"
import { GatewayConfig } from "../../config/GatewayConfig.ts"
import { Unauthorized } from "../../errors/Errors.ts"
import * as ApiKeyFormat from "../domain/ApiKeyFormat.ts"
import * as KeyHash from "../domain/KeyHash.ts"
import * as Permissions from "../domain/Permissions.ts"
import { KeyStore, type StoredKey } from "../ports/KeyStore.ts"

export interface AuthenticationShape {
  /** Checks a bearer credential; the reason for a refusal is in the error's `details.reason`. */
  readonly authenticate: (credential: string) => Effect.Effect<Permissions.Principal, Unauthorized>
  /** The keyed hash a key is stored under. */
  readonly hash: (key: string) => Effect.Effect<string>
}

export class Authentication extends Context.Service<Authentication, AuthenticationShape>()(
  "@lunarbit/gateway-core/Authentication"
) {}

const refuse = (reason: string, message = "Missing or invalid API key") =>
  Effect.fail(new Unauthorized({ message, details: { reason } }))

// Longer credentials are refused unread: no key is this long, and hashing them would cost the server.
const maxCredentialLength = 512
// Token -> hash memo, bounded, so a busy key is hashed once rather than on every request.
const maxMemo = 10_000

const toPrincipal = (key: StoredKey): Permissions.Principal => ({
  name: key.name,
  permissions: new Set(key.permissions),
  allowedProjects: key.allowedProjects === undefined ? undefined : new Set(key.allowedProjects),
  rateLimit: key.rateLimit,
  isAdmin: false
})

export const make = Effect.gen(function* () {
  const config = yield* GatewayConfig
  const store = yield* KeyStore
  // Without a configured secret, keys are hashed under a random one made on first use (not while the
  // layer is built: Workers forbid random numbers at start-up). Such keys do not outlive the process.
  const configured = Option.orElse(config.keyHashSecret, () => config.adminKey)
  let secret: Promise<CryptoKey> | undefined
  const secretKey = () =>
    (secret ??= KeyHash.importSecret(
      Option.match(configured, { onNone: () => crypto.randomUUID(), onSome: Redacted.value })
    ))
  // Keys given by configuration rather than stored: the admin key, and the read-only key.
  const configuredKeys: Array<{ readonly hash: string; readonly principal: Permissions.Principal }> = []
  for (const [key, principal] of [
    [config.adminKey, Permissions.admin],
    [config.readKey, Permissions.reader]
  ] as const) {
    if (Option.isSome(key)) {
      const digest = yield* Effect.promise(async () => KeyHash.hash(await secretKey(), Redacted.value(key.value)))
      configuredKeys.push({ hash: digest, principal })
    }
  }
  const configuredKey = (digest: string) => {
    let found: Permissions.Principal | undefined
    // Every configured key is compared, so the time taken says nothing about which one matched.
    for (const candidate of configuredKeys) {
      if (KeyHash.constantTimeEqual(digest, candidate.hash)) found = candidate.principal
    }
    return found
  }

  const memo = new Map<string, string>()
  const hash = (credential: string): Effect.Effect<string> => {
    const known = memo.get(credential)
    if (known !== undefined) return Effect.succeed(known)
    return Effect.map(
      Effect.promise(async () => KeyHash.hash(await secretKey(), credential)),
      (hash) => {
        if (memo.size >= maxMemo) memo.clear()
        memo.set(credential, hash)
        return hash
      }
    )
  }

  const check = (key: StoredKey | undefined, now: number): Effect.Effect<Permissions.Principal, Unauthorized> => {
    if (key === undefined) return refuse("unknown")
    if (key.revokedAt !== undefined) return refuse("revoked", "This API key has been revoked")
    if (key.expiresAt !== undefined && Date.parse(key.expiresAt) <= now) {
      return refuse("expired", "This API key has expired")
    }
    return Effect.succeed(toPrincipal(key))
  }

  const authenticate = (credential: string): Effect.Effect<Permissions.Principal, Unauthorized> => {
    if (credential.length === 0) return refuse("missing", "Authentication required: send Authorization: Bearer <key>")
    if (credential.length > maxCredentialLength) return refuse("malformed")
    const wellFormed = ApiKeyFormat.isWellFormed(credential)
    // A mistyped gateway key is refused before any hashing or store lookup.
    if (!wellFormed && configuredKeys.length === 0) return refuse("malformed")
    return Effect.flatMap(hash(credential), (digest) => {
      const configured = configuredKey(digest)
      if (configured !== undefined) return Effect.succeed(configured)
      if (!wellFormed) return refuse("malformed")
      return Effect.flatMap(store.findByHash(digest), (key) =>
        Effect.flatMap(Clock.currentTimeMillis, (now) => check(key, now))
      )
    })
  }

  return Authentication.of({ authenticate, hash })
})

export const layer: Layer.Layer<Authentication, never, GatewayConfig | KeyStore> = Layer.effect(Authentication, make)
