import { Context } from "effect"
import { HttpApiMiddleware, HttpApiSecurity } from "effect/http-api"
import type { Principal } from "../../access/domain/Permissions.ts"
import { GatewayErrorSchema } from "../../http/ErrorEnvelope.ts"

/** The caller of a feed: the key's principal, or `undefined` when no key was sent. */
export class FeedCaller extends Context.Service<FeedCaller, Principal | undefined>()(
  "@lunarbit/gateway-core/FeedCaller"
) {}

/**
 * Authentication for updater feeds. A key, when sent, is checked as everywhere else; without one the
 * request goes on anonymously and the feed answers only for a channel with `public_feeds: true`
 * (for updaters that cannot send headers, such as Squirrel).
 */
export class FeedAccess extends HttpApiMiddleware.Service<FeedAccess, { provides: FeedCaller }>()(
  "@lunarbit/gateway-core/FeedAccess",
  { security: { bearer: HttpApiSecurity.bearer }, error: GatewayErrorSchema }
) {}
