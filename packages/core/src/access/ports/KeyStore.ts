import { Context, Effect, Layer } from "effect"
import type { Permission } from "../domain/Permissions.ts"

/** A key as it is stored: never the secret itself, only its keyed hash. */
export interface StoredKey {
  readonly name: string
  readonly description: string
  /** HMAC-SHA-256 of the key, hex. */
  readonly hash: string
  /** Last four characters of the key, for the masked form shown by `GET /admin/keys`. */
  readonly last4: string
  readonly permissions: ReadonlyArray<Permission>
  /** `undefined` means every project. */
  readonly allowedProjects?: ReadonlyArray<string> | undefined
  readonly tags: ReadonlyArray<string>
  /** Requests per rate-limit window; `undefined` means the default per-key limit. */
  readonly rateLimit?: number | undefined
  /**
   * The name of the key that created this one (`admin` for the admin key); `undefined` for keys
   * stored before creators were recorded, which count as the admin's.
   */
  readonly createdBy?: string | undefined
  /** ISO 8601 timestamps. */
  readonly createdAt: string
  readonly expiresAt?: string | undefined
  readonly revokedAt?: string | undefined
  /** During a rotation: the previous secret's hash, still accepted until `previousExpiresAt`. */
  readonly previousHash?: string | undefined
  readonly previousExpiresAt?: string | undefined
}

/** Usage to add to a key's counters. */
export interface UsageDelta {
  readonly name: string
  readonly requests: number
  readonly errors: number
  readonly tokens: number
  /** ISO 8601; the later of the stored and given values is kept. */
  readonly lastUsedAt: string
}

export interface KeyUsage {
  readonly name: string
  readonly requests: number
  readonly errors: number
  readonly tokens: number
  readonly lastUsedAt?: string | undefined
}

/** One audit record: who did what to which key, when, in which request. */
export interface AuditEvent {
  readonly at: string
  readonly action: "key.created" | "key.rotated" | "key.revoked" | "admin.auth_failed" | "rollout.changed"
  /** The principal's key name, or `anonymous`. */
  readonly actor: string
  /** The key acted on, when there is one. */
  readonly target?: string | undefined
  readonly requestId: string
  readonly details?: Readonly<Record<string, unknown>> | undefined
}

/** A key with this name exists already. */
export class DuplicateKeyName extends Error {
  override readonly name = "DuplicateKeyName"
}

/**
 * Persistent API keys, their usage counters and the audit log. Lookups are by hash, so the store
 * never sees a plaintext key. Implementations must make `create` atomic with respect to names and
 * `recordUsage` additive (two instances flushing concurrently both count).
 */
export interface KeyStoreShape {
  /** The key whose current hash, or previous hash within its grace period, is `hash`. */
  readonly findByHash: (hash: string) => Effect.Effect<StoredKey | undefined>
  readonly findByName: (name: string) => Effect.Effect<StoredKey | undefined>
  readonly list: Effect.Effect<ReadonlyArray<StoredKey>>
  readonly create: (key: StoredKey) => Effect.Effect<void, DuplicateKeyName>
  /** Marks a key revoked; `false` when no key has this name. Revoking twice keeps the first time. */
  readonly revoke: (name: string, at: string) => Effect.Effect<boolean>
  /** Replaces the key's hash, keeping the old one valid until `previousExpiresAt`; `undefined` when no such key. */
  readonly rotate: (
    name: string,
    rotation: { readonly hash: string; readonly last4: string; readonly previousExpiresAt: string }
  ) => Effect.Effect<StoredKey | undefined>
  readonly recordUsage: (deltas: ReadonlyArray<UsageDelta>) => Effect.Effect<void>
  readonly usage: Effect.Effect<ReadonlyArray<KeyUsage>>
  readonly appendAudit: (event: AuditEvent) => Effect.Effect<void>
  /** Newest first. */
  readonly listAudit: (options: { readonly offset: number; readonly limit: number }) => Effect.Effect<{
    readonly events: ReadonlyArray<AuditEvent>
    readonly total: number
  }>
}

export class KeyStore extends Context.Service<KeyStore, KeyStoreShape>()("@lunarbit/gateway-core/KeyStore") {}

/** Whether `hash` is the key's previous secret and still inside its grace period at `now` (epoch ms). */
export const matchesPrevious = (key: StoredKey, hash: string, now: number): boolean =>
  key.previousHash === hash && key.previousExpiresAt !== undefined && Date.parse(key.previousExpiresAt) > now

export const makeMemory = (keys: Iterable<StoredKey> = [], clock: () => number = Date.now): KeyStoreShape => {
  const byName = new Map<string, StoredKey>()
  for (const key of keys) byName.set(key.name, key)
  const usage = new Map<string, KeyUsage>()
  const audit: Array<AuditEvent> = []
  return {
    findByHash: (hash) =>
      Effect.sync(() => {
        for (const key of byName.values()) {
          if (key.hash === hash || matchesPrevious(key, hash, clock())) return key
        }
        return undefined
      }),
    findByName: (name) => Effect.sync(() => byName.get(name)),
    list: Effect.sync(() => [...byName.values()]),
    create: (key) =>
      Effect.suspend(() => {
        if (byName.has(key.name)) return Effect.fail(new DuplicateKeyName(key.name))
        byName.set(key.name, key)
        return Effect.void
      }),
    revoke: (name, at) =>
      Effect.sync(() => {
        const key = byName.get(name)
        if (key === undefined) return false
        if (key.revokedAt === undefined) byName.set(name, { ...key, revokedAt: at })
        return true
      }),
    rotate: (name, rotation) =>
      Effect.sync(() => {
        const key = byName.get(name)
        if (key === undefined) return undefined
        const rotated: StoredKey = {
          ...key,
          hash: rotation.hash,
          last4: rotation.last4,
          previousHash: key.hash,
          previousExpiresAt: rotation.previousExpiresAt
        }
        byName.set(name, rotated)
        return rotated
      }),
    recordUsage: (deltas) =>
      Effect.sync(() => {
        for (const delta of deltas) {
          const current = usage.get(delta.name)
          usage.set(delta.name, {
            name: delta.name,
            requests: (current?.requests ?? 0) + delta.requests,
            errors: (current?.errors ?? 0) + delta.errors,
            tokens: (current?.tokens ?? 0) + delta.tokens,
            lastUsedAt:
              current?.lastUsedAt !== undefined && current.lastUsedAt > delta.lastUsedAt
                ? current.lastUsedAt
                : delta.lastUsedAt
          })
        }
      }),
    usage: Effect.sync(() => [...usage.values()]),
    appendAudit: (event) => Effect.sync(() => void audit.push(event)),
    listAudit: ({ offset, limit }) =>
      Effect.sync(() => ({
        events: audit
          .slice()
          .reverse()
          .slice(offset, offset + limit),
        total: audit.length
      }))
  }
}

export const layerMemory = (keys: Iterable<StoredKey> = []): Layer.Layer<KeyStore> =>
  Layer.sync(KeyStore, () => makeMemory(keys))
