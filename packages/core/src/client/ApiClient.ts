import { Effect } from "effect"
import { HttpClient } from "effect/http"
import { HttpApiClient } from "effect/http-api"
import { Api } from "../http/Api.ts"
import * as Transport from "./Transport.ts"

export interface Options extends Transport.TransportOptions {
  /** Where the gateway answers, e.g. `https://updates.example.com` or `https://example.com/api/v2`. */
  readonly baseUrl: string
}

/**
 * The typed client of the whole API, derived from the `HttpApi` contract itself: one method per
 * endpoint, grouped as the API is (`client.projects.listProjects(...)`,
 * `client.updates.checkUpdate(...)`), with the schemas' types for inputs and answers. Requests go
 * through the gateway transport (`Transport.make`): bearer key, retries on 429/503, ETag
 * revalidation, and errors as `GatewayClientError`. Needs an `HttpClient`, such as
 * `FetchHttpClient.layer` from `effect/http`, which works in browsers, Workers and Node.
 *
 * ```ts
 * const program = Effect.gen(function* () {
 *   const client = yield* ApiClient.make({ baseUrl: "http://localhost:3000", apiKey })
 *   return yield* client.projects.listProjects({ query: {} })
 * }).pipe(Effect.provide(FetchHttpClient.layer))
 * ```
 */
export const make = (options: Options) =>
  Effect.gen(function* () {
    const base = yield* HttpClient.HttpClient
    return yield* HttpApiClient.makeWith(Api, { httpClient: Transport.make(base, options), baseUrl: options.baseUrl })
  })

/** The client `make` builds. */
export type Client = Effect.Success<ReturnType<typeof make>>
