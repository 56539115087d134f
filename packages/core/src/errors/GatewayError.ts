import { type Cause, Data } from "effect"

/** Extra, machine-readable context carried in the envelope's `details`. */
export type ErrorDetails = Readonly<Record<string, unknown>>

const GatewayErrorTypeId = "~@lunarbit/gateway-core/GatewayError"

/** What every gateway error carries: its public code, its HTTP status, a message and optional details. */
export interface GatewayErrorShape {
  readonly [GatewayErrorTypeId]: typeof GatewayErrorTypeId
  readonly _tag: string
  readonly code: string
  readonly status: number
  readonly message: string
  readonly details?: ErrorDetails | undefined
}

/** The constructor `GatewayError(...)` returns, spelled out so declaration files can name it. */
export interface GatewayErrorClass<Tag extends string> {
  new (args: {
    readonly message: string
    readonly details?: ErrorDetails | undefined
  }): Cause.YieldableError & GatewayErrorShape & { readonly _tag: Tag; readonly details?: ErrorDetails | undefined }
}

/**
 * Builds the base class of one gateway error. Each error is a tagged, yieldable error whose public
 * `code` and HTTP `status` are fixed by its class, so handlers only say what went wrong.
 */
export const GatewayError = <const Tag extends string>(
  tag: Tag,
  code: string,
  status: number
): GatewayErrorClass<Tag> =>
  class extends Data.TaggedError(tag)<{ readonly message: string; readonly details?: ErrorDetails | undefined }> {
    readonly [GatewayErrorTypeId] = GatewayErrorTypeId
    readonly code = code
    readonly status = status
  }

export const isGatewayError = (u: unknown): u is GatewayErrorShape =>
  typeof u === "object" && u !== null && GatewayErrorTypeId in u
