import { Context } from "effect"

/**
 * Per-request facts the edge establishes before routing, readable anywhere below it: the request id
 * that every response and log line carries, and where error codes are documented.
 */
export interface RequestScopeShape {
  readonly requestId: string
  readonly docsUrl: string
}

export const RequestScope = Context.Reference<RequestScopeShape>("@lunarbit/gateway-core/RequestScope", {
  defaultValue: () => ({ requestId: "req_unscoped", docsUrl: "https://docs.lunarbit.dev/api-errors" })
})

const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"

/** `req_` and 20 random base-36 characters (about 103 bits). */
export const newRequestId = (): string => {
  const bytes = crypto.getRandomValues(new Uint8Array(20))
  let id = "req_"
  for (const byte of bytes) id += alphabet[byte % 36]
  return id
}
