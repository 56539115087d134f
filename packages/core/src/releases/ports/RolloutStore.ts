import { Context, Effect, Layer } from "effect"
import type { RolloutState } from "../domain/Rollout.ts"

/** One version's rollout as set at run time through the admin endpoints. */
export interface StoredRollout extends RolloutState {
  readonly project: string
  readonly channel: string
  /** The version's id as the catalog writes it. */
  readonly version: string
  /** ISO 8601. */
  readonly updatedAt: string
  /** The name of the key that made the change. */
  readonly updatedBy: string
}

/**
 * Rollout states set at run time; they replace the catalog's rollout of their version. Every
 * instance of a deployment reads the same store (the `Rollouts` service at most once a second per
 * channel), so a pause reaches all of them within a second: implementations read their backend,
 * they do not cache.
 */
export interface RolloutStoreShape {
  /** The stored states of one channel, by version id. */
  readonly forChannel: (project: string, channel: string) => Effect.Effect<ReadonlyMap<string, StoredRollout>>
  /** Creates or replaces the state of `rollout.version`. */
  readonly put: (rollout: StoredRollout) => Effect.Effect<void>
}

export class RolloutStore extends Context.Service<RolloutStore, RolloutStoreShape>()(
  "@lunarbit/gateway-core/RolloutStore"
) {}

const channelKey = (project: string, channel: string) => `${project}\u0000${channel}`

/** States held in this process: for tests, embedders and single-instance deployments. */
export const makeMemory = (): RolloutStoreShape => {
  const channels = new Map<string, Map<string, StoredRollout>>()
  return {
    forChannel: (project, channel) => Effect.sync(() => new Map(channels.get(channelKey(project, channel)) ?? [])),
    put: (rollout) =>
      Effect.sync(() => {
        const key = channelKey(rollout.project, rollout.channel)
        const versions = channels.get(key) ?? new Map<string, StoredRollout>()
        versions.set(rollout.version, rollout)
        channels.set(key, versions)
      })
  }
}

export const layerMemory: Layer.Layer<RolloutStore> = Layer.sync(RolloutStore, makeMemory)
