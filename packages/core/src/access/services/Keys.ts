import { Clock, Context, Effect, Layer } from "effect"
import { Forbidden, InvalidRequest, KeyExists, KeyNotFound } from "../../errors/Errors.ts"
import { isKeyShaped } from "../../logging/Redaction.ts"
import * as ApiKeyFormat from "../domain/ApiKeyFormat.ts"
import * as Delegation from "../domain/Delegation.ts"
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

/**
 * Keys and what keys may do to keys. The admin key may do anything. Any other key may create keys
 * only within its own permissions, projects and lifetime (`Delegation`), and may rotate or revoke
 * only itself and the keys it created, directly or through keys it created: never a key above it
 * or beside it.
 */
export interface KeysShape {
  readonly create: (actor: Actor, key: NewKey) => Effect.Effect<IssuedKey, InvalidRequest | KeyExists | Forbidden>
  readonly list: Effect.Effect<ReadonlyArray<StoredKey>>
  readonly revoke: (actor: Actor, name: string) => Effect.Effect<StoredKey, KeyNotFound | Forbidden>
  readonly rotate: (actor: Actor, name: string, graceMs: number) => Effect.Effect<IssuedKey, KeyNotFound | Forbidden>
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

  /** The acting key; key operations always have one (the middleware refuses anonymous callers). */
  const acting = (actor: Actor) =>
    actor.principal === undefined
      ? Effect.fail(new Forbidden({ message: "Managing keys needs an API key", details: {} }))
      : Effect.succeed(actor.principal)

  const issue = Effect.gen(function* () {
    const secret = ApiKeyFormat.generate()
    return { secret, hash: yield* authentication.hash(secret), last4: secret.slice(-4) }
  })

  const nameTaken = (name: string) =>
    new KeyExists({ message: `An API key named '${name}' already exists`, details: { name } })

  // A name shows in logs, listings and the audit trail; one that looks like a key would be masked
  // there, or be a secret pasted into the wrong field.
  const keyShapedName = () =>
    new InvalidRequest({
      message: "A key name must not look like an API key",
      details: { issues: [{ field: "body.name", message: "Looks like an API key or token; choose a plain name" }] }
    })

  const exceeds = (excess: Delegation.Excess) =>
    new Forbidden({ message: "A key may not grant more than it holds itself", details: excess })

  /** The grant `key` asks for, bounded by the acting key unless it is the admin key. */
  const bounded = (principal: Principal, key: NewKey, now: number) =>
    Effect.gen(function* () {
      const grant: Delegation.Grant = {
        permissions: key.permissions,
        allowedProjects: key.allowedProjects,
        expiresAt: key.expiresInMs === undefined ? undefined : iso(now + key.expiresInMs),
        rateLimit: key.rateLimit
      }
      if (principal.isAdmin) return grant
      const own = yield* store.findByName(principal.name)
      const outcome = Delegation.bound(principal, own?.expiresAt, grant)
      return "excess" in outcome ? yield* exceeds(outcome.excess) : outcome.grant
    })

  const create: KeysShape["create"] = (actor, key) =>
    Effect.gen(function* () {
      const principal = yield* acting(actor)
      if (reservedNames.has(key.name.toLowerCase())) return yield* nameTaken(key.name)
      if (isKeyShaped(key.name)) return yield* keyShapedName()
      const now = yield* Clock.currentTimeMillis
      const grant = yield* bounded(principal, key, now)
      const { secret, hash, last4 } = yield* issue
      const stored: StoredKey = {
        name: key.name,
        description: key.description ?? "",
        hash,
        last4,
        permissions: grant.permissions,
        allowedProjects: grant.allowedProjects,
        tags: key.tags ?? [],
        rateLimit: grant.rateLimit,
        createdBy: principal.name,
        createdAt: iso(now),
        expiresAt: grant.expiresAt
      }
      yield* store.create(stored).pipe(Effect.catch(() => Effect.fail(nameTaken(key.name))))
      yield* audit("key.created", actor, key.name, {
        permissions: grant.permissions,
        expires_at: stored.expiresAt ?? null
      })
      return { secret, stored }
    })

  const notFound = (name: string) => new KeyNotFound({ message: `No API key named '${name}'`, details: { name } })

  /** Whether `principal` may rotate or revoke `target`: the admin, the key itself, or an ancestor. */
  const owns = (principal: Principal, target: StoredKey) =>
    Effect.gen(function* () {
      if (principal.isAdmin || target.name === principal.name) return true
      let current: StoredKey | undefined = target
      for (let depth = 0; current !== undefined && depth < Delegation.maxChain; depth++) {
        const creator: string | undefined = current.createdBy
        if (creator === undefined || reservedNames.has(creator)) return false
        if (creator === principal.name) return true
        current = yield* store.findByName(creator)
      }
      return false
    })

  /** `name`'s key, when it exists and `actor` may act on it. */
  const actionable = (actor: Actor, name: string) =>
    Effect.gen(function* () {
      const principal = yield* acting(actor)
      const target = yield* store.findByName(name)
      if (target === undefined) return yield* notFound(name)
      if (!(yield* owns(principal, target))) {
        return yield* new Forbidden({
          message: "A key may rotate or revoke only itself and the keys it created",
          details: { name }
        })
      }
      return target
    })

  const revoke: KeysShape["revoke"] = (actor, name) =>
    Effect.gen(function* () {
      yield* actionable(actor, name)
      const now = yield* Clock.currentTimeMillis
      if (!(yield* store.revoke(name, iso(now)))) return yield* notFound(name)
      yield* audit("key.revoked", actor, name)
      return (yield* store.findByName(name))!
    })

  const rotate: KeysShape["rotate"] = (actor, name, graceMs) =>
    Effect.gen(function* () {
      const existing = yield* actionable(actor, name)
      if (existing.revokedAt !== undefined) return yield* notFound(name)
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
