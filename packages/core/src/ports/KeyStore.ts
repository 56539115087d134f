import { Context, Effect, Layer } from "effect"
import type { Permission } from "../domain/Permissions.ts"

/** A key as it is stored: never the secret itself, only its keyed hash. */
export interface StoredKey {
  readonly name: string
  /** HMAC-SHA-256 of the key, hex. */
  readonly hash: string
  readonly permissions: ReadonlyArray<Permission>
  readonly allowedProjects?: ReadonlyArray<string> | undefined
  readonly rateLimit?: number | undefined
  readonly expiresAt?: string | undefined
  readonly revokedAt?: string | undefined
}

/** Persistent API keys. Lookups are by hash, so the store never sees a plaintext key. */
export interface KeyStoreShape {
  readonly findByHash: (hash: string) => Effect.Effect<StoredKey | undefined>
}

export class KeyStore extends Context.Service<KeyStore, KeyStoreShape>()("@lunarbit/gateway-core/KeyStore") {}

export const makeMemory = (keys: Iterable<StoredKey> = []): KeyStoreShape => {
  const byHash = new Map<string, StoredKey>()
  for (const key of keys) byHash.set(key.hash, key)
  return { findByHash: (hash) => Effect.sync(() => byHash.get(hash)) }
}

export const layerMemory = (keys: Iterable<StoredKey> = []): Layer.Layer<KeyStore> =>
  Layer.sync(KeyStore, () => makeMemory(keys))
