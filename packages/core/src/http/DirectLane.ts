import { Cause, Context, Effect, Exit, Fiber, Schema, SchemaAST } from "effect"
import { FindMyWay, HttpServerResponse } from "effect/http"
import { HttpApi, type HttpApiEndpoint, type HttpApiGroup, HttpApiSchema } from "effect/http-api"
import type { Permission, Principal } from "../access/domain/Permissions.ts"
import { CurrentPrincipal } from "../access/http/Middleware.ts"
import { refusal } from "../access/http/MiddlewareLive.ts"
import { RequiredPermission } from "../access/http/RequiredPermission.ts"
import type * as RateLimiter from "../access/services/RateLimiter.ts"
import { boundedCache, boundedMemo } from "../BoundedMemo.ts"
import type { GatewayErrorShape } from "../errors/GatewayError.ts"
import * as CorsPolicy from "./Cors.ts"
import { Direct, plainOf } from "./Direct.ts"
import * as EdgeAnswers from "./EdgeAnswers.ts"
import * as ErrorEnvelope from "./ErrorEnvelope.ts"
import * as Exchange from "./Exchange.ts"
import type { RequestScopeShape } from "./RequestScope.ts"

/**
 * The direct lane of the edge: endpoints whose handler needs only the request's head (path, query,
 * headers) and the caller, served from the head without the platform's request object, with
 * decoders and the encoder compiled once from the endpoint's schemas. A request takes this lane
 * only when everything before its side effects is settled in memory: a known key from the
 * verified-key cache with the permission, a head that decodes. Everything else (no or bad key,
 * bad input, unknown routes, bodies, preflights, `HEAD`) leaves before any side effect and is
 * served by the complete lane (`Edge.ts`), which answers it with exactly the same rules.
 */

export { Direct } from "./Direct.ts"

/** The request line and head, as every runtime has them before reading a body. */
export interface RequestHead {
  readonly method: string
  readonly url: string
  readonly headers: Readonly<Record<string, string | ReadonlyArray<string> | undefined>>
  readonly remoteAddress: string | undefined
}

/** A complete answer with its body in memory, written by the adapter in one call. */
export interface Answer {
  readonly status: number
  /** Every header but `content-type` and `content-length`. */
  readonly headers: Record<string, string>
  readonly contentType: string | undefined
  /** JSON as text: written with the head in one write. */
  readonly body: string | undefined
}

/** An answer now, an answer later, or `undefined`: this lane does not serve the request. */
export type Served = Answer | Effect.Effect<Answer> | undefined

interface Compiled {
  readonly isProtected: boolean
  readonly required: Permission | "admin" | undefined
  readonly decode: (
    path: string,
    params: Readonly<Record<string, string | undefined>>,
    queryString: string,
    query: Readonly<Record<string, string | ReadonlyArray<string>>>,
    headers: RequestHead["headers"]
  ) => object | undefined
  readonly run: Handler
  /** The handler's plain function (`Direct.handler`): called directly, its `Exit` needs no fiber. */
  readonly plain:
    | ((request: object, principal: Principal | undefined) => Effect.Effect<unknown, unknown, unknown>)
    | undefined
  /** The answer's JSON, or why it could not be encoded. */
  readonly serialise: (value: unknown) => string | { readonly failure: unknown }
  readonly status: number
  readonly contentType: string
  /** The route template, for the metrics. */
  readonly route: string
}

interface GroupService {
  readonly handlers: ReadonlyMap<
    string,
    {
      readonly endpoint: HttpApiEndpoint.Top
      readonly handler: (request: object) => Effect.Effect<unknown, unknown, never>
      readonly isRaw: boolean
    }
  >
}

const decoderOf = (schema: Schema.Top | undefined, options: object | undefined) => {
  if (schema === undefined) return undefined
  const decode = Schema.decodeUnknownExit(schema as Schema.Codec<unknown, unknown>, options)
  return (input: unknown) => {
    const exit = decode(input)
    return Exit.isSuccess(exit) ? exit.value : failed
  }
}
const failed = Symbol("failed")

// The names a schema of an object declares; `undefined` for any other schema (one with an index
// signature reads names it does not list).
const declaredNames = (schema: Schema.Top | undefined): ReadonlyArray<string> | undefined => {
  const ast = schema?.ast
  if (ast === undefined || !SchemaAST.isObjects(ast) || ast.indexSignatures.length > 0) return undefined
  return ast.propertySignatures.map((property) => String(property.name))
}

type Handler = (request: object) => Effect.Effect<unknown, unknown, CurrentPrincipal>

