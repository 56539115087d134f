import { Clock, Context, DateTime, Effect, Layer } from "effect"
import type { Principal } from "../../access/domain/Permissions.ts"
import type { ChannelNotFound, ProjectNotFound, VersionNotFound } from "../../errors/Errors.ts"
import type { IndexedVersion } from "../domain/CatalogIndex.ts"
import * as Rollout from "../domain/Rollout.ts"
import { RolloutStore, type StoredRollout } from "../ports/RolloutStore.ts"
import { Releases } from "./Releases.ts"

/** A version's rollout as it applies now, and where that state comes from. */
export interface RolloutView extends Rollout.RolloutState {
  readonly project: string
  readonly channel: string
  readonly version: string
  /** `catalog` (its rollout and schedule, or none: 100%) or `admin` (set at run time). */
  readonly source: "catalog" | "admin"
  readonly updatedAt?: string | undefined
  readonly updatedBy?: string | undefined
}

/** A change asked through the admin endpoint; an absent field keeps its current value. */
export interface RolloutChange {
  readonly percentage?: number | undefined
  readonly paused?: boolean | undefined
}

type Missing = ProjectNotFound | ChannelNotFound | VersionNotFound

export interface RolloutsShape {
  /**
   * A channel's admission test for one client: whether a version's rollout offers it to the
   * client with this id (`undefined`: the client did not identify itself).
   */
  readonly admission: (
    projectId: string,
    channelId: string,
    clientId: string | undefined
  ) => Effect.Effect<(version: IndexedVersion) => boolean>
  /** The state a version's rollout has now (for electron-updater's `stagingPercentage`). */
  readonly state: (projectId: string, channelId: string, version: IndexedVersion) => Effect.Effect<Rollout.RolloutState>
  readonly get: (
    principal: Principal,
    projectId: string,
    channelId: string,
    versionId: string
  ) => Effect.Effect<RolloutView, Missing>
  readonly set: (
    principal: Principal,
    projectId: string,
    channelId: string,
    versionId: string,
    change: RolloutChange
  ) => Effect.Effect<RolloutView, Missing>
}

export class Rollouts extends Context.Service<Rollouts, RolloutsShape>()("@lunarbit/gateway-core/Rollouts") {}

const view = (
  projectId: string,
  channelId: string,
  version: IndexedVersion,
  stored: StoredRollout | undefined,
  now: number
): RolloutView =>
  stored === undefined
    ? {
        project: projectId,
        channel: channelId,
        version: version.version.id,
        source: "catalog",
        ...Rollout.fromCatalog(version.version.rollout, now)
      }
    : {
        project: projectId,
        channel: channelId,
        version: version.version.id,
        source: "admin",
        percentage: stored.percentage,
        paused: stored.paused,
        updatedAt: stored.updatedAt,
        updatedBy: stored.updatedBy
      }

/**
 * How long a channel's stored states are reused before the store is read again. Every update check
 * needs them; one read a second per channel keeps the store off the request path, and a change made
 * on another instance reaches this one within that second (a change made here, at once).
 */
export const storeReadIntervalMs = 1_000

export const make = Effect.gen(function* () {
  const releases = yield* Releases
  const rolloutStore = yield* RolloutStore
  const clock = yield* Clock.Clock
  const recent = new Map<string, { readonly at: number; readonly states: ReadonlyMap<string, StoredRollout> }>()
  const channelKey = (project: string, channel: string) => `${project}\u0000${channel}`
  const store = {
    // States read within the interval answer as an `Exit`, so update checks over them stay eager.
    forChannel: (project: string, channel: string): Effect.Effect<ReadonlyMap<string, StoredRollout>> => {
      const now = clock.currentTimeMillisUnsafe()
      const key = channelKey(project, channel)
      const held = recent.get(key)
      if (held !== undefined && now - held.at < storeReadIntervalMs) return Effect.succeed(held.states)
      return Effect.map(rolloutStore.forChannel(project, channel), (states) => {
        // A bound on the channels held: past it, every channel is read afresh once.
        if (recent.size > 10_000) recent.clear()
        recent.set(key, { at: now, states })
        return states
      })
    },
    put: (rollout: StoredRollout) =>
      Effect.ensuring(
        rolloutStore.put(rollout),
        Effect.sync(() => recent.delete(channelKey(rollout.project, rollout.channel)))
      )
  }

  const admission: RolloutsShape["admission"] = (projectId, channelId, clientId) =>
    Effect.mapEager(store.forChannel(projectId, channelId), (stored) => {
      const now = clock.currentTimeMillisUnsafe()
      return (version: IndexedVersion) => {
        const state = stored.get(version.version.id) ?? Rollout.fromCatalog(version.version.rollout, now)
        if (Rollout.admits(state, undefined)) return true
        return (
          clientId !== undefined && Rollout.admits(state, Rollout.bucketOf(projectId, version.version.id, clientId))
        )
      }
    })

  const state: RolloutsShape["state"] = (projectId, channelId, version) =>
    Effect.mapEager(
      store.forChannel(projectId, channelId),
      (stored) =>
        stored.get(version.version.id) ?? Rollout.fromCatalog(version.version.rollout, clock.currentTimeMillisUnsafe())
    )

  const get: RolloutsShape["get"] = (principal, projectId, channelId, versionId) =>
    Effect.gen(function* () {
      const found = yield* releases.version(principal, projectId, channelId, versionId)
      const stored = yield* store.forChannel(projectId, channelId)
      return view(
        projectId,
        channelId,
        found.version,
        stored.get(found.version.version.id),
        yield* Clock.currentTimeMillis
      )
    })

  const set: RolloutsShape["set"] = (principal, projectId, channelId, versionId, change) =>
    Effect.gen(function* () {
      const current = yield* get(principal, projectId, channelId, versionId)
      const stored: StoredRollout = {
        project: projectId,
        channel: channelId,
        version: current.version,
        percentage: change.percentage ?? current.percentage,
        paused: change.paused ?? current.paused,
        updatedAt: DateTime.formatIso(yield* DateTime.now),
        updatedBy: principal.name
      }
      yield* store.put(stored)
      return { ...current, ...stored, source: "admin" as const }
    })

  return Rollouts.of({ admission, state, get, set })
})

export const layer: Layer.Layer<Rollouts, never, Releases | RolloutStore> = Layer.effect(Rollouts, make)
