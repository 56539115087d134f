import type { Rollout } from "./Catalog.ts"

/** Where a version's rollout stands: the share of clients offered it and whether it is stopped. */
export interface RolloutState {
  readonly percentage: number
  readonly paused: boolean
}

/** A version without a rollout reaches everyone. */
export const complete: RolloutState = { percentage: 100, paused: false }

/**
 * The state the catalog gives a version at `now` (epoch milliseconds): its percentage raised by
 * every step whose time has come. A state stored at run time replaces it (see `RolloutStore`).
 */
export const fromCatalog = (rollout: Rollout | undefined, now: number): RolloutState => {
  if (rollout === undefined) return complete
  let percentage = rollout.percentage
  let latestStep = Number.NEGATIVE_INFINITY
  for (const step of rollout.steps ?? []) {
    const at = Date.parse(step.at)
    if (at <= now && at >= latestStep) {
      latestStep = at
      percentage = step.percentage
    }
  }
  return { percentage, paused: rollout.paused ?? false }
}

// FNV-1a over UTF-16 code units, then murmur3's finaliser: FNV alone leaves the low bits, which
// `mod 100` reads, poorly mixed for ids that differ only in their last characters.
const hash32 = (text: string): number => {
  let h = 0x811c9dc5
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i)
    h = Math.imul(h, 0x01000193)
  }
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b)
  h ^= h >>> 13
  h = Math.imul(h, 0xc2b2ae35)
  h ^= h >>> 16
  return h >>> 0
}

/**
 * The client's place in a version's rollout, 0 to 99: `hash(project, version, client id) mod 100`.
 * It is fixed per version, so a client admitted at 10% stays admitted at 20%, and differs between
 * versions, so the same clients are not always the first to receive a release.
 */
export const bucketOf = (projectId: string, versionId: string, clientId: string): number =>
  hash32(`${projectId}\u0000${versionId}\u0000${clientId}`) % 100

/**
 * Whether a client is offered a version. A paused rollout offers it to no one; a partial one only to
 * clients that identify themselves and fall inside the percentage.
 */
export const admits = (state: RolloutState, bucket: number | undefined): boolean =>
  !state.paused && (state.percentage >= 100 || (bucket !== undefined && bucket < state.percentage))
