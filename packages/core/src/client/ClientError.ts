import { Data } from "effect"

/**
 * Every failure a client call can end in, as one typed value. Answers of the gateway carry its error
 * envelope: `code` (`PROJECT_NOT_FOUND`, `RATE_LIMIT_EXCEEDED`...), `message`, `details`, the
 * `documentation_url` and the `request_id` to quote in a support request. Failures that never
 * reached an envelope have a code of their own: `NETWORK_ERROR` (status 0: no answer) and
 * `INVALID_RESPONSE` (an answer that is not the gateway's, such as a proxy's error page).
 */
export class GatewayClientError extends Data.TaggedError("GatewayClientError")<{
  /** The HTTP status; 0 when no answer arrived. */
  readonly status: number
  readonly code: string
  readonly message: string
  readonly details: Readonly<Record<string, unknown>>
  readonly requestId: string | undefined
  readonly documentationUrl: string | undefined
  /** Seconds the gateway asked to wait (`Retry-After`), on 429 and 503. */
  readonly retryAfter: number | undefined
}> {}

interface Envelope {
  readonly error: {
    readonly code: string
    readonly message: string
    readonly details?: Record<string, unknown>
    readonly documentation_url?: string
    readonly request_id?: string
  }
}

const isEnvelope = (body: unknown): body is Envelope => {
  const error = (body as { error?: unknown } | null)?.error as Record<string, unknown> | undefined
  return typeof error === "object" && error !== null && typeof error.code === "string"
}

/** The error an answer of status `status` with body `body` means. */
export const fromResponse = (
  status: number,
  body: unknown,
  retryAfter: number | undefined = undefined
): GatewayClientError =>
  isEnvelope(body)
    ? new GatewayClientError({
        status,
        code: body.error.code,
        message: typeof body.error.message === "string" ? body.error.message : body.error.code,
        details: body.error.details ?? {},
        requestId: body.error.request_id,
        documentationUrl: body.error.documentation_url,
        retryAfter
      })
    : new GatewayClientError({
        status,
        code: "INVALID_RESPONSE",
        message: `The server answered ${status} without the gateway's error envelope`,
        details: {},
        requestId: undefined,
        documentationUrl: undefined,
        retryAfter
      })

/** A failure before any answer: DNS, refused connection, aborted request. */
export const network = (message: string): GatewayClientError =>
  new GatewayClientError({
    status: 0,
    code: "NETWORK_ERROR",
    message,
    details: {},
    requestId: undefined,
    documentationUrl: undefined,
    retryAfter: undefined
  })
