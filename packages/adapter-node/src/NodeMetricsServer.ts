import { createServer, type Server } from "node:http"
import type { AddressInfo } from "node:net"
import { type Metrics, PrometheusText } from "@lunarbit/gateway-core"
import { Config, Effect, type Option, Schema } from "effect"

/** Where the metrics listener binds: `METRICS_PORT` (off when unset) on `METRICS_HOST` (loopback). */
export interface Settings {
  readonly port: Option.Option<number>
  readonly host: string
}

export const config: Config.Config<Settings> = Config.all({
  port: Config.option(
    Config.schema(Schema.Int.check(Schema.isBetween({ minimum: 0, maximum: 65_535 })), "METRICS_PORT")
  ),
  host: Config.String("METRICS_HOST").pipe(Config.withDefault("127.0.0.1"))
})

/**
 * A listener of its own for Prometheus, apart from the API: `GET /metrics` in the text exposition
 * format and nothing else. It binds to loopback unless `METRICS_HOST` says otherwise, so the
 * figures (route names, providers, key failures) are never on the public port; a scraper on
 * another host reaches it through a private network (the compose profile) or a sidecar.
 */
export const serve = (registry: Metrics.Registry, port: number, host: string) =>
  Effect.gen(function* () {
    const server = yield* Effect.acquireRelease(
      Effect.callback<Server, Error>((resume) => {
        const server = createServer((request, response) => {
          const path = (request.url ?? "/").split("?")[0]
          if (path !== "/metrics") {
            response.writeHead(404, { "content-type": "text/plain" }).end("Not found: scrape /metrics\n")
            return
          }
          if (request.method !== "GET" && request.method !== "HEAD") {
            response.writeHead(405, { allow: "GET, HEAD", "content-type": "text/plain" }).end()
            return
          }
          Effect.runPromise(PrometheusText.render(registry)).then(
            (text) => response.writeHead(200, { "content-type": PrometheusText.contentType }).end(text),
            () => response.writeHead(500).end()
          )
        })
        server.once("error", (error) => resume(Effect.fail(error)))
        server.listen(port, host, () => resume(Effect.succeed(server)))
      }),
      (server) =>
        Effect.callback<void>((resume) => {
          server.close(() => resume(Effect.void))
        })
    )
    const address = server.address() as AddressInfo
    yield* Effect.logInfo(`Metrics on http://${address.address}:${address.port}/metrics`)
    return address
  })
