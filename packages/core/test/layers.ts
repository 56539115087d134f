import { Layer } from "effect"
import exampleCatalog from "../../../examples/catalog.json" with { type: "json" }
import * as Permissions from "../src/access/domain/Permissions.ts"
import * as DownloadStore from "../src/releases/ports/DownloadStore.ts"
import * as ReleaseSource from "../src/releases/ports/ReleaseSource.ts"
import * as RolloutStore from "../src/releases/ports/RolloutStore.ts"
import * as Releases from "../src/releases/services/Releases.ts"
import * as Rollouts from "../src/releases/services/Rollouts.ts"
import * as Updates from "../src/releases/services/Updates.ts"

/** The services over in-memory ports holding `catalog` (the example catalog unless told otherwise). */
export const releasesLayer = (catalog: unknown = exampleCatalog) =>
  Releases.layer.pipe(Layer.provide(Layer.mergeAll(ReleaseSource.layerMemory(catalog), DownloadStore.layerMemory)))

/** Updates and Rollouts over `releasesLayer`, with the rollout states in `rollouts` (a fresh memory store by default). */
export const updatesLayer = (
  catalog: unknown = exampleCatalog,
  rollouts: Layer.Layer<RolloutStore.RolloutStore> = RolloutStore.layerMemory
) =>
  Updates.layer.pipe(
    Layer.provideMerge(Rollouts.layer),
    Layer.provideMerge(releasesLayer(catalog)),
    Layer.provideMerge(rollouts)
  )

export const admin = Permissions.admin

/** A key that may see only `projects`. */
export const restrictedTo = (...projects: ReadonlyArray<string>): Permissions.Principal => ({
  ...Permissions.admin,
  name: "k",
  isAdmin: false,
  allowedProjects: new Set(projects)
})

export const exampleProjects = ["trackly", "csviewer", "lunarbit-launcher"]