interface Reflected {
  readonly group: HttpApiGroup.Top
  readonly endpoint: HttpApiEndpoint.Top
  readonly mergedAnnotations: Context.Context<never>
  readonly middleware: ReadonlySet<unknown>
  readonly successes: ReadonlyMap<number, readonly [Schema.Top, ...Array<Schema.Top>]>
}

/**
 * JSON of a handler's answer. Answers are built from the catalog, checked when it was loaded:
 * encoding shapes them (drops what the schema does not declare, applies its encodings) without
 * checking them again. Handlers that answer the same object again (memoized per catalog snapshot)
 * have it serialised once.
 */
const serialiserOf = (schema: Schema.Codec<unknown, unknown>, options: SchemaAST.ParseOptions | undefined) => {
  const encode = Schema.encodeUnknownExit(schema, { ...options, disableChecks: true })
  const serialised = new WeakMap<object, string>()
  return (value: unknown): string | { readonly failure: unknown } => {
    const isObject = typeof value === "object" && value !== null
    const known = isObject ? serialised.get(value) : undefined
    if (known !== undefined) return known
    const encoded = encode(value)
    if (Exit.isFailure(encoded)) return { failure: Cause.squash(encoded.cause) }
    const json = JSON.stringify(encoded.value)
    if (isObject) serialised.set(value, json)
    return json
  }
}

const compileEndpoint = (reflected: Reflected, handler: Handler, authentication: unknown): Compiled => {
  const { endpoint, group, mergedAnnotations } = reflected
  const [status, schemas] = [...reflected.successes][0] ?? []
  const success = schemas?.length === 1 ? schemas[0] : undefined
  if (
    status === undefined ||
    success === undefined ||
    reflected.successes.size !== 1 ||
    endpoint.method !== "GET" ||
    endpoint.payload.size > 0 ||
    HttpApiSchema.isWithHeaders(success)
  ) {
    throw new Error(
      `${group.identifier}.${endpoint.identifier} is marked Direct but is not a GET answering one JSON body from its head`
    )
  }
  const fallback = Context.getOrUndefined(mergedAnnotations, HttpApi.ParseOptions)
  const parseOptions = (key: Context.Key<never, SchemaAST.ParseOptions>) =>
    Context.getOrUndefined(mergedAnnotations, key) ?? fallback
  const params = decoderOf(endpoint.params, parseOptions(HttpApi.ParamsParseOptions as never))
  const query = decoderOf(
    endpoint.query === undefined ? undefined : Schema.toCodecArrayFromSingle(endpoint.query),
    parseOptions(HttpApi.QueryParseOptions as never)
  )
  const headers = decoderOf(endpoint.headers, parseOptions(HttpApi.HeadersParseOptions as never))
  // Decoding is a pure function of the path, the query string and the declared headers' values:
  // clients asking the same question (one version of a launcher, say) are decoded once.
  const headerNames = declaredNames(endpoint.headers)
  const paramsOf = boundedCache<unknown>()
  const queryOf = boundedCache<unknown>()
  const headersMemo = boundedCache<unknown>()
  const headersOf = (raw: RequestHead["headers"], decode: (input: unknown) => unknown) => {
    if (headerNames === undefined) return decode(raw)
    let key = ""
    for (const name of headerNames) {
      const value = raw[name]
      if (value !== undefined && typeof value !== "string") return decode(raw)
      key += value === undefined ? "\u0001" : `${value}\u0000`
    }
    return headersMemo(key, () => decode(raw))
  }
  return {
    isProtected: reflected.middleware.has(authentication),
    required: Context.getOrUndefined(endpoint.annotations, RequiredPermission),
    decode: (path, rawParams, queryString, rawQuery, rawHeaders) => {
      const decoded = {
        endpoint,
        group,
        params: params === undefined ? undefined : paramsOf(path, () => params(rawParams)),
        query: query === undefined ? undefined : queryOf(queryString, () => query(rawQuery)),
        headers: headers === undefined ? undefined : headersOf(rawHeaders, headers)
      }
      return decoded.params === failed || decoded.query === failed || decoded.headers === failed ? undefined : decoded
    },
    run: handler,
    plain: plainOf(handler),
    serialise: serialiserOf(
      success as Schema.Codec<unknown, unknown>,
      parseOptions(HttpApi.SuccessParseOptions as never)
    ),
    status,
    contentType: "application/json",
    route: endpoint.path
  }
}

