import { createHash } from "node:crypto"
import { RateLimitStore } from "@lunarbit/gateway-core"
import { Config, Effect, Layer, Redacted } from "effect"
import { Redis } from "ioredis"

/**
 * `RateLimitStore.gcra` as one Redis script, so a decision is a single atomic read-modify-write on
 * the server however many gateways share it. The clock is Redis `TIME`, not the callers': gateways
 * whose clocks disagree still see one timeline. The same floating-point steps as the TypeScript
 * (Lua numbers are doubles too), and the TAT is stored with 17 significant digits so it reads back
 * exactly. Replies are whole numbers, which Redis passes on unchanged.
 */
export const gcraScript = `
-- Redis before 5 replicates scripts verbatim and refuses TIME before a write without this.
if redis.replicate_commands then redis.replicate_commands() end
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local interval = window / limit
local stored = redis.call('GET', KEYS[1])
local base = now
if stored then base = math.max(tonumber(stored), now) end
local nxt = base + interval
if nxt - now > window then
  return {0, 0, math.ceil(base), math.ceil(nxt - window - now)}
end
-- Once the TAT is past the bucket is full, the same as no key: let it expire then (within the window).
redis.call('SET', KEYS[1], string.format('%.17g', nxt), 'PX', math.ceil(nxt - now))
return {1, math.max(0, math.floor((now + window - nxt) / interval)), math.ceil(nxt), 0}
`

const gcraSha = createHash("sha1").update(gcraScript).digest("hex")

export interface Options {
  /** `redis://[user:password@]host:port[/db]` (or `rediss://` for TLS). */
  readonly url: string | Redacted.Redacted<string>
  /** Put before every bucket's key; `lunarbit:rl:` by default. */
  readonly prefix?: string | undefined
}

/**
 * Rate limits on the Redis server `client` talks to. The script runs by its SHA (`EVALSHA`) and is
 * sent in full (`EVAL`, which also caches it) only when the server does not know it, after a restart
 * or `SCRIPT FLUSH`. `hit` ignores its `now`: the decision uses Redis's clock (see {@link gcraScript}).
 */
export const make = (client: Redis, options: { readonly prefix?: string | undefined } = {}) => {
  const prefix = options.prefix ?? "lunarbit:rl:"
  const run = async (key: string, limit: number, windowMs: number) => {
    try {
      return await client.evalsha(gcraSha, 1, key, limit, windowMs)
    } catch (error) {
      if (!(error instanceof Error && error.message.startsWith("NOSCRIPT"))) throw error
      return await client.eval(gcraScript, 1, key, limit, windowMs)
    }
  }
  return RateLimitStore.RateLimitStore.of({
    hit: (bucket) =>
      Effect.tryPromise({
        try: () => run(`${prefix}${bucket.key}`, bucket.limit, bucket.windowMs),
        catch: (cause) => new RateLimitStore.StoreUnavailable({ cause })
      }).pipe(
        Effect.map((reply) => {
          const [allowed, remaining, resetAt, retryAfterMs] = reply as [number, number, number, number]
          return { allowed: allowed === 1, limit: bucket.limit, remaining, resetAt, retryAfterMs }
        })
      )
  })
}

/**
 * A connection opened at start (a wrong URL or an unreachable server fails the layer then, saying
 * so) and closed with the layer. A command fails after one reconnection attempt or 500 ms instead of
 * waiting in ioredis's queue, so an outage shows as typed errors rather than as requests that hang;
 * ioredis reconnects by itself when the server is back.
 */
const connect = (options: Options) =>
  Effect.acquireRelease(
    Effect.gen(function* () {
      const services = yield* Effect.context<never>()
      const url = Redacted.isRedacted(options.url) ? Redacted.value(options.url) : options.url
      // A command Redis does not answer within `commandTimeout` fails, so an outage is an error, not a wait.
      const client = new Redis(url, {
        lazyConnect: true,
        maxRetriesPerRequest: 1,
        connectTimeout: 5_000,
        commandTimeout: 500
      })
      // Without a listener ioredis prints each connection error to the console itself.
      client.on("error", (error: Error) =>
        Effect.runForkWith(services)(Effect.logWarning("Redis connection error (rate limits)", error.message))
      )
      return yield* Effect.tryPromise({
        try: async () => {
          try {
            await client.connect()
          } catch (error) {
            client.disconnect()
            throw error
          }
          return client
        },
        catch: (cause) => new Error(`Cannot connect to Redis for rate limits: ${(cause as Error).message}`, { cause })
      })
    }).pipe(Effect.orDie),
    (client) => Effect.promise(() => client.quit().catch(() => client.disconnect()))
  )

/** The settings read from configuration: `REDIS_URL` and `RATE_LIMIT_REDIS_PREFIX`. */
export const config: Config.Config<Options> = Config.all({
  url: Config.Redacted("REDIS_URL"),
  prefix: Config.String("RATE_LIMIT_REDIS_PREFIX").pipe(Config.withDefault("lunarbit:rl:"))
})

/** Rate limits on the Redis server at `options.url`, connected for the layer's lifetime. */
export const layer = (options: Options): Layer.Layer<RateLimitStore.RateLimitStore> =>
  Layer.effect(
    RateLimitStore.RateLimitStore,
    Effect.map(connect(options), (client) => make(client, options))
  )

/** {@link layer} with its settings from {@link config}. */
export const layerConfig: Layer.Layer<RateLimitStore.RateLimitStore, Config.ConfigError> = Layer.unwrap(
  Effect.map(config, layer)
)
