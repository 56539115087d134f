import { Context, Effect, Layer } from "effect"
import { canSeeProject, type Principal } from "../../access/domain/Permissions.ts"
import { boundedMemo } from "../../BoundedMemo.ts"
import { type ChannelNotFound, InvalidVersion, type ProjectNotFound } from "../../errors/Errors.ts"
import { isGatewayError } from "../../errors/GatewayError.ts"
import type { Build, Platform } from "../domain/Catalog.ts"
import * as Semver from "../domain/Semver.ts"
import * as UpdatePolicy from "../domain/UpdatePolicy.ts"
import { type ChannelView, Releases } from "./Releases.ts"
import { Rollouts } from "./Rollouts.ts"

/** Who asks, beyond what they run: their rollout identity and how their process runs. */
export interface ClientIdentity {
  /** `X-Client-Id` or `client_id`: places the client in staged rollouts; without it only complete ones apply. */
  readonly clientId?: string | undefined
  /** A macOS x64 process under Rosetta translation. */
  readonly translated?: boolean | undefined
}

export interface UpdateCheck extends ClientIdentity {
  readonly projectId: string
  readonly channelId: string
  readonly currentVersion: string
  readonly platform: Platform
  readonly architecture: "x64" | "arm64"
  /** The builds the asking updater can install (a feed's format); installers by default. */
  readonly accepts?: ((build: Build) => boolean) | undefined
}

export interface UpdateOutcome extends ChannelView {
  readonly currentVersion: string
  readonly decision: UpdatePolicy.UpdateDecision
}

export interface InstalledProject {
  readonly project_id: string
  readonly version: string
  readonly channel?: string | undefined
}

export interface LauncherCheck extends ClientIdentity {
  readonly launcherVersion: string
  readonly platform: Platform
  readonly architecture: "x64" | "arm64"
  readonly installed: ReadonlyArray<InstalledProject>
}

/** One installed project's answer: an outcome, or the error that concerns that project alone. */
export type InstalledOutcome =
  | { readonly _tag: "Checked"; readonly installed: InstalledProject; readonly outcome: UpdateOutcome }
  | { readonly _tag: "Failed"; readonly installed: InstalledProject; readonly code: string; readonly message: string }

export interface LauncherOutcome {
  /** `undefined` when the launcher cannot be answered for; `launcherUnavailable` says why. */
  readonly launcher: UpdateOutcome | undefined
  /** The catalog lacks the launcher's project or channel, or the key may not see the project. */
  readonly launcherUnavailable?: "not_in_catalog" | "not_visible" | undefined
  readonly launcherVersion: string
  readonly projects: ReadonlyArray<InstalledOutcome>
}

export interface UpdatesShape {
  readonly check: (
    principal: Principal,
    check: UpdateCheck
  ) => Effect.Effect<UpdateOutcome, InvalidVersion | ProjectNotFound | ChannelNotFound>
  readonly launcherCheck: (
    principal: Principal,
    check: LauncherCheck,
    launcher: { readonly projectId: string; readonly channelId: string }
  ) => Effect.Effect<LauncherOutcome, InvalidVersion>
}

export class Updates extends Context.Service<Updates, UpdatesShape>()("@lunarbit/gateway-core/Updates") {}

// The versions clients run are few: each is parsed once.
const parseRemembered = boundedMemo(Semver.parse)

const parseVersion = (field: string, input: string) => {
  const parsed = parseRemembered(input)
  return parsed === undefined
    ? Effect.fail(
        new InvalidVersion({
          message: `'${input.slice(0, 64)}' is not a valid semantic version (expected e.g. 1.2.3 or 2.0.0-beta.1)`,
          details: { field, value: input.slice(0, 256) }
        })
      )
    : Effect.succeed(parsed)
}

export const make = Effect.gen(function* () {
  const releases = yield* Releases
  const rollouts = yield* Rollouts

  // Eager combinators: over a catalog and rollout states held in memory, the answer is an `Exit`.
  const check: UpdatesShape["check"] = (principal, request) =>
    Effect.flatMapEager(parseVersion("current_version", request.currentVersion), (current) =>
      Effect.flatMapEager(releases.channel(principal, request.projectId, request.channelId), (view) =>
        Effect.mapEager(rollouts.admission(request.projectId, request.channelId, request.clientId), (admits) => ({
          ...view,
          currentVersion: request.currentVersion,
          decision: UpdatePolicy.decide(view.channel, {
            current,
            platform: request.platform,
            architecture: request.architecture,
            translated: request.translated,
            accepts: request.accepts,
            admits
          })
        }))
      )
    )

  const checkInstalled = (principal: Principal, request: LauncherCheck, installed: InstalledProject) =>
    check(principal, {
      projectId: installed.project_id,
      channelId: installed.channel ?? "stable",
      currentVersion: installed.version,
      platform: request.platform,
      architecture: request.architecture,
      clientId: request.clientId,
      translated: request.translated
    }).pipe(
      Effect.map((outcome): InstalledOutcome => ({ _tag: "Checked", installed, outcome })),
      // One bad entry must not fail the others: its error is reported in its own slot.
      Effect.catch((error) =>
        Effect.succeed<InstalledOutcome>({
          _tag: "Failed",
          installed,
          code: isGatewayError(error) ? error.code : "INTERNAL_ERROR",
          message: error.message
        })
      )
    )

  const launcherCheck: UpdatesShape["launcherCheck"] = (principal, request, launcher) =>
    Effect.gen(function* () {
      // The launcher's version is the client's own field, whatever the launcher's answer turns out to be.
      yield* parseVersion("client.launcher_version", request.launcherVersion)
      const projects = yield* Effect.forEach(request.installed, (installed) =>
        checkInstalled(principal, request, installed)
      )
      const launcherOutcome = yield* check(principal, {
        projectId: launcher.projectId,
        channelId: launcher.channelId,
        currentVersion: request.launcherVersion,
        platform: request.platform,
        architecture: request.architecture,
        clientId: request.clientId,
        translated: request.translated
      }).pipe(
        Effect.map((outcome): UpdateOutcome | undefined => outcome),
        // An unconfigured or hidden launcher is no reason to refuse the projects' answers.
        Effect.catchTags({ ProjectNotFound: () => Effect.undefined, ChannelNotFound: () => Effect.undefined })
      )
      if (launcherOutcome !== undefined) {
        return { launcher: launcherOutcome, launcherVersion: request.launcherVersion, projects }
      }
      return {
        launcher: undefined,
        launcherUnavailable: canSeeProject(principal, launcher.projectId) ? "not_in_catalog" : "not_visible",
        launcherVersion: request.launcherVersion,
        projects
      }
    })

  return Updates.of({ check, launcherCheck })
})

export const layer: Layer.Layer<Updates, never, Releases | Rollouts> = Layer.effect(Updates, make)
