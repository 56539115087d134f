import { Context, Effect, Layer } from "effect"
import type { HttpRouter } from "effect/http"
// The module itself, not the `effect/http-api` index: a bundler can then leave out the inline
// script (`layer`) when only `layerCdn` is used.
import * as HttpApiScalar from "effect/http-api/HttpApiScalar"
import { Api } from "./Api.ts"

/**
 * How the interactive documentation (`/docs`, Scalar) gets its script, and the content security
 * policy its page needs. The script is 3 MB: a host that serves it inline carries it in memory, and
 * a Worker would carry it in its bundle, so the default loads it from jsDelivr instead and only the
 * Node adapter, which has no size limit, chooses `inline` (a page that works offline).
 */
export interface DocsPageShape {
  readonly routes: (path: `/${string}`) => Layer.Layer<never, never, HttpRouter.HttpRouter>
  readonly contentSecurityPolicy: string
}

// The version of the script effect bundles, so both pages run the same Scalar.
const scalarVersion = "1.43.5"

/** The script from jsDelivr, pinned; the page may load it, and nothing else from elsewhere. */
export const cdn: DocsPageShape = {
  routes: (path) => HttpApiScalar.layerCdn(Api, { path, version: scalarVersion }),
  contentSecurityPolicy:
    "default-src 'self'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:"
}

/** The script embedded in the page: no third party, 3 MB more to hold. */
export const inline: DocsPageShape = {
  routes: (path) => HttpApiScalar.layer(Api, { path }),
  contentSecurityPolicy:
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:"
}

export const DocsPage = Context.Reference<DocsPageShape>("@lunarbit/gateway-core/DocsPage", {
  defaultValue: () => cdn
})

/**
 * Serves the docs page as `page` does; provide it next to the ports. A function rather than a
 * ready layer, so a bundle that never chooses `inline` leaves its script out.
 */
export const layer = (page: DocsPageShape): Layer.Layer<never> => Layer.succeed(DocsPage, page) as Layer.Layer<never>

/** The docs page's routes as the host chose them. */
export const routes = (path: `/${string}`): Layer.Layer<never, never, HttpRouter.HttpRouter> =>
  Layer.unwrap(
    Effect.gen(function* () {
      const page = yield* DocsPage
      return page.routes(path)
    })
  )
