/**
 * `node --conditions=@lunarbit/source bench/lane.ts`: the direct lane's own cost per request, without
 * HTTP: the update check's head answered in a loop through `Gateway.Lanes` (key cache, limits,
 * handler, encoding, headers, access log to a discarding destination), with the admin key.
 */
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Writable } from "node:stream"
import { Gateway } from "@lunarbit/gateway-core"
import { Context, Effect, Layer } from "effect"
import { HttpServerRequest } from "effect/http"
import * as NodeGateway from "../packages/adapter-node/src/NodeGateway.ts"

const stateDir = mkdtempSync(join(tmpdir(), "lunarbit-lane-"))
const env = {
  API_KEY_ADMIN: "bench-admin-key-0123456789abcdef0123456789",
  LUNARBIT_STATE_DIR: stateDir,
  DATABASE_PATH: `${stateDir}/gateway.db`,
  BUILD_VERIFICATION: "false",
  RATE_LIMIT_IP_MAX: "1000000000",
  RATE_LIMIT_KEY_MAX: "1000000000",
  CATALOG_FILE: new URL("../examples/catalog.json", import.meta.url).pathname
}
const discard = new Writable({ write: (_chunk, _encoding, done) => done() })
const iterations = Number(process.env.LANE_ITERATIONS ?? 200_000)

await Effect.runPromise(
  Effect.scoped(
    Effect.gen(function* () {
      const context = yield* Layer.build(NodeGateway.appLayer({ env, logDestination: discard as never }))
      const lanes = Context.get(context, Gateway.Lanes)
      const head = {
        method: "GET",
        url:
          process.env.LANE_PATH ??
          "/projects/trackly/channels/stable/update?current_version=1.1.0&platform=windows&architecture=x64",
        headers: { host: "localhost", authorization: `Bearer ${env.API_KEY_ADMIN}` },
        remoteAddress: "127.0.0.1"
      }
      // The first request takes the complete lane, which verifies the key and fills the key cache.
      const request = HttpServerRequest.fromWeb(new Request(`http://localhost${head.url}`, { headers: head.headers }))
      yield* Effect.provideService(lanes.complete, HttpServerRequest.HttpServerRequest, request)
      for (let i = 0; i < 20_000; i++) lanes.direct(head)
      // CPU time rather than wall time, so that other work on the machine does not count.
      const started = process.cpuUsage()
      for (let i = 0; i < iterations; i++) lanes.direct(head)
      const used = process.cpuUsage(started)
      const us = (used.user + used.system) / iterations
      console.log(`direct lane, ${head.url}: ${us.toFixed(2)} µs per request`, lanes.direct(head))
    })
  )
)
