import { Effect, Layer } from "effect"
import { HttpRouter } from "effect/http"

/**
 * Builds layers that register routes on an `HttpRouter` (`HttpApiBuilder.layer`, the documentation
 * page) against a router that only records them, and returns what they registered: each endpoint's
 * handler with its middleware, decoders and encoders compiled once by `HttpApiBuilder`. The
 * dispatcher serves these itself, so groups added to the `HttpApi` are served without being listed.
 */
export const collect = <E, R>(layer: Layer.Layer<never, E, R>) =>
  Effect.gen(function* () {
    const routes: Array<HttpRouter.Route<unknown, unknown>> = []
    const real = yield* HttpRouter.make
    const recorder: HttpRouter.HttpRouter = {
      ...real,
      addAll: ((added: ReadonlyArray<HttpRouter.Route<unknown, unknown>>) =>
        Effect.sync(() => void routes.push(...added))) as HttpRouter.HttpRouter["addAll"],
      add: ((method, path, handler, options) =>
        Effect.sync(
          () => void routes.push(HttpRouter.route(method, path, handler as never, options) as never)
        )) as HttpRouter.HttpRouter["add"]
    }
    yield* Layer.build(
      Layer.provide(layer, Layer.succeed(HttpRouter.HttpRouter, recorder)) as Layer.Layer<
        never,
        E,
        Exclude<R, HttpRouter.HttpRouter>
      >
    )
    return routes as ReadonlyArray<HttpRouter.Route<unknown, unknown>>
  })
