import { Context, Effect, Layer } from "effect"
import type { Principal } from "../access/domain/Permissions.ts"
import { type GatewayErrorShape, isGatewayError } from "../errors/GatewayError.ts"

/** Who made a request, as a hook may see it: the key's name and permissions, never the key. */
export interface HookPrincipal {
  /** The key's name; `admin` for the `API_KEY_ADMIN` key. */
  readonly name: string
  readonly permissions: ReadonlyArray<string>
  readonly isAdmin: boolean
}

/** A request that passed authentication and the rate limits and found its endpoint. */
export interface RequestFacts {
  readonly requestId: string
  readonly method: string
  /** The path without the `/api/v2` prefix and the query, e.g. `/projects/trackly`. */
  readonly path: string
  /** The endpoint's route template, e.g. `/projects/:projectId`. */
  readonly route: string
  /** `undefined` for a request without a valid key (a public route, or one about to be refused). */
  readonly principal: HookPrincipal | undefined
}

/** A response the gateway has decided on, just before it is sent. */
export interface ResponseFacts {
  readonly requestId: string
  readonly method: string
  readonly path: string
  /** `undefined` when no endpoint matched (404, 405) or the edge answered itself (CORS preflight, 429). */
  readonly route: string | undefined
  readonly status: number
  /** Time since the request arrived, in milliseconds. */
  readonly durationMs: number
  readonly principal: HookPrincipal | undefined
}

/**
 * Hooks for embedders, as Effects. `onRequest` runs after authentication and rate limiting, before
 * the endpoint; failing with a gateway error (`new Errors.Forbidden({ message })`) refuses the
 * request with that error's envelope. `onResponse` sees every answer. Any other failure or defect
 * of a hook is logged and that request answered `500 INTERNAL_ERROR`; the gateway keeps serving.
 */
export interface HooksShape {
  readonly onRequest?: ((request: RequestFacts) => Effect.Effect<void, GatewayErrorShape>) | undefined
  readonly onResponse?: ((response: ResponseFacts) => Effect.Effect<void, unknown>) | undefined
}

/** The gateway's hooks; none by default, so the gateway runs without them. */
export const Hooks = Context.Reference<HooksShape>("@lunarbit/gateway-core/Hooks", { defaultValue: () => ({}) })

/** Provides `hooks` to the gateway (`Gateway.layer`, `Gateway.layerApp`, `Gateway.webHandler`). */
export const layer = (hooks: HooksShape): Layer.Layer<never> => Layer.succeed(Hooks, hooks) as Layer.Layer<never>

/** The same hooks as plain functions, for code that does not use Effect. */
export interface PromiseHooks {
  /** Throw (or reject with) a gateway error, e.g. `new Errors.Forbidden({ message })`, to refuse the request. */
  readonly onRequest?: ((request: RequestFacts) => void | PromiseLike<void>) | undefined
  readonly onResponse?: ((response: ResponseFacts) => void | PromiseLike<void>) | undefined
}

const isPromiseLike = (value: unknown): value is PromiseLike<void> =>
  typeof value === "object" && value !== null && typeof (value as PromiseLike<void>).then === "function"

// A gateway error thrown by the hook refuses the request; anything else is the hook's own fault.
const refusalOrDefect = (error: unknown): Effect.Effect<never, GatewayErrorShape> =>
  isGatewayError(error) ? Effect.fail(error) : Effect.die(error)

// A synchronous hook runs without an Effect of its own beyond `Effect.void`.
const fromFunction =
  <A>(hook: (facts: A) => void | PromiseLike<void>) =>
  (facts: A): Effect.Effect<void, GatewayErrorShape> => {
    let result: void | PromiseLike<void>
    try {
      result = hook(facts)
    } catch (error) {
      return refusalOrDefect(error)
    }
    if (!isPromiseLike(result)) return Effect.void
    const pending = result
    return Effect.tryPromise({ try: () => Promise.resolve(pending), catch: (error) => error }).pipe(
      Effect.asVoid,
      Effect.catch(refusalOrDefect)
    )
  }

/** Hooks given as plain (async) functions, as Effects. */
export const fromPromises = (hooks: PromiseHooks): HooksShape => ({
  onRequest: hooks.onRequest === undefined ? undefined : fromFunction(hooks.onRequest),
  onResponse: hooks.onResponse === undefined ? undefined : fromFunction(hooks.onResponse)
})

/** What a hook may know of `principal`: a fresh copy, so a hook cannot change the gateway's. */
export const principalFacts = (principal: Principal | undefined): HookPrincipal | undefined =>
  principal === undefined
    ? undefined
    : { name: principal.name, permissions: [...principal.permissions], isAdmin: principal.isAdmin }
