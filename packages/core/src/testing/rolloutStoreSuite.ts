import { assert, layer } from "@effect/vitest"
import { Effect, type Layer } from "effect"
import { RolloutStore, type StoredRollout } from "../releases/ports/RolloutStore.ts"

// Each test works in a project of its own, so the suite runs against a store shared between tests.
const uniqueProject = (label: string) => `${label}-${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`

const rollout = (project: string, version: string, fields: Partial<StoredRollout> = {}): StoredRollout => ({
  project,
  channel: "stable",
  version,
  percentage: 25,
  paused: false,
  updatedAt: "2026-03-01T12:00:00.000Z",
  updatedBy: "admin",
  ...fields
})

/** The `RolloutStore` contract, registered as vitest tests against the store `layer` provides. */
export const rolloutStoreSuite = <E>(name: string, storeLayer: Layer.Layer<RolloutStore, E>): void => {
  layer(storeLayer, { excludeTestServices: true, timeout: "60 seconds" })(`RolloutStore conformance: ${name}`, (it) => {
    it.effect("a channel without stored states reads as empty", () =>
      Effect.gen(function* () {
        const store = yield* RolloutStore
        assert.strictEqual((yield* store.forChannel(uniqueProject("empty"), "stable")).size, 0)
      })
    )

    it.effect("returns what was put, field for field, by version id", () =>
      Effect.gen(function* () {
        const store = yield* RolloutStore
        const project = uniqueProject("roundtrip")
        const first = rollout(project, "2.0.0-beta.1+build.7", { percentage: 0, paused: true })
        const second = rollout(project, "1.9.0", { percentage: 100, updatedBy: "ops-key" })
        yield* store.put(first)
        yield* store.put(second)
        const stored = yield* store.forChannel(project, "stable")
        assert.deepStrictEqual(stored.get(first.version), first)
        assert.deepStrictEqual(stored.get(second.version), second)
        assert.strictEqual(stored.size, 2)
      })
    )

    it.effect("a put replaces the version's state", () =>
      Effect.gen(function* () {
        const store = yield* RolloutStore
        const project = uniqueProject("replace")
        yield* store.put(rollout(project, "1.0.0", { percentage: 5 }))
        const latest = rollout(project, "1.0.0", {
          percentage: 50,
          paused: true,
          updatedAt: "2026-03-02T00:00:00.000Z"
        })
        yield* store.put(latest)
        const stored = yield* store.forChannel(project, "stable")
        assert.deepStrictEqual([...stored.values()], [latest])
      })
    )

    it.effect("keeps projects and channels apart", () =>
      Effect.gen(function* () {
        const store = yield* RolloutStore
        const project = uniqueProject("apart")
        const other = uniqueProject("apart-other")
        yield* store.put(rollout(project, "1.0.0", { channel: "beta", percentage: 10 }))
        yield* store.put(rollout(other, "1.0.0", { percentage: 90 }))
        assert.strictEqual((yield* store.forChannel(project, "stable")).size, 0)
        assert.strictEqual((yield* store.forChannel(project, "beta")).get("1.0.0")?.percentage, 10)
        assert.strictEqual((yield* store.forChannel(other, "stable")).get("1.0.0")?.percentage, 90)
      })
    )

    it.effect("a change is seen by the next read: nothing is cached", () =>
      Effect.gen(function* () {
        const store = yield* RolloutStore
        const project = uniqueProject("fresh")
        yield* store.put(rollout(project, "3.0.0", { paused: false }))
        assert.isFalse((yield* store.forChannel(project, "stable")).get("3.0.0")?.paused)
        yield* store.put(rollout(project, "3.0.0", { paused: true }))
        assert.isTrue((yield* store.forChannel(project, "stable")).get("3.0.0")?.paused)
      })
    )
  })
}
