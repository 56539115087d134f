import { Cause, Effect, Exit, Stream } from "effect"
import { FetchHttpClient, HttpClientError } from "effect/http"
import type { ChatStreamEvent } from "../ai/http/AiApi.ts"
import * as ApiClient from "./ApiClient.ts"
import { fromResponse, GatewayClientError, network } from "./ClientError.ts"

export interface ClientOptions extends ApiClient.Options {
  /** The `fetch` to send requests with; the global one by default (browsers, Workers, Node >= 18). */
  readonly fetch?: typeof globalThis.fetch | undefined
}

type Api = ApiClient.Client
/** The first argument of a generated method: its `params`, `query` and `payload`. */
type Request<M> = M extends (request: infer R) => unknown ? R : never
type Answer<M> = M extends (...args: never) => Effect.Effect<infer A, infer _E, infer _R> ? A : never
type Field<M, K extends string> = Request<M> extends { readonly [P in K]: infer V } ? V : never

type ChatRequest = Field<Api["ai"]["chat"], "payload">
type ChatAnswer = Exclude<Answer<Api["ai"]["chat"]>, Stream.Stream<unknown, unknown, unknown>>
/** One event of a streamed chat: a `content` delta, then one event with the model and token usage. */
export type ChatEvent = Exclude<typeof ChatStreamEvent.Type, { readonly error: unknown }>

/** Every failure as a `GatewayClientError`; defects (bugs) are rethrown as they are. */
const toClientError = (error: unknown): unknown => {
  if (error instanceof GatewayClientError) return error
  if (HttpClientError.isHttpClientError(error)) return network(error.message)
  if (error instanceof Error && error.name === "SchemaError") return fromResponse(200, undefined)
  return error
}

/**
 * The gateway for applications that do not use Effect: plain Promises, typed from the same schemas
 * as the server. Reads of the catalog are revalidated with their ETag; 429 and 503 are retried
 * after `Retry-After`; every failure is thrown as a `GatewayClientError` with the envelope's
 * `code`, `status` and `requestId`. Uses only `fetch`: it runs in browsers, Workers and Node.
 *
 * ```ts
 * const gateway = createClient({ baseUrl: "https://updates.example.com", apiKey })
 * const update = await gateway.updates.check("trackly", "stable", { current_version: "1.1.0", platform: "windows", architecture: "x64" })
 * for await (const event of gateway.ai.chat({ messages, stream: true })) if ("content" in event) write(event.content)
 * ```
 */
export const createClient = (options: ClientOptions) => {
  const fetch = options.fetch ?? globalThis.fetch
  const api: Api = Effect.runSync(ApiClient.make(options).pipe(Effect.provide(FetchHttpClient.layer)))

  const run = async <A>(effect: Effect.Effect<A, unknown>): Promise<A> => {
    const exit = await Effect.runPromiseExit(Effect.provideService(effect, FetchHttpClient.Fetch, fetch))
    if (Exit.isSuccess(exit)) return exit.value
    throw toClientError(Cause.squash(exit.cause))
  }

  async function* events(request: ChatRequest): AsyncGenerator<ChatEvent> {
    const answer = await run(api.ai.chat({ payload: { ...request, stream: true } }))
    if (!Stream.isStream(answer)) throw fromResponse(200, undefined)
    const stream = Stream.provideService(answer, FetchHttpClient.Fetch, fetch)
    try {
      for await (const event of Stream.toAsyncIterable(stream)) {
        // The gateway ends a stream that failed after its first token with an `error` event.
        if ("error" in event) throw fromResponse(200, event)
        yield event
      }
    } catch (error) {
      throw toClientError(error)
    }
  }

  function chat(request: ChatRequest & { readonly stream: true }): AsyncGenerator<ChatEvent>
  function chat(request: ChatRequest & { readonly stream?: false | undefined }): Promise<ChatAnswer>
  function chat(request: ChatRequest): AsyncGenerator<ChatEvent> | Promise<ChatAnswer> {
    if (request.stream === true) return events(request)
    return run(api.ai.chat({ payload: { ...request, stream: false } })).then((answer) =>
      Stream.isStream(answer) ? Promise.reject(fromResponse(200, undefined)) : answer
    )
  }

  return {
    /** `GET /health`: public. */
    health: () => run(api.system.health()),
    projects: {
      /** `GET /projects`, revalidated with its ETag. */
      list: (query: Field<Api["projects"]["listProjects"], "query"> = {}) => run(api.projects.listProjects({ query })),
      /** `GET /projects/{id}`, revalidated with its ETag. */
      get: (projectId: string) => run(api.projects.getProject({ params: { projectId } })),
      /** `GET /projects/{id}/channels/{channel}/latest`, revalidated with its ETag. */
      latest: (projectId: string, channelId: string) =>
        run(api.projects.latestVersion({ params: { projectId, channelId } }))
    },
    updates: {
      /** `GET /projects/{id}/channels/{channel}/update`: is there a newer build for this platform? */
      check: (
        projectId: string,
        channelId: string,
        query: Field<Api["updates"]["checkUpdate"], "query">,
        /** The client's stable id, which places it in staged rollouts (`X-Client-Id`). */
        clientId?: string
      ) =>
        run(
          api.updates.checkUpdate({
            params: { projectId, channelId },
            query,
            headers: clientId === undefined ? {} : { "x-client-id": clientId }
          })
        )
    },
    launcher: {
      /** `POST /update/check`: the launcher's own update and those of the installed applications. */
      check: (request: Field<Api["updates"]["launcherCheck"], "payload">, clientId?: string) =>
        run(
          api.updates.launcherCheck({
            payload: request,
            query: {},
            headers: clientId === undefined ? {} : { "x-client-id": clientId }
          })
        )
    },
    ai: {
      /** `POST /ai/chat`: the answer, or with `stream: true` its events as an async iterator. */
      chat
    },
    keys: {
      /** `POST /admin/keys`: the secret is in the answer, once. */
      create: (request: Field<Api["keys"]["createKey"], "payload">) => run(api.keys.createKey({ payload: request })),
      /** `DELETE /admin/keys/{name}`. */
      revoke: (keyName: string) => run(api.keys.revokeKey({ params: { keyName } }))
    }
  }
}

/** The client `createClient` returns. */
export type Client = ReturnType<typeof createClient>