/** A settled request on its way to its answer. */
interface InFlight extends Exchange.Answered {
  verdict: RateLimiter.Verdict | undefined
  readonly endpoint: Compiled
  /** The path without `/api/v2` and the query. */
  readonly path: string
  readonly ifNoneMatch: string | undefined
  readonly input: object
}

export interface LaneOptions<Id extends string, Groups extends HttpApiGroup.Constraint> extends Exchange.LaneEdge {
  readonly api: HttpApi.HttpApi<Id, Groups>
  /** The built handler groups (`HttpApiBuilder.group` layers), where each endpoint's handler is found. */
  readonly groups: Context.Context<never>
  /** The middleware that marks an endpoint as protected. */
  readonly authentication: unknown
  /** What handlers run with: the services of the gateway, the logger, the access log. */
  readonly context: Context.Context<never>
  readonly validate: (
    method: string,
    path: string,
    body: string,
    vary: string | undefined,
    ifNoneMatch: string | undefined
  ) => { readonly headers: Record<string, string>; readonly notModified: boolean } | undefined
}

/** Compiles the lane of every endpoint annotated {@link Direct}; returns the lane's entry point. */
export const make = <Id extends string, Groups extends HttpApiGroup.Constraint>(
  options: LaneOptions<Id, Groups>
): ((head: RequestHead) => Served) => {
  const router = FindMyWay.make<Compiled>()
  HttpApi.reflect(options.api, {
    predicate: ({ endpoint }) => Context.getOrUndefined(endpoint.annotations, Direct) !== undefined,
    onGroup: () => {},
    onEndpoint: (reflected) => {
      const service = options.groups.mapUnsafe.get(reflected.group.key) as GroupService | undefined
      const runtime = service?.handlers.get(reflected.endpoint.identifier)
      if (runtime === undefined || runtime.isRaw) return
      router.on(
        "GET",
        reflected.endpoint.path as FindMyWay.PathInput,
        compileEndpoint(reflected, runtime.handler as Handler, options.authentication)
      )
    }
  })

  // The caller the head names: a principal, `null` for none, `undefined` when not settled in memory.
  const callerOf = (endpoint: Compiled, authorization: string | undefined): Principal | null | undefined => {
    const credential = Exchange.bearer(authorization)
    if (credential === undefined) return endpoint.isProtected ? undefined : null
    const outcome = options.authenticate(credential)
    if (!Exit.isExit(outcome)) return undefined
    // A refused credential is the complete lane's to answer and count, even on a public endpoint.
    if (Exit.isFailure(outcome)) return undefined
    const principal = outcome.value as Principal
    return endpoint.isProtected && refusal(principal, endpoint.required) !== undefined ? undefined : principal
  }

  // Handlers run with the gateway's services and their caller. A principal comes from the
  // verified-key cache, the same object request after request, so its context is built once.
  const contexts = new WeakMap<Principal, Context.Context<never>>()
  const contextOf = (principal: Principal | undefined): Context.Context<never> => {
    if (principal === undefined) return options.context
    let context = contexts.get(principal)
    if (context === undefined) {
      context = Context.add(options.context, CurrentPrincipal, principal)
      contexts.set(principal, context)
    }
    return context
  }

  // Route lookups (and their query parsing) remembered per target: clients asking the same question
  // send the same target.
  const routeOf = boundedMemo((url: string) => router.find("GET", url))

  // The steps after a request is settled, made once: each takes the request's own state.
  const finish = (
    flight: InFlight,
    status: number,
    extra: Record<string, string> | undefined,
    contentType: string,
    body: string
  ): Answer => {
    let answer: Answer
    const validation =
      status === 200 ? options.validate("GET", flight.path, body, extra?.vary, flight.ifNoneMatch) : undefined
    if (validation === undefined) {
      const edge = Exchange.edgeHeaders(flight, extra?.vary, undefined, false)
      answer = { status, headers: extra === undefined ? edge : { ...extra, ...edge }, contentType, body }
    } else {
      const edge = Exchange.edgeHeaders(flight, validation.headers.vary, undefined, false)
      answer = validation.notModified
        ? { status: 304, headers: { ...validation.headers, ...edge }, contentType: undefined, body: undefined }
        : { status, headers: { ...validation.headers, ...edge }, contentType, body }
    }
    Exchange.account(flight, answer.status, options.usage, options.accessLog)
    options.observe?.({
      route: flight.endpoint.route,
      method: "GET",
      status: answer.status,
      durationMs: performance.now() - flight.started,
      refusedBucket: Exchange.refusedBucket(flight.verdict),
      // Only a refused credential is counted, and this lane answers none.
      authentication: undefined
    })
    return answer
  }

  const envelope = (flight: InFlight, error: GatewayErrorShape) => {
    const retryAfter = error.details?.retry_after
    const scope: RequestScopeShape = { requestId: flight.requestId, docsUrl: options.docsUrl }
    return finish(
      flight,
      error.status,
      typeof retryAfter === "number" ? { "retry-after": String(retryAfter) } : undefined,
      "application/json",
      JSON.stringify(ErrorEnvelope.body(error, scope))
    )
  }

  const fromExit = (flight: InFlight, exit: Exit.Exit<unknown, unknown>): Answer | Effect.Effect<Answer> => {
    if (Exit.isSuccess(exit)) {
      const value = exit.value
      if (HttpServerResponse.isHttpServerResponse(value)) return fromExit(flight, Exit.die(value))
      const json = flight.endpoint.serialise(value)
      return typeof json === "string"
        ? finish(flight, flight.endpoint.status, undefined, flight.endpoint.contentType, json)
        : fromExit(flight, Exit.die(json.failure))
    }
    const error = EdgeAnswers.fromCause(exit.cause, 0)
    return Exit.isExit(error) && Exit.isSuccess(error)
      ? envelope(flight, error.value as GatewayErrorShape)
      : Effect.map(error, (failure) => envelope(flight, failure))
  }

  const handle = (flight: InFlight): Answer | Effect.Effect<Answer> => {
    const { endpoint, input, principal } = flight
    const work = endpoint.plain === undefined ? endpoint.run(input) : endpoint.plain(input, principal)
    if (Exit.isExit(work)) return fromExit(flight, work)
    const fiber = Effect.runForkWith(contextOf(principal))(work as Effect.Effect<unknown, unknown>)
    const exit = fiber.pollUnsafe()
    return exit === undefined
      ? Effect.flatMap(Fiber.await(fiber), (done) => toEffect(fromExit(flight, done)))
      : fromExit(flight, exit)
  }

  const limited = (flight: InFlight, verdict: RateLimiter.Verdict | undefined) => {
    flight.verdict = verdict
    return verdict !== undefined && !verdict.allowed
      ? envelope(flight, EdgeAnswers.rateLimited(verdict))
      : handle(flight)
  }

  return (head) => {
    const headers = head.headers
    if (
      head.method !== "GET" ||
      head.url.charCodeAt(0) !== 47 ||
      (headers["content-length"] !== undefined && headers["content-length"] !== "0") ||
      headers["transfer-encoding"] !== undefined
    ) {
      return undefined
    }
    const url = Exchange.stripVersionPrefix(head.url) ?? head.url
    const found = routeOf(url)
    if (found === undefined) return undefined
    const endpoint = found.handler
    const caller = callerOf(endpoint, Exchange.single(headers.authorization))
    if (caller === undefined) return undefined
    const query = url.indexOf("?")
    const input = endpoint.decode(
      query === -1 ? url : url.slice(0, query),
      found.params,
      query === -1 ? "" : url.slice(query + 1),
      found.searchParams,
      headers
    )
    if (input === undefined) return undefined

    // Settled: from here the request has effects (its rate limits, its handler), and is answered here.
    const path = Exchange.pathOf(url)
    const flight: InFlight = {
      started: performance.now(),
      method: "GET",
      url: head.url,
      requestId: Exchange.requestIdOf(Exchange.single(headers["x-request-id"])),
      principal: caller ?? undefined,
      origin: CorsPolicy.allowedOrigin(options.cors, Exchange.single(headers.origin)),
      verdict: undefined,
      endpoint,
      path,
      ifNoneMatch: Exchange.single(headers["if-none-match"]),
      input
    }
    const verdict = Exchange.checkLimits(options, path, flight.principal, head)
    return Effect.isEffect(verdict)
      ? Effect.flatMap(verdict, (checked) => toEffect(limited(flight, checked)))
      : limited(flight, verdict)
  }
}

const toEffect = (served: Answer | Effect.Effect<Answer>): Effect.Effect<Answer> =>
  Effect.isEffect(served) ? served : Effect.succeed(served)

/** An answer as the platform's response, for runtimes served through `HttpServerResponse`. */
export const toResponse = (answer: Answer): HttpServerResponse.HttpServerResponse =>
  answer.body === undefined
    ? HttpServerResponse.empty({ status: answer.status, headers: answer.headers })
    : HttpServerResponse.text(answer.body, {
        status: answer.status,
        headers: answer.headers,
        ...(answer.contentType === undefined ? {} : { contentType: answer.contentType })
      })
