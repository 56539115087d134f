import { Edge, ErrorEnvelope, Errors, GatewayConfig, GatewayError, Redaction } from "@lunarbit/gateway-core"
import { Config, ConfigProvider, Effect } from "effect"
import * as JsonConsoleLog from "./JsonConsoleLog.ts"
import type { WorkerBindings } from "./WorkerBindings.ts"

/** Why the gateway cannot serve: a log line for the operator and a message for every client. */
export interface Problem {
  readonly msg: string
  readonly fields: object
  readonly answer: string
}

/** The problem behind a failed start: an invalid catalog, an invalid variable, or anything else. */
export const fromFailure = (failure: unknown): Problem => {
  if (GatewayError.isGatewayError(failure) && failure.code === "INVALID_CATALOG") {
    return {
      msg: `The gateway cannot serve: the CATALOG binding is invalid (${failure.message})`,
      fields: failure.details ?? {},
      answer: "The gateway is misconfigured: its CATALOG binding is invalid. The Worker's log lists the problems."
    }
  }
  // A configuration message may quote the offending value, which can be a secret.
  const error = Redaction.redactString(
    failure instanceof Config.ConfigError || failure instanceof Error ? failure.message : String(failure)
  )
  if (failure instanceof Config.ConfigError) {
    return {
      msg: "The gateway cannot serve: a configuration variable is invalid",
      fields: { error },
      answer: "The gateway is misconfigured: a configuration variable is invalid. The Worker's log names it."
    }
  }
  return {
    msg: "The gateway cannot serve: it failed to start",
    fields: { error },
    answer: "The gateway failed to start. The Worker's log has the cause."
  }
}

/** Without `API_KEY_ADMIN` no key can be created, and a Worker without D1 has no other credential. */
export const missingAdminKey: Problem = {
  msg: "The gateway cannot serve: API_KEY_ADMIN is not set; add it with `npx wrangler secret put API_KEY_ADMIN`",
  fields: {},
  answer: "The gateway is misconfigured: it has no API key. The Worker's log says which secret to set."
}

/**
 * The settings to answer with when the configuration itself is invalid: the defaults, with the
 * `DOCS_URL` binding kept so error links still point at the operator's documentation.
 */
export const fallbackConfig = (env: WorkerBindings): GatewayConfig.GatewayConfigShape =>
  Effect.runSync(
    GatewayConfig.config.parse(
      ConfigProvider.fromUnknown(typeof env.DOCS_URL === "string" ? { DOCS_URL: env.DOCS_URL } : {})
    )
  )

const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"

// The shape of the core's request ids, `req_` and 20 random base-36 characters: the edge that makes
// them is not running, and the core does not export its generator.
const newRequestId = (): string => {
  let id = "req_"
  for (const byte of crypto.getRandomValues(new Uint8Array(20))) id += alphabet[byte % 36]
  return id
}

/**
 * The Worker's answer when the gateway cannot serve: every request gets the spec's error envelope
 * (500 `INTERNAL_ERROR` with a request id and the security headers) and an access-log line, and the
 * first request an isolate serves logs the problem, with every catalog problem, as one JSON line.
 * Clients learn only that the gateway is misconfigured; the details stay in the operator's log.
 */
export const make = (
  config: Pick<GatewayConfig.GatewayConfigShape, "docsUrl" | "logLevel">,
  problem: Problem
): ((request: Request) => Promise<Response>) => {
  const error = new Errors.InternalError({ message: problem.answer })
  const accessLog = JsonConsoleLog.accessLog(config.logLevel)
  let reported = false
  return (request) => {
    if (!reported) {
      reported = true
      JsonConsoleLog.write("fatal", problem.msg, problem.fields)
    }
    const started = performance.now()
    const requestId = newRequestId()
    const response = Response.json(ErrorEnvelope.body(error, { requestId, docsUrl: config.docsUrl }), {
      status: error.status,
      headers: { ...Edge.securityHeaders, "x-request-id": requestId }
    })
    accessLog({
      request_id: requestId,
      method: request.method,
      path: new URL(request.url).pathname,
      status: response.status,
      duration_ms: Math.round((performance.now() - started) * 1000) / 1000
    })
    return Promise.resolve(response)
  }
}
