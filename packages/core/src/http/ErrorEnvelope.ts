import { type Effect, Schema, SchemaIssue } from "effect"
import { HttpServerResponse } from "effect/http"
import type { HttpApiError } from "effect/http-api"
import * as Errors from "../errors/Errors.ts"
import { type GatewayErrorShape, isGatewayError } from "../errors/GatewayError.ts"
import { redact, redactString } from "../logging/Redaction.ts"
import { RequestScope } from "./RequestScope.ts"

/**
 * The one place where errors become the spec's envelope:
 * `{ "error": { code, message, details, documentation_url, request_id } }`. Message and details
 * pass the logs' redaction: an error may echo the request or an upstream, and with it a credential.
 */
export const body = (error: GatewayErrorShape, scope: { readonly requestId: string; readonly docsUrl: string }) => ({
  error: {
    code: error.code,
    message: redactString(error.message),
    details: error.details === undefined ? {} : (redact(error.details) as Record<string, unknown>),
    documentation_url: `${scope.docsUrl}#${error.code}`,
    request_id: scope.requestId
  }
})

// Responses built here, so the edge can tell them from framework answers that still need an envelope.
const envelopes = new WeakSet<HttpServerResponse.HttpServerResponse>()

export const isEnvelope = (response: HttpServerResponse.HttpServerResponse): boolean => envelopes.has(response)

/** The envelope response of `error` for the request of `scope`, built synchronously (the edge's path). */
export const responseFor = (
  error: GatewayErrorShape,
  scope: { readonly requestId: string; readonly docsUrl: string }
): HttpServerResponse.HttpServerResponse => {
  const response = HttpServerResponse.jsonUnsafe(body(error, scope), {
    status: error.status,
    headers:
      // Any error that knows when to come back says so the standard way too (429, 503 from the AI router).
      typeof error.details?.retry_after === "number" ? { "retry-after": String(error.details.retry_after) } : undefined
  })
  envelopes.add(response)
  return response
}

export const response = (error: GatewayErrorShape): Effect.Effect<HttpServerResponse.HttpServerResponse> =>
  RequestScope.useSync((scope) => responseFor(error, scope))

/** The schema that declares gateway errors to `HttpApi`, so handlers and middleware may fail with them. */
export const GatewayErrorSchema = Schema.declare<GatewayErrorShape>(isGatewayError, {
  identifier: "GatewayError",
  description: "Every error answers { error: { code, message, details, documentation_url, request_id } }"
})

const issuePath = (segment: PropertyKey | { readonly key: PropertyKey }): string => {
  const key = typeof segment === "object" ? segment.key : segment
  return String(key)
}

const formatIssues = SchemaIssue.makeFormatterStandardSchemaV1()

const slotNames: Record<string, string> = { Params: "path", Query: "query", Payload: "body", Headers: "headers" }

/** A request that failed schema decoding: a 400 whose details name each failing field. */
export const fromSchemaError = (error: HttpApiError.HttpApiSchemaError): GatewayErrorShape =>
  fromIssue(error.kind, error.cause.issue)

/** The 400 of a request part (`Payload`, `Query`...) that failed decoding with `issue`. */
export const fromIssue = (kind: string, issue: SchemaIssue.Issue): GatewayErrorShape => {
  const slot = slotNames[kind] ?? kind.toLowerCase()
  const issues = formatIssues(issue).issues.map((issue) => ({
    field: [slot, ...(issue.path ?? []).map(issuePath)].join("."),
    message: issue.message
  }))
  return new Errors.InvalidRequest({
    message: issues.length === 1 ? `Invalid ${issues[0]!.field}: ${issues[0]!.message}` : "The request is invalid",
    details: { issues }
  })
}
