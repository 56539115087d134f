import { assert, describe, layer } from "@effect/vitest"
import { Effect, type Layer } from "effect"
import { type AuditEvent, DuplicateKeyName, KeyStore, type StoredKey } from "../access/ports/KeyStore.ts"

// Every test names its keys with a fresh prefix, so the suite also runs against a store that
// already holds data (a shared database) and its tests never see each other's keys.
const uniquePrefix = () => `t${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`

const past = "2000-01-01T00:00:00.000Z"
const future = "2999-01-01T00:00:00.000Z"

/** A key with every optional field set, so a round trip shows that none is dropped. */
const fullKey = (name: string): StoredKey => ({
  name,
  description: "Every field set: ünïcode, quotes ' \" and a comma,",
  hash: `${name}-hash`,
  last4: "a1b2",
  permissions: ["canReadProjects", "canCheckUpdates", "canUseAI"],
  allowedProjects: ["trackly", "csviewer"],
  tags: ["ci", "team:release"],
  rateLimit: 250,
  createdBy: "release-manager",
  createdAt: "2026-01-02T03:04:05.678Z",
  expiresAt: future,
  revokedAt: "2026-02-03T04:05:06.789Z",
  previousHash: `${name}-older-hash`,
  previousExpiresAt: future
})

/** A key with no optional field: each must stay absent, not come back as `undefined` or `null`. */
const minimalKey = (name: string): StoredKey => ({
  name,
  description: "",
  hash: `${name}-hash`,
  last4: "zz99",
  permissions: [],
  tags: [],
  createdAt: "2026-01-02T03:04:05.678Z"
})

const optionalFields = [
  "allowedProjects",
  "rateLimit",
  "createdBy",
  "expiresAt",
  "revokedAt",
  "previousHash",
  "previousExpiresAt"
] as const

const assertNoOptionalFields = (key: StoredKey | undefined) => {
  assert.isDefined(key)
  for (const field of optionalFields) assert.isFalse(field in key!, `${field} should be absent`)
}

/**
 * The `KeyStore` contract, registered as vitest tests against the store `layer` provides. Every
 * implementation (memory, SQLite, PostgreSQL, Workers) runs it against its real backend. The layer
 * is built once for the whole suite; tests isolate themselves with unique key names and read the
 * audit log relative to what was there before.
 */
