import { Cause, Context, Effect, Exit, Option } from "effect"
import { type FindMyWay, HttpIncomingMessage, HttpRouter, HttpServerRequest, HttpServerResponse } from "effect/http"
import type { Principal } from "../access/domain/Permissions.ts"
import type * as RateLimiter from "../access/services/RateLimiter.ts"
import type { UsageRecorderShape } from "../access/services/UsageRecorder.ts"
import type * as Errors from "../errors/Errors.ts"
import type { GatewayErrorShape } from "../errors/GatewayError.ts"
import { redactPath } from "../logging/Redaction.ts"
import * as Cors from "./Cors.ts"
import * as EdgeAnswers from "./EdgeAnswers.ts"
import * as ErrorEnvelope from "./ErrorEnvelope.ts"
import * as Exchange from "./Exchange.ts"
import * as HookCalls from "./HookCalls.ts"
import { type HooksShape, principalFacts } from "./Hooks.ts"
import { RequestScope, type RequestScopeShape } from "./RequestScope.ts"
import type * as RouteTable from "./RouteTable.ts"

export type { AccessLogEntry, RequestRecord } from "./Exchange.ts"
export { securityHeaders, versionPrefix } from "./Exchange.ts"

/** Where access-log entries go; each runtime adapter supplies its own (pino on Node, console on Workers). */
export const AccessLog = Context.Reference<(entry: Exchange.AccessLogEntry) => void>(
  "@lunarbit/gateway-core/AccessLog",
  {
    defaultValue: () => () => {}
  }
)

/** `api`: the key's or the unauthenticated bucket; `ai` adds the AI bucket; `public`: the public documents' bucket. */
export type RateLimitClass = "none" | "public" | "ai" | "api"

/** An endpoint's handler as `HttpApiBuilder` compiled it: middleware, decoders, handler and encoders. */
export type Endpoint = HttpRouter.Route<unknown, unknown>

export interface EdgeOptions {
  readonly docsUrl: string
  readonly docsPath: string
  /** The interactive documentation's content security policy (`DocsPage`); every other path keeps the strict one. */
  readonly docsPolicy: string
  readonly maxBodyBytes: number
  /** The prebuilt router of every endpoint, one lookup per request. */
  readonly router: FindMyWay.Router<Endpoint>
  /** Every path and its methods, to tell 404 from 405 and public paths from protected ones. */
  readonly routes: ReadonlyArray<RouteTable.RouteEntry>
  readonly authenticate: (
    credential: string
  ) => Effect.Effect<Principal, Errors.Unauthorized | Errors.ServiceUnavailable>
  readonly rateLimiter: RateLimiter.RateLimiterShape
  readonly usage: UsageRecorderShape
  readonly cors: Cors.CorsPolicy
  /** Take the client address from `X-Forwarded-For` (only behind a proxy that sets it). */
  readonly trustProxy: boolean
  /** Which buckets a path's requests count against (`none`: never limited, the health probes). */
  readonly rateLimitClass: (path: string) => RateLimitClass
  /** Adds validators (`ETag`, 304) to the answers that have them; the response unchanged otherwise. */
  readonly conditional: (
    request: HttpServerRequest.HttpServerRequest,
    path: string,
    response: HttpServerResponse.HttpServerResponse
  ) => HttpServerResponse.HttpServerResponse
  /** The embedder's hooks (`Hooks.ts`); each costs nothing when absent. */
  readonly hooks?: HooksShape | undefined
  /** Called once per answered request (metrics); absent, nothing is recorded. */
  readonly observe?: ((record: Exchange.RequestRecord) => void) | undefined
}

// What the hooks are told of a request: never its credential.
const factsOf = (exchange: InFlight) => ({
  requestId: exchange.scope.requestId,
  method: exchange.original.method,
  path: redactPath(exchange.path),
  route: exchange.route,
  principal: principalFacts(exchange.principal)
})

/** What the edge has established about one request on its way through. */
interface InFlight {
  readonly started: number
  readonly original: HttpServerRequest.HttpServerRequest
  readonly request: HttpServerRequest.HttpServerRequest
  readonly path: string
  readonly origin: string | undefined
  readonly context: Context.Context<never>
  scope: RequestScopeShape
  principal: Principal | undefined
  verdict: RateLimiter.Verdict | undefined
  /** The matched endpoint's route template, for the hooks and the metrics. */
  route: string | undefined
  refusedBucket: string | undefined
}

