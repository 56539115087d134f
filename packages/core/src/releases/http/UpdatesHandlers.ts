import { Effect } from "effect"
import { HttpApiBuilder } from "effect/http-api"
import { CurrentPrincipal } from "../../access/http/Middleware.ts"
import { GatewayConfig } from "../../config/GatewayConfig.ts"
import { Api } from "../../http/Api.ts"
import * as Direct from "../../http/Direct.ts"
import { type UpdateOutcome, Updates } from "../services/Updates.ts"
import * as ClientIdentity from "./ClientIdentity.ts"

const upToDateMessage = "You are running the latest version"

/** The spec's two answers of an update check. */
export const presentOutcome = (outcome: UpdateOutcome) => {
  // The answer is a function of the build offered (or the latest version) and the version the
  // client runs: the same object is answered for as long as the catalog snapshot lives, and the
  // direct lane serialises it once.
  const { decision } = outcome
  const anchor = decision._tag === "UpdateAvailable" ? decision.build : (decision.latest ?? outcome.channel)
  let answers = presented.get(anchor)
  if (answers === undefined) {
    answers = new Map()
    presented.set(anchor, answers)
  }
  const known = answers.get(outcome.currentVersion)
  if (known !== undefined) return known
  const answer = present(outcome)
  if (answers.size >= 256) answers.clear()
  answers.set(outcome.currentVersion, answer)
  return answer
}

const presented = new WeakMap<object, Map<string, ReturnType<typeof present>>>()

const present = (outcome: UpdateOutcome) => {
  const { decision } = outcome
  if (decision._tag === "UpdateAvailable") {
    const { version } = decision.latest
    return {
      update_available: true as const,
      current_version: outcome.currentVersion,
      latest_version: version.id,
      breaking_changes: decision.breakingChanges,
      release_notes: version.release_notes ?? "",
      download_url: decision.build.download_url,
      file_size: decision.build.file_size,
      checksum: decision.build.checksum ?? {},
      published_at: version.published_at
    }
  }
  return {
    update_available: false as const,
    current_version: outcome.currentVersion,
    latest_version: decision.latest?.version.id ?? outcome.currentVersion,
    message: upToDateMessage
  }
}

export const UpdatesHandlers = HttpApiBuilder.group(Api, "updates", (handlers) =>
  Effect.gen(function* () {
    const updates = yield* Updates
    const config = yield* GatewayConfig
    const launcher = { projectId: config.launcherProjectId, channelId: config.launcherChannel }
    return handlers
      .handle(
        "checkUpdate",
        Direct.handler(({ params, query, headers }, principal) =>
          Effect.mapEager(
            updates.check(principal, {
              projectId: params.projectId,
              channelId: params.channelId,
              currentVersion: query.current_version,
              platform: query.platform,
              architecture: query.architecture,
              ...ClientIdentity.fromRequest(headers, query)
            }),
            presentOutcome
          )
        )
      )
      .handle("launcherCheck", ({ payload, query, headers }) =>
        Effect.gen(function* () {
          const principal = yield* CurrentPrincipal
          const outcome = yield* updates.launcherCheck(
            principal,
            {
              launcherVersion: payload.client.launcher_version,
              platform: payload.client.os,
              architecture: payload.client.architecture,
              installed: payload.installed,
              ...ClientIdentity.fromRequest(headers, query)
            },
            launcher
          )
          const projectUpdates = outcome.projects.map((item) => {
            if (item._tag === "Failed") {
              return {
                project_id: item.installed.project_id,
                update_available: false,
                current_version: item.installed.version,
                error: { code: item.code, message: item.message }
              }
            }
            const answer = presentOutcome(item.outcome)
            return answer.update_available
              ? {
                  project_id: item.installed.project_id,
                  update_available: true,
                  current_version: answer.current_version,
                  latest_version: answer.latest_version,
                  breaking_changes: answer.breaking_changes,
                  download_url: answer.download_url,
                  file_size: answer.file_size,
                  checksum: answer.checksum
                }
              : {
                  project_id: item.installed.project_id,
                  update_available: false,
                  current_version: answer.current_version,
                  latest_version: answer.latest_version
                }
          })
          const launcherAnswer = outcome.launcher === undefined ? undefined : presentOutcome(outcome.launcher)
          const launcherUpdate = launcherAnswer?.update_available
            ? {
                available: true,
                current: outcome.launcherVersion,
                latest: launcherAnswer.latest_version,
                breaking_changes: launcherAnswer.breaking_changes,
                download_url: launcherAnswer.download_url
              }
            : launcherAnswer !== undefined
              ? { available: false, current: outcome.launcherVersion, latest: launcherAnswer.latest_version }
              : // No latest version is invented for a launcher the key may not see or the catalog lacks.
                {
                  available: false,
                  current: outcome.launcherVersion,
                  reason:
                    outcome.launcherUnavailable === "not_visible"
                      ? `This API key may not see the launcher project '${launcher.projectId}'`
                      : `The catalog has no launcher channel '${launcher.projectId}/${launcher.channelId}'`
                }
          return {
            updates_available: launcherUpdate.available || projectUpdates.some((p) => p.update_available),
            launcher_update: launcherUpdate,
            project_updates: projectUpdates
          }
        })
      )
  })
)
