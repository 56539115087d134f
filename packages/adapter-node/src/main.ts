#!/usr/bin/env node
/**
 * `lunarbit-gateway`: serves the gateway on `PORT` (3000) with the catalog from `CATALOG_FILE`.
 * Configuration is read from the environment; see the README's configuration table.
 */
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import { Cause, Effect, Exit, Layer } from "effect"
import { answered } from "./CliHelp.ts"
import { keepCompiledCodeWhenIdle } from "./IdleCollections.ts"
import * as NodeGateway from "./NodeGateway.ts"
import * as PinoLogger from "./PinoLogger.ts"
import { keepRequestObjectsYoung } from "./Pretenuring.ts"
import { compactHeap } from "./StartupCompaction.ts"

const logger = NodeGateway.processLogger()

// SIGTERM and SIGINT interrupt the server: requests in flight finish, then this line, then exit 0.
// Anything else that stops it (a bad configuration, a catalog that fails its checks) is logged as
// fatal, in the same format as every other line, and exits 1.
// Once the gateway serves, the memory its start-up used goes back (StartupCompaction.ts), and from
// then on a pause in traffic keeps the code V8 compiled for it (IdleCollections.ts), and the
// request path's objects are never moved to the old generation at birth (Pretenuring.ts).
const started = Effect.sync(() => {
  compactHeap()
  keepCompiledCodeWhenIdle()
  keepRequestObjectsYoung()
})
const main = Layer.launch(NodeGateway.layer({ logger }).pipe(Layer.tap(() => started))).pipe(
  Effect.onExit((exit) =>
    Exit.isFailure(exit) && !Cause.hasInterruptsOnly(exit.cause)
      ? Effect.logFatal("The gateway stopped", exit.cause)
      : Effect.logInfo("Shut down: requests in flight finished")
  ),
  Effect.provide(PinoLogger.layer(logger))
)

if (!answered(process.argv.slice(2), (text) => process.stdout.write(text))) {
  NodeRuntime.runMain(main, {
    disableErrorReporting: true,
    teardown: (exit, onExit) => onExit(Exit.isFailure(exit) && !Cause.hasInterruptsOnly(exit.cause) ? 1 : 0)
  })
}