/**
 * The gateway's edge and dispatcher, compiled once: an HTTP app that gives each request its id,
 * serves the `/api/v2` prefix, answers CORS preflights, checks the bearer key once (from the
 * verified-key cache), applies the rate limits (keyed on the validated key, never the raw token,
 * beside a per-IP abuse bucket), finds the endpoint with one router lookup, runs its compiled
 * handler, turns everything that escaped it into the error envelope, adds the security, rate-limit
 * and CORS headers, counts the key's usage and writes the access log. Steps whose work is
 * synchronous (a cached key, in-memory limits) run without effects of their own.
 */
export const make = (
  options: EdgeOptions
): Effect.Effect<HttpServerResponse.HttpServerResponse, never, HttpServerRequest.HttpServerRequest> => {
  const envelope = (exchange: InFlight, error: GatewayErrorShape) => ErrorEnvelope.responseFor(error, exchange.scope)

  const finish = (exchange: InFlight, response: HttpServerResponse.HttpServerResponse) => {
    const answered: Exchange.Answered = {
      started: exchange.started,
      method: exchange.original.method,
      url: exchange.original.url,
      requestId: exchange.scope.requestId,
      principal: exchange.principal,
      origin: exchange.origin,
      verdict: exchange.verdict
    }
    const final = HttpServerResponse.setHeaders(
      response,
      Exchange.edgeHeaders(
        answered,
        response.headers.vary,
        exchange.path === options.docsPath ? options.docsPolicy : undefined,
        response.status === 204 && exchange.original.method === "OPTIONS"
      )
    )
    Exchange.account(answered, final.status, options.usage, Context.get(exchange.context, AccessLog))
    options.observe?.({
      route: exchange.route,
      method: exchange.original.method,
      status: final.status,
      durationMs: performance.now() - exchange.started,
      refusedBucket: exchange.refusedBucket,
      authentication: exchange.scope.authentication?.outcome
    })
    return final
  }

  // Every answer leaves through here, past the onResponse hook when one is set.
  const respond = HookCalls.responder(
    options.hooks?.onResponse,
    finish,
    (exchange, status) => ({
      ...factsOf(exchange),
      status,
      durationMs: Math.round((performance.now() - exchange.started) * 1000) / 1000
    }),
    envelope
  )
  const onRequest = options.hooks?.onRequest

  // The endpoint's answer, or the envelope of whatever escaped it.
  const dispatch = (exchange: InFlight): Effect.Effect<HttpServerResponse.HttpServerResponse> => {
    const { request, path } = exchange
    if (Number(request.headers["content-length"] ?? 0) > options.maxBodyBytes) {
      return Effect.succeed(envelope(exchange, EdgeAnswers.tooLarge(options.maxBodyBytes)))
    }
    const found =
      options.router.find(request.method, request.url) ??
      (request.method === "HEAD" ? options.router.find("GET", request.url) : undefined)
    if (found === undefined) {
      const unknown = EdgeAnswers.unknownRoute(options.routes, request, path, exchange.principal)
      const response = envelope(exchange, unknown.error)
      return Effect.succeed(
        unknown.allow === undefined ? response : HttpServerResponse.setHeader(response, "allow", unknown.allow)
      )
    }
    exchange.route = found.handler.path
    const context = Context.add(
      Context.add(
        Context.add(
          Context.add(
            Context.add(exchange.context, HttpServerRequest.HttpServerRequest, request),
            HttpServerRequest.ParsedSearchParams,
            found.searchParams
          ),
          HttpRouter.RouteContext,
          { route: found.handler, params: found.params }
        ),
        RequestScope,
        exchange.scope
      ),
      HttpIncomingMessage.MaxBodySize,
      options.maxBodyBytes as never
    )
    // The request's fiber starts uninterruptible; endpoints that allow it stop when the client goes away.
    const endpoint = found.handler.uninterruptible ? found.handler.handler : Effect.interruptible(found.handler.handler)
    const handler =
      onRequest === undefined
        ? endpoint
        : HookCalls.beforeHandler(onRequest, { ...factsOf(exchange), route: found.handler.path }, endpoint)
    return handler.pipe(
      Effect.provideContext(context as Context.Context<unknown>),
      Effect.matchCauseEffect({
        onSuccess: (response) => {
          const rewrite =
            response.status >= 400 && !ErrorEnvelope.isEnvelope(response)
              ? EdgeAnswers.byStatus[response.status]
              : undefined
          return Effect.succeed(
            rewrite === undefined
              ? options.conditional(request, path, response)
              : envelope(exchange, rewrite(request, options.maxBodyBytes))
          )
        },
        onFailure: (cause) =>
          Cause.hasInterruptsOnly(cause)
            ? Effect.failCause(cause)
            : Effect.map(EdgeAnswers.fromCause(cause, options.maxBodyBytes), (error) => envelope(exchange, error))
      })
    ) as Effect.Effect<HttpServerResponse.HttpServerResponse>
  }

  const limited = (exchange: InFlight, verdict: RateLimiter.Verdict | undefined) => {
    exchange.verdict = verdict
    if (verdict !== undefined && !verdict.allowed) {
      exchange.refusedBucket = Exchange.refusedBucket(verdict)
      return respond(exchange, envelope(exchange, EdgeAnswers.rateLimited(verdict)))
    }
    return Effect.flatMap(dispatch(exchange), (response) => respond(exchange, response))
  }

  const authenticated = (exchange: InFlight) => {
    const limitClass = options.rateLimitClass(exchange.path)
    if (limitClass === "none") return limited(exchange, undefined)
    const check = options.rateLimiter.check({
      ip: Exchange.clientAddress(
        options.trustProxy,
        exchange.original.headers["x-forwarded-for"],
        Option.getOrUndefined(exchange.original.remoteAddress)
      ),
      principal: exchange.principal,
      ai: limitClass === "ai",
      publicDocument: limitClass === "public"
    })
    // In-memory limits answer with an Exit, read here without running anything.
    return Exit.isExit(check)
      ? limited(exchange, Exit.isSuccess(check) ? (check.value as RateLimiter.Verdict) : undefined)
      : Effect.flatMap(check, (verdict) => limited(exchange, verdict))
  }

  const withOutcome = (
    exchange: InFlight,
    credential: string,
    outcome: Exit.Exit<Principal, Errors.Unauthorized | Errors.ServiceUnavailable>
  ) => {
    exchange.principal = Exit.isSuccess(outcome) ? outcome.value : undefined
    exchange.scope = { ...exchange.scope, authentication: { credential, outcome } }
    return authenticated(exchange)
  }

  return Effect.withFiber((fiber) => {
    const started = performance.now()
    const original = Context.getUnsafe(fiber.context, HttpServerRequest.HttpServerRequest)
    const stripped = Exchange.stripVersionPrefix(original.url)
    const request = stripped === undefined ? original : original.modify({ url: stripped })
    const headers = request.headers
    const exchange: InFlight = {
      started,
      original,
      request,
      path: Exchange.pathOf(request.url),
      origin: Cors.allowedOrigin(options.cors, headers.origin),
      context: fiber.context as Context.Context<never>,
      scope: { requestId: Exchange.requestIdOf(headers["x-request-id"]), docsUrl: options.docsUrl },
      principal: undefined,
      verdict: undefined,
      route: undefined,
      refusedBucket: undefined
    }
    if (Cors.isPreflight(request.method, headers)) {
      const origin = exchange.origin
      return respond(
        exchange,
        origin === undefined
          ? envelope(exchange, EdgeAnswers.forbiddenOrigin(headers.origin))
          : HttpServerResponse.empty({ status: 204, headers: Cors.preflightHeaders(origin) })
      )
    }
    const credential = Exchange.bearer(headers.authorization)
    if (credential === undefined) return authenticated(exchange)
    const outcome = options.authenticate(credential)
    // A key verified within the last second answers with an Exit: no effect runs for it.
    return Exit.isExit(outcome)
      ? withOutcome(
          exchange,
          credential,
          outcome as Exit.Exit<Principal, Errors.Unauthorized | Errors.ServiceUnavailable>
        )
      : Effect.flatMap(Effect.exit(outcome), (exit) => withOutcome(exchange, credential, exit))
  })
}
