import { Clock, Context, Effect, Exit, Layer, Option, Redacted } from "effect"
import { GatewayConfig } from "../../config/GatewayConfig.ts"
import { ServiceUnavailable, Unauthorized } from "../../errors/Errors.ts"
import * as ApiKeyFormat from "../domain/ApiKeyFormat.ts"
import * as KeyHash from "../domain/KeyHash.ts"
import * as Permissions from "../domain/Permissions.ts"
import { KeyStore, type StoredKey } from "../ports/KeyStore.ts"

export interface AuthenticationShape {
  /**
   * Checks a bearer credential; the reason for a refusal is in the error's `details.reason`. A key
   * checked within the last second answers from memory, as an `Exit` (no fiber needed), and one in
   * use is checked again in the background before its second is up; a key store that cannot be
   * reached is a 503, except for keys already validated, which keep working.
   */
  readonly authenticate: (credential: string) => Effect.Effect<Permissions.Principal, Unauthorized | ServiceUnavailable>
  /** The keyed hash a key is stored under. */
  readonly hash: (key: string) => Effect.Effect<string>
  /** Drops what is remembered of the key named, when it is revoked or rotated through this instance. */
  readonly forget: (name: string) => void
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
// A verified key is looked up again after this long, so a revocation or rotation made through another
// instance sharing the store takes effect everywhere within it.
const verifiedForMs = 1_000
// A key in use is looked up again in the background once its answer is this old, while that answer
// still stands: its requests keep being answered from memory, with one lookup in flight per key,
// rather than each waiting on its own lookup once the second has passed.
const refreshAfterMs = 500
// While the key store cannot be reached, keys verified within this long keep working.
const outageGraceMs = 5 * 60_000
// A key store slower than this is treated as unreachable for the request.
const lookupTimeout = "2 seconds"
const retryAfterSeconds = 5

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
  const clock = yield* Clock.Clock
  const runFork = Effect.runForkWith(yield* Effect.context<never>())
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

  // Hash -> the store's answer and when it was read. Unknown hashes are remembered too, so a flood of
  // made-up keys costs one lookup per second each rather than one per request; bounded like the memo.
  const verified = new Map<
    string,
    {
      readonly outcome: Effect.Effect<Permissions.Principal, Unauthorized>
      readonly name: string | undefined
      readonly checkedAt: number
      readonly expiresAt: number | undefined
    }
  >()
  const remember = (digest: string, key: StoredKey | undefined, now: number) => {
    if (verified.size >= maxMemo) verified.clear()
    const outcome = check(key, now)
    verified.set(digest, {
      outcome,
      name: key?.name,
      checkedAt: now,
      expiresAt: key?.expiresAt === undefined ? undefined : Date.parse(key.expiresAt)
    })
    return outcome
  }
  const forget = (name: string) => {
    for (const [digest, entry] of verified) if (entry.name === name) verified.delete(digest)
  }

  const unavailable = new ServiceUnavailable({
    message: "The key store cannot be reached; retry shortly",
    details: { retry_after: retryAfterSeconds }
  })

  const lookup = (
    digest: string,
    now: number
  ): Effect.Effect<Permissions.Principal, Unauthorized | ServiceUnavailable> =>
    Effect.flatMap(
      Effect.exit(Effect.timeout(store.findByHash(digest), lookupTimeout)),
      (exit): Effect.Effect<Permissions.Principal, Unauthorized | ServiceUnavailable> => {
        if (Exit.isSuccess(exit)) return remember(digest, exit.value, now)
        const known = verified.get(digest)
        if (known === undefined || now - known.checkedAt >= outageGraceMs) return Effect.fail(unavailable)
        if (known.expiresAt !== undefined && known.expiresAt <= now)
          return refuse("expired", "This API key has expired")
        return known.outcome
      }
    )

  const refreshing = new Set<string>()
  const refresh = (digest: string, now: number) => {
    if (refreshing.has(digest)) return
    refreshing.add(digest)
    runFork(
      Effect.ensuring(
        Effect.ignore(lookup(digest, now)),
        Effect.sync(() => refreshing.delete(digest))
      )
    )
  }

  const fromStore = (digest: string): Effect.Effect<Permissions.Principal, Unauthorized | ServiceUnavailable> => {
    const now = clock.currentTimeMillisUnsafe()
    const known = verified.get(digest)
    if (known === undefined || now - known.checkedAt >= verifiedForMs) return lookup(digest, now)
    if (known.expiresAt !== undefined && known.expiresAt <= now) return refuse("expired", "This API key has expired")
    if (now - known.checkedAt >= refreshAfterMs) refresh(digest, now)
    return known.outcome
  }

  const authenticate = (
    credential: string
  ): Effect.Effect<Permissions.Principal, Unauthorized | ServiceUnavailable> => {
    if (credential.length === 0) return refuse("missing", "Authentication required: send Authorization: Bearer <key>")
    if (credential.length > maxCredentialLength) return refuse("malformed")
    const wellFormed = ApiKeyFormat.isWellFormed(credential)
    // A mistyped gateway key is refused before any hashing or store lookup.
    if (!wellFormed && configuredKeys.length === 0) return refuse("malformed")
    const decide = (digest: string) => {
      const configured = configuredKey(digest)
      if (configured !== undefined) return Effect.succeed(configured)
      if (!wellFormed) return refuse("malformed")
      return fromStore(digest)
    }
    // A credential seen before is decided without running an effect.
    const digest = memo.get(credential)
    return digest === undefined ? Effect.flatMap(hash(credential), decide) : decide(digest)
  }

  return Authentication.of({ authenticate, hash, forget })
})

export const layer: Layer.Layer<Authentication, never, GatewayConfig | KeyStore> = Layer.effect(Authentication, make)

/**
 * The key store as the key-management service should see it: revoking or rotating a key through
 * this instance also drops what `Authentication` remembers of it, so the change applies at once here
 * (and within a second on every other instance).
 */
export const forgetOnChange: Layer.Layer<KeyStore, never, KeyStore | Authentication> = Layer.effect(
  KeyStore,
  Effect.gen(function* () {
    const store = yield* KeyStore
    const authentication = yield* Authentication
    return KeyStore.of({
      ...store,
      revoke: (name, at) => Effect.tap(store.revoke(name, at), () => Effect.sync(() => authentication.forget(name))),
      rotate: (name, rotation) =>
        Effect.tap(store.rotate(name, rotation), () => Effect.sync(() => authentication.forget(name)))
    })
  })
)