export const keyStoreSuite = <E>(name: string, storeLayer: Layer.Layer<KeyStore, E>): void => {
  layer(storeLayer, { excludeTestServices: true, timeout: "60 seconds" })(`KeyStore conformance: ${name}`, (it) => {
    describe("create and find", () => {
      it.effect("round-trips every field through findByName, findByHash and list", () =>
        Effect.gen(function* () {
          const store = yield* KeyStore
          const prefix = uniquePrefix()
          const full = fullKey(`${prefix}-full`)
          const minimal = minimalKey(`${prefix}-minimal`)
          const everyProject = { ...minimalKey(`${prefix}-empty`), allowedProjects: [] }
          yield* store.create(full)
          yield* store.create(minimal)
          yield* store.create(everyProject)

          assert.deepStrictEqual(yield* store.findByName(full.name), full)
          assert.deepStrictEqual(yield* store.findByHash(full.hash), full)
          assert.deepStrictEqual(yield* store.findByName(minimal.name), minimal)
          assertNoOptionalFields(yield* store.findByName(minimal.name))
          assertNoOptionalFields(yield* store.findByHash(minimal.hash))

          // An empty list of projects allows none; it must not turn into "every project".
          const empty = yield* store.findByName(everyProject.name)
          assert.deepStrictEqual(empty?.allowedProjects, [])

          const listed = (yield* store.list).filter((key) => key.name.startsWith(prefix))
          const byName = new Map(listed.map((key) => [key.name, key]))
          assert.strictEqual(listed.length, 3)
          assert.deepStrictEqual(byName.get(full.name), full)
          assert.deepStrictEqual(byName.get(minimal.name), minimal)
          assert.deepStrictEqual(byName.get(everyProject.name), everyProject)
        })
      )

      it.effect("answers undefined for an unknown name or hash", () =>
        Effect.gen(function* () {
          const store = yield* KeyStore
          const prefix = uniquePrefix()
          assert.isUndefined(yield* store.findByName(`${prefix}-missing`))
          assert.isUndefined(yield* store.findByHash(`${prefix}-missing-hash`))
        })
      )

      it.effect("refuses a duplicate name with DuplicateKeyName and keeps the first key", () =>
        Effect.gen(function* () {
          const store = yield* KeyStore
          const first = minimalKey(`${uniquePrefix()}-dup`)
          yield* store.create(first)
          const error = yield* Effect.flip(store.create({ ...first, hash: `${first.name}-other-hash` }))
          assert.instanceOf(error, DuplicateKeyName)
          assert.deepStrictEqual(yield* store.findByName(first.name), first)
          assert.isUndefined(yield* store.findByHash(`${first.name}-other-hash`))
        })
      )

      it.effect("lets exactly one of several concurrent creates of one name win", () =>
        Effect.gen(function* () {
          const store = yield* KeyStore
          const name = `${uniquePrefix()}-race`
          const contenders = Array.from({ length: 8 }, (_, i) => ({ ...minimalKey(name), hash: `${name}-hash-${i}` }))
          const results = yield* Effect.forEach(contenders, (key) => Effect.result(store.create(key)), {
            concurrency: "unbounded"
          })
          const winners = contenders.filter((_, i) => results[i]!._tag === "Success")
          assert.strictEqual(winners.length, 1)
          for (const result of results) {
            if (result._tag === "Failure") assert.instanceOf(result.failure, DuplicateKeyName)
          }
          assert.deepStrictEqual(yield* store.findByName(name), winners[0])
        })
      )
    })

    describe("revoke", () => {
      it.effect("answers false for an unknown name", () =>
        Effect.gen(function* () {
          const store = yield* KeyStore
          assert.isFalse(yield* store.revoke(`${uniquePrefix()}-missing`, past))
        })
      )

      it.effect("marks the key revoked and keeps the first time when revoked again", () =>
        Effect.gen(function* () {
          const store = yield* KeyStore
          const key = minimalKey(`${uniquePrefix()}-revoke`)
          yield* store.create(key)
          assert.isTrue(yield* store.revoke(key.name, "2026-03-01T00:00:00.000Z"))
          assert.isTrue(yield* store.revoke(key.name, "2026-04-01T00:00:00.000Z"))
          assert.deepStrictEqual(yield* store.findByName(key.name), { ...key, revokedAt: "2026-03-01T00:00:00.000Z" })
          // Lookups still find a revoked key: refusing it is authentication's decision, with its own error.
          assert.strictEqual((yield* store.findByHash(key.hash))?.revokedAt, "2026-03-01T00:00:00.000Z")
        })
      )
    })

    describe("rotate", () => {
      it.effect("answers undefined for an unknown name", () =>
        Effect.gen(function* () {
          const store = yield* KeyStore
          const rotation = { hash: "new", last4: "0000", previousExpiresAt: future }
          assert.isUndefined(yield* store.rotate(`${uniquePrefix()}-missing`, rotation))
        })
      )

      it.effect("accepts the new hash, and the previous one until it expires", () =>
        Effect.gen(function* () {
          const store = yield* KeyStore
          const key = fullKey(`${uniquePrefix()}-rotate`)
          yield* store.create(key)
          const rotated = yield* store.rotate(key.name, {
            hash: `${key.name}-next`,
            last4: "n3w4",
            previousExpiresAt: future
          })
          const expected: StoredKey = {
            ...key,
            hash: `${key.name}-next`,
            last4: "n3w4",
            previousHash: key.hash,
            previousExpiresAt: future
          }
          assert.deepStrictEqual(rotated, expected)
          assert.deepStrictEqual(yield* store.findByName(key.name), expected)
          assert.deepStrictEqual(yield* store.findByHash(`${key.name}-next`), expected)
          assert.deepStrictEqual(yield* store.findByHash(key.hash), expected)
          // Only the secret just replaced stays valid, not the one before it.
          assert.isUndefined(yield* store.findByHash(`${key.name}-older-hash`))
        })
      )

      it.effect("no longer accepts the previous hash once its grace period is over", () =>
        Effect.gen(function* () {
          const store = yield* KeyStore
          const key = minimalKey(`${uniquePrefix()}-expired`)
          yield* store.create(key)
          yield* store.rotate(key.name, { hash: `${key.name}-next`, last4: "n3w4", previousExpiresAt: past })
          assert.isUndefined(yield* store.findByHash(key.hash))
          assert.strictEqual((yield* store.findByHash(`${key.name}-next`))?.name, key.name)

          // A second rotation replaces the previous hash: the first secret is never valid again.
          yield* store.rotate(key.name, { hash: `${key.name}-third`, last4: "th1r", previousExpiresAt: future })
          assert.strictEqual((yield* store.findByHash(`${key.name}-next`))?.name, key.name)
          assert.strictEqual((yield* store.findByHash(`${key.name}-third`))?.name, key.name)
          assert.isUndefined(yield* store.findByHash(key.hash))
        })
      )
    })

    describe("usage", () => {
      const usageOf = (name: string) =>
        Effect.map(
          KeyStore.use((store) => store.usage),
          (all) => all.find((entry) => entry.name === name)
        )

      it.effect("adds deltas up and keeps the latest lastUsedAt", () =>
        Effect.gen(function* () {
          const store = yield* KeyStore
          const name = `${uniquePrefix()}-usage`
          yield* store.create(minimalKey(name))
          yield* store.recordUsage([
            { name, requests: 3, errors: 1, tokens: 100, lastUsedAt: "2026-05-01T10:00:00.000Z" }
          ])
          yield* store.recordUsage([
            { name, requests: 2, errors: 0, tokens: 50, lastUsedAt: "2026-05-01T09:00:00.000Z" },
            { name, requests: 1, errors: 1, tokens: 0, lastUsedAt: "2026-04-30T00:00:00.000Z" }
          ])
          assert.deepStrictEqual(yield* usageOf(name), {
            name,
            requests: 6,
            errors: 2,
            tokens: 150,
            lastUsedAt: "2026-05-01T10:00:00.000Z"
          })
          yield* store.recordUsage([
            { name, requests: 0, errors: 0, tokens: 1, lastUsedAt: "2026-05-02T00:00:00.000Z" }
          ])
          assert.strictEqual((yield* usageOf(name))?.lastUsedAt, "2026-05-02T00:00:00.000Z")
        })
      )

      it.effect("counts every one of many concurrent recordUsage calls", () =>
        Effect.gen(function* () {
          const store = yield* KeyStore
          const prefix = uniquePrefix()
          const [a, b] = [`${prefix}-a`, `${prefix}-b`]
          // Both names in every batch, in alternating order, as two instances flushing at once would.
          yield* Effect.forEach(
            Array.from({ length: 60 }, (_, i) => i),
            (i) =>
              store.recordUsage(
                (i % 2 === 0 ? [a, b] : [b, a]).map((name) => ({
                  name,
                  requests: 1,
                  errors: i % 3 === 0 ? 1 : 0,
                  tokens: 10,
                  lastUsedAt: `2026-06-01T00:00:${String(i).padStart(2, "0")}.000Z`
                }))
              ),
            { concurrency: "unbounded", discard: true }
          )
          for (const name of [a, b]) {
            assert.deepStrictEqual(yield* usageOf(name), {
              name,
              requests: 60,
              errors: 20,
              tokens: 600,
              lastUsedAt: "2026-06-01T00:00:59.000Z"
            })
          }
        })
      )

      it.effect("keeps counters by name, also for a name with no key, and lists no usage never recorded", () =>
        Effect.gen(function* () {
          const store = yield* KeyStore
          const prefix = uniquePrefix()
          yield* store.create(minimalKey(`${prefix}-idle`))
          // Usage can arrive after its key is gone (flushed late, or from another instance).
          yield* store.recordUsage([
            { name: `${prefix}-gone`, requests: 1, errors: 0, tokens: 5, lastUsedAt: "2026-07-01T00:00:00.000Z" }
          ])
          yield* store.recordUsage([])
          assert.deepStrictEqual(yield* usageOf(`${prefix}-gone`), {
            name: `${prefix}-gone`,
            requests: 1,
            errors: 0,
            tokens: 5,
            lastUsedAt: "2026-07-01T00:00:00.000Z"
          })
          assert.isUndefined(yield* usageOf(`${prefix}-idle`))
        })
      )
    })

    describe("audit", () => {
      it.effect("lists events newest first, with offset, limit and the total", () =>
        Effect.gen(function* () {
          const store = yield* KeyStore
          const prefix = uniquePrefix()
          const before = (yield* store.listAudit({ offset: 0, limit: 1 })).total
          const events: Array<AuditEvent> = [
            {
              at: "2026-08-01T00:00:00.000Z",
              action: "key.created",
              actor: "admin",
              target: `${prefix}-k`,
              requestId: `${prefix}-1`
            },
            {
              at: "2026-08-01T00:00:01.000Z",
              action: "key.rotated",
              actor: "admin",
              target: `${prefix}-k`,
              requestId: `${prefix}-2`,
              details: { previousExpiresAt: future, nested: { list: [1, "two", null], flag: true } }
            },
            {
              at: "2026-08-01T00:00:01.000Z",
              action: "admin.auth_failed",
              actor: "anonymous",
              requestId: `${prefix}-3`
            },
            {
              at: "2026-08-01T00:00:02.000Z",
              action: "key.revoked",
              actor: "ops",
              target: `${prefix}-k`,
              requestId: `${prefix}-4`
            },
            {
              at: "2026-08-01T00:00:03.000Z",
              action: "key.created",
              actor: "admin",
              target: `${prefix}-j`,
              requestId: `${prefix}-5`
            }
          ]
          for (const event of events) yield* store.appendAudit(event)
          const newestFirst = events.slice().reverse()

          const page = yield* store.listAudit({ offset: 0, limit: 5 })
          assert.strictEqual(page.total, before + 5)
          assert.deepStrictEqual(page.events, newestFirst)
          // An event without a target keeps it absent.
          assert.isFalse("target" in page.events[2]!)
          assert.isFalse("details" in page.events[0]!)

          const middle = yield* store.listAudit({ offset: 1, limit: 2 })
          assert.strictEqual(middle.total, before + 5)
          assert.deepStrictEqual(middle.events, newestFirst.slice(1, 3))

          const beyond = yield* store.listAudit({ offset: before + 5, limit: 10 })
          assert.deepStrictEqual(beyond, { events: [], total: before + 5 })
        })
      )
    })
  })
}
