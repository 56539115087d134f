import { Context, type Exit } from "effect"
import type { Principal } from "../access/domain/Permissions.ts"
import type { ServiceUnavailable, Unauthorized } from "../errors/Errors.ts"

/**
 * Per-request facts the edge establishes before routing, readable anywhere below it: the request id
 * that every response and log line carries, and where error codes are documented.
 */
export interface RequestScopeShape {
  readonly requestId: string
  readonly docsUrl: string
  /** The edge's check of the request's bearer credential, reused by the endpoint's middleware. */
  readonly authentication?:
    | { readonly credential: string; readonly outcome: Exit.Exit<Principal, Unauthorized | ServiceUnavailable> }
    | undefined
}

export const RequestScope = Context.Reference<RequestScopeShape>("@lunarbit/gateway-core/RequestScope", {
  defaultValue: () => ({ requestId: "req_unscoped", docsUrl: "https://docs.lunarbit.dev/api-errors" })
})

const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"

// Random bytes are drawn in blocks: one call to the system's generator serves about 200 ids.
const pool = new Uint8Array(4096)
let offset = pool.length

/** `req_` and 20 random base-36 characters (about 103 bits). */
export const newRequestId = (): string => {
  if (offset + 20 > pool.length) {
    crypto.getRandomValues(pool)
    offset = 0
  }
  let id = "req_"
  for (let i = 0; i < 20; i++) id += alphabet[pool[offset + i]! % 36]
  offset += 20
  return id
}
