import { Effect } from "effect"
import { HttpApiBuilder } from "effect/http-api"
import { CurrentPrincipal } from "../../access/http/Middleware.ts"
import { Keys } from "../../access/services/Keys.ts"
import { Api } from "../../http/Api.ts"
import { RequestScope } from "../../http/RequestScope.ts"
import { Rollouts, type RolloutView } from "../services/Rollouts.ts"

const present = (view: RolloutView) => ({
  project: view.project,
  channel: view.channel,
  version: view.version,
  percentage: view.percentage,
  paused: view.paused,
  source: view.source,
  ...(view.updatedAt === undefined ? {} : { updated_at: view.updatedAt }),
  ...(view.updatedBy === undefined ? {} : { updated_by: view.updatedBy })
})

export const AdminRolloutsHandlers = HttpApiBuilder.group(Api, "adminRollouts", (handlers) =>
  Effect.gen(function* () {
    const rollouts = yield* Rollouts
    const keys = yield* Keys
    return handlers
      .handle("getRollout", ({ params }) =>
        Effect.gen(function* () {
          const principal = yield* CurrentPrincipal
          return present(yield* rollouts.get(principal, params.projectId, params.channelId, params.versionId))
        })
      )
      .handle("setRollout", ({ params, payload }) =>
        Effect.gen(function* () {
          const principal = yield* CurrentPrincipal
          const view = yield* rollouts.set(principal, params.projectId, params.channelId, params.versionId, payload)
          yield* keys.audit(
            "rollout.changed",
            { principal, requestId: (yield* RequestScope).requestId },
            `${view.project}/${view.channel}/${view.version}`,
            { percentage: view.percentage, paused: view.paused }
          )
          return present(view)
        })
      )
  })
)
