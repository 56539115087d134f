import { Clock, Context, Effect, Layer } from "effect"
import { InvalidRequest, KeyNotFound } from "../../errors/Errors.ts"
import * as ApiKeyFormat from "../domain/ApiKeyFormat.ts"
import type { Permission, Principal } from "../domain/Permissions.ts"
import { type AuditEvent, KeyStore, type StoredKey } from "../ports/KeyStore.ts"
import { Authentication } from "./Authentication.ts"

export interface NewKey {
  readonly name: string
  readonly description?: string | undefined
  readonly permissions: ReadonlyArray<Permission>
  readonly rateLimit?: number | undefined
  /** Milliseconds until expiry; `undefined` for a key that does not expire. */
  readonly expiresInMs?: number | undefined
  readonly allowedProjects?: ReadonlyArray<string> | undefined
  readonly tags?: ReadonlyArray<string> | undefined
}

/** A key and its secret, which exists only in this answer. */
export interface IssuedKey {
  readonly secret: string
  readonly stored: StoredKey
}

/** What happened, by whom, in which request: the audit trail's context. */
export interface Actor {
  readonly principal: Principal | undefined
  readonly requestId: string
}

export interface KeysShape {
  readonly create: (actor: Actor, key: NewKey) => Effect.Effect<IssuedKey, InvalidRequest>
  readonly list: Effect.Effect<ReadonlyArray<StoredKey>>
  readonly revoke: (actor: Actor, name: string) => Effect.Effect<StoredKey, KeyNotFound>
  readonly rotate: (actor: Actor, name: string, graceMs: number) => Effect.Effect<IssuedKey, KeyNotFound>
  readonly audit: (
    action: AuditEvent["action"],
    actor: Actor,
    target?: string,
    details?: AuditEvent["details"]
  ) => Effect.Effect<void>
}

export class Keys extends Context.Service<Keys, KeysShape>()("@lunarbit/gateway-core/Keys") {}

const iso = (ms: number) => new Date(ms).toISOString()

/** Names of the configured keys (`API_KEY_ADMIN`, `API_KEY_READ`), so no stored key can pass for them. */
export const reservedNames: ReadonlySet<string> = new Set(["admin", "read"])

export const make = Effect.gen(function* () {
  const store = yield* KeyStore
  const authentication = yield* Authentication

  const audit: KeysShape["audit"] = (action, actor, target, details) =>
    Effect.flatMap(Clock.currentTimeMillis, (now) =>
      store.appendAudit({
        at: iso(now),
        action,
        actor: actor.principal?.name ?? "anonymous",
        target,
        requestId: actor.requestId,
        details
      })
    )

  const issue = Effect.gen(function* () {
    const secret = ApiKeyFormat.generate()
    return { secret, hash: yield* authentication.hash(secret), last4: secret.slice(-4) }
  })

  const nameTaken = (name: string) =>
    new InvalidRequest({
      message: `An API key named '${name}' already exists`,
      details: { issues: [{ field: "body.name", message: "This name is already taken" }] }
    })

  const create: KeysShape["create"] = (actor, key) =>
    Effect.gen(function* () {
      if (reservedNames.has(key.name.toLowerCase())) return yield* nameTaken(key.name)
      const now = yield* Clock.currentTimeMillis
      const { secret, hash, last4 } = yield* issue
      const stored: StoredKey = {
        name: key.name,
        description: key.description ?? "",
        hash,
        last4,
        permissions: key.permissions,
        allowedProjects: key.allowedProjects,
        tags: key.tags ?? [],
        rateLimit: key.rateLimit,
        createdAt: iso(now),
        expiresAt: key.expiresInMs === undefined ? undefined : iso(now + key.expiresInMs)
      }
      yield* store.create(stored).pipe(Effect.catch(() => Effect.fail(nameTaken(key.name))))
      yield* audit("key.created", actor, key.name, {
        permissions: key.permissions,
        expires_at: stored.expiresAt ?? null
      })
      return { secret, stored }
    })

  const notFound = (name: string) => new KeyNotFound({ message: `No API key named '${name}'`, details: { name } })

  const revoke: KeysShape["revoke"] = (actor, name) =>
    Effect.gen(function* () {
      const now = yield* Clock.currentTimeMillis
      if (!(yield* store.revoke(name, iso(now)))) return yield* notFound(name)
      yield* audit("key.revoked", actor, name)
      return (yield* store.findByName(name))!
    })

  const rotate: KeysShape["rotate"] = (actor, name, graceMs) =>
    Effect.gen(function* () {
      const existing = yield* store.findByName(name)
      if (existing === undefined || existing.revokedAt !== undefined) return yield* notFound(name)
      const now = yield* Clock.currentTimeMillis
      const { secret, hash, last4 } = yield* issue
      const rotated = yield* store.rotate(name, { hash, last4, previousExpiresAt: iso(now + graceMs) })
      if (rotated === undefined) return yield* notFound(name)
      yield* audit("key.rotated", actor, name, { previous_key_valid_until: rotated.previousExpiresAt })
      return { secret, stored: rotated }
    })

  return Keys.of({ create, list: store.list, revoke, rotate, audit })
})

export const layer: Layer.Layer<Keys, never, KeyStore | Authentication> = Layer.effect(Keys, make)
