import { Layer } from "effect"
import exampleCatalog from "../../../examples/catalog.json" with { type: "json" }
import * as Permissions from "../src/access/domain/Permissions.ts"
import * as DownloadStore from "../src/releases/ports/DownloadStore.ts"
import * as ReleaseSource from "../src/releases/ports/ReleaseSource.ts"
import * as Releases from "../src/releases/services/Releases.ts"
import * as Updates from "../src/releases/services/Updates.ts"

/** The services over in-memory ports holding `catalog` (the example catalog unless told otherwise). */
export const releasesLayer = (catalog: unknown = exampleCatalog) =>
  Releases.layer.pipe(Layer.provide(Layer.mergeAll(ReleaseSource.layerMemory(catalog), DownloadStore.layerMemory)))

export const updatesLayer = (catalog: unknown = exampleCatalog) =>
  Updates.layer.pipe(Layer.provideMerge(releasesLayer(catalog)))

export const admin = Permissions.admin

/** A key that may see only `projects`. */
export const restrictedTo = (...projects: ReadonlyArray<string>): Permissions.Principal => ({
  ...Permissions.admin,
  name: "k",
  isAdmin: false,
  allowedProjects: new Set(projects)
})

export const exampleProjects = ["trackly", "csviewer", "lunarbit-launcher"]
