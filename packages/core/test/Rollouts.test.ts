import { assert, describe, it, layer } from "@effect/vitest"
import { Effect } from "effect"
import type { Rollout as CatalogRollout, Version } from "../src/releases/domain/Catalog.ts"
import * as Rollout from "../src/releases/domain/Rollout.ts"
import { Rollouts } from "../src/releases/services/Rollouts.ts"
import { type UpdateCheck, Updates } from "../src/releases/services/Updates.ts"
import * as F from "./fixtures.ts"
import { admin, updatesLayer } from "./layers.ts"

const ids = (count: number) =>
  Array.from({ length: count }, (_, i) => `client-${i.toString(36)}-${(i * 7919) % 104729}`)

describe("Rollout eligibility", () => {
  it("admits within ±2 points of the percentage over 10,000 client ids", () => {
    const clients = ids(10_000)
    for (const percentage of [1, 5, 10, 25, 50, 75, 90, 99]) {
      const state = { percentage, paused: false }
      const admitted = clients.filter((id) => Rollout.admits(state, Rollout.bucketOf("trackly", "2.0.0", id))).length
      const share = (admitted / clients.length) * 100
      assert.isAtMost(Math.abs(share - percentage), 2, `${percentage}% admitted ${share.toFixed(2)}%`)
    }
  })

  it("gives the same client the same answer every time, and a larger percentage keeps those admitted", () => {
    for (const id of ids(500)) {
      const bucket = Rollout.bucketOf("trackly", "2.0.0", id)
      assert.strictEqual(Rollout.bucketOf("trackly", "2.0.0", id), bucket)
      if (Rollout.admits({ percentage: 10, paused: false }, bucket)) {
        assert.isTrue(Rollout.admits({ percentage: 20, paused: false }, bucket))
      }
    }
  })

  it("places a client differently in different versions and projects", () => {
    const clients = ids(1_000)
    const same = clients.filter(
      (id) => Rollout.bucketOf("trackly", "2.0.0", id) === Rollout.bucketOf("trackly", "2.1.0", id)
    ).length
    assert.isBelow(same, 50)
    const sameProject = clients.filter(
      (id) => Rollout.bucketOf("trackly", "2.0.0", id) === Rollout.bucketOf("csviewer", "2.0.0", id)
    ).length
    assert.isBelow(sameProject, 50)
  })

  it("leaves a client without an id outside a partial rollout, inside a complete one, and everyone out when paused", () => {
    assert.isFalse(Rollout.admits({ percentage: 99, paused: false }, undefined))
    assert.isTrue(Rollout.admits({ percentage: 100, paused: false }, undefined))
    assert.isFalse(Rollout.admits({ percentage: 100, paused: true }, 0))
    assert.isFalse(Rollout.admits({ percentage: 0, paused: false }, 0))
  })

  it("follows the catalog's schedule: the last step whose time has come applies", () => {
    const rollout: CatalogRollout = {
      percentage: 5,
      steps: [
        { at: "2026-03-03T00:00:00Z", percentage: 50 },
        { at: "2026-03-02T00:00:00Z", percentage: 20 }
      ]
    }
    const at = (iso: string) => Rollout.fromCatalog(rollout, Date.parse(iso)).percentage
    assert.strictEqual(at("2026-03-01T00:00:00Z"), 5)
    assert.strictEqual(at("2026-03-02T00:00:00Z"), 20)
    assert.strictEqual(at("2026-03-04T00:00:00Z"), 50)
    assert.deepStrictEqual(Rollout.fromCatalog(undefined, 0), Rollout.complete)
  })
})

const withRollout = (id: string, rollout?: CatalogRollout): Version => ({
  ...F.version(id),
  ...(rollout === undefined ? {} : { rollout })
})

/** 1.0.0 and 1.1.0 complete, 1.2.0 at 30%. */
const staged = F.catalog(
  F.project("app", [
    F.channel("stable", [
      withRollout("1.0.0"),
      withRollout("1.1.0", { percentage: 100 }),
      withRollout("1.2.0", { percentage: 30 })
    ])
  ])
)

const check = (currentVersion: string, clientId?: string): UpdateCheck => ({
  projectId: "app",
  channelId: "stable",
  currentVersion,
  platform: "windows",
  architecture: "x64",
  clientId
})

const offered = (currentVersion: string, clientId?: string) =>
  Effect.map(
    Effect.flatMap(Updates, (updates) => updates.check(admin, check(currentVersion, clientId))),
    (o) => (o.decision._tag === "UpdateAvailable" ? o.decision.latest.version.id : "none")
  )

const share = (clients: ReadonlyArray<string>, version: string) =>
  Effect.map(
    Effect.forEach(clients, (id) => offered("1.0.0", id)),
    (answers) => (answers.filter((a) => a === version).length / clients.length) * 100
  )

describe("Update checks under a staged rollout", () => {
  layer(updatesLayer(staged))((it) => {
    it.effect("clients inside get the new version, those outside the newest complete one", () =>
      Effect.gen(function* () {
        const percent = yield* share(ids(2_000), "1.2.0")
        assert.isAtMost(Math.abs(percent - 30), 3)
        assert.strictEqual(yield* offered("1.0.0"), "1.1.0")
        assert.strictEqual(yield* offered("1.1.0"), "none")
      })
    )

    it.effect("pausing stops every offer of the version at once, resuming brings back the same clients", () =>
      Effect.gen(function* () {
        const rollouts = yield* Rollouts
        const clients = ids(300)
        const before = yield* Effect.forEach(clients, (id) => offered("1.0.0", id))
        const paused = yield* rollouts.set(admin, "app", "stable", "1.2.0", { paused: true })
        assert.deepStrictEqual([paused.percentage, paused.paused, paused.source], [30, true, "admin"])
        const during = yield* Effect.forEach(clients, (id) => offered("1.0.0", id))
        assert.deepStrictEqual([...new Set(during)], ["1.1.0"])
        // A client already on the paused version is never offered a downgrade.
        assert.strictEqual(yield* offered("1.2.0", clients[0]), "none")
        yield* rollouts.set(admin, "app", "stable", "1.2.0", { paused: false })
        assert.deepStrictEqual(yield* Effect.forEach(clients, (id) => offered("1.0.0", id)), before)
      })
    )

    it.effect("raising the percentage to 100 reaches every client, with or without an id", () =>
      Effect.gen(function* () {
        const rollouts = yield* Rollouts
        const view = yield* rollouts.set(admin, "app", "stable", "1.2.0", { percentage: 100 })
        assert.deepStrictEqual([view.percentage, view.paused, view.updatedBy], [100, false, "admin"])
        assert.strictEqual(yield* share(ids(200), "1.2.0"), 100)
        assert.strictEqual(yield* offered("1.0.0"), "1.2.0")
      })
    )
  })
})
