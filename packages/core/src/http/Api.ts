import { HttpApi, HttpApiEndpoint, HttpApiGroup, OpenApi } from "effect/http-api"
import { KeysGroup } from "../access/http/KeysApi.ts"
import { ErrorHandling } from "../access/http/Middleware.ts"
import { AiGroup, AiStatusGroup } from "../ai/http/AiApi.ts"
import { OpenAiCompatGroup } from "../ai/http/OpenAiCompatApi.ts"
import { FeedsGroup } from "../feeds/http/FeedsApi.ts"
import { AdminSyncGroup } from "../releases/http/AdminApi.ts"
import { ProjectsGroup, UpdatesGroup } from "../releases/http/ReleasesApi.ts"
import { AdminRolloutsGroup } from "../releases/http/RolloutsApi.ts"
import * as S from "../releases/http/Schemas.ts"
import { VERSION } from "../Version.ts"
import { Direct } from "./Direct.ts"
import * as OpenApiErrors from "./OpenApiErrors.ts"

export class SystemGroup extends HttpApiGroup.make("system")
  .add(
    HttpApiEndpoint.get("health", "/health", { success: S.Health })
      .annotate(Direct, true)
      .annotate(OpenApi.Summary, "API availability, version and the state of each release source")
  )
  .add(
    HttpApiEndpoint.get("live", "/health/live", { success: S.Liveness })
      .annotate(Direct, true)
      .annotate(OpenApi.Summary, "Liveness probe: 200 while the process answers")
  )
  .add(
    HttpApiEndpoint.get("ready", "/health/ready", { success: S.Readiness })
      .annotate(Direct, true)
      .annotate(
        OpenApi.Summary,
        "Readiness probe: 200 when the catalog is loaded and the stores answer, else 503 NOT_READY"
      )
  ) {}

/**
 * The whole API. Every runtime serves this one definition. Add groups above `.middleware(ErrorHandling)`:
 * it applies only to the groups added before it, and every group needs it for the error envelope.
 */
export class Api extends HttpApi.make("lunarbit-gateway")
  .add(SystemGroup)
  .add(ProjectsGroup)
  .add(UpdatesGroup)
  .add(KeysGroup)
  .add(AdminSyncGroup)
  .add(AdminRolloutsGroup)
  .add(FeedsGroup)
  .add(AiStatusGroup)
  .add(AiGroup)
  .add(OpenAiCompatGroup)
  .middleware(ErrorHandling)
  // Report every invalid field at once rather than the first one.
  .annotate(HttpApi.ParseOptions, { errors: "all" })
  .annotate(OpenApi.Transform, OpenApiErrors.transform)
  .annotateMerge(
    OpenApi.annotations({
      title: "LunarBit Gateway",
      version: VERSION,
      description:
        "Release and update metadata for desktop apps and launchers. Every route is also served under /api/v2."
    })
  ) {}
