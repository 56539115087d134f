import { Api, DocsPage } from "@lunarbit/gateway-core"
import { Effect, Layer, Scope } from "effect"
import { HttpRouter } from "effect/http"
import * as HttpApiScalar from "effect/http-api/HttpApiScalar"

/**
 * The docs page with Scalar's script inline (no third party; it works offline), built on the
 * page's first request rather than at start. The script is 3 MB of text: evaluating it and the page
 * made from it held 18 MiB of resident memory from start (measured), in every gateway, including
 * the many whose docs nobody opens. After the first visit the page is kept, as before.
 */
export const inlineOnFirstVisit: DocsPage.DocsPageShape = {
  routes: (path) =>
    Layer.effectDiscard(
      Effect.gen(function* () {
        const scope = yield* Effect.scope
        // The router and page, built once in the layer's scope and kept for later visits.
        const page = yield* Effect.cached(
          HttpRouter.toHttpEffect(HttpApiScalar.layer(Api.Api, { path })).pipe(
            Effect.provideService(Scope.Scope, scope)
          )
        )
        const router = yield* HttpRouter.HttpRouter
        // Its own router only ever sees this path, so it has no "not found" to answer: any failure is a defect.
        yield* router.add("GET", path, Effect.orDie(Effect.flatten(page)))
      })
    ),
  contentSecurityPolicy: DocsPage.inline.contentSecurityPolicy
}
