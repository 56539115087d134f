#!/usr/bin/env node
/**
 * `lunarbit-gateway`: serves the gateway on `PORT` (3000) with the catalog from `CATALOG_FILE`.
 * Configuration is read from the environment; see the README's configuration table.
 */
import { NodeRuntime } from "@effect/platform-node"
import { Layer, Runtime } from "effect"
import * as NodeGateway from "./NodeGateway.ts"

/**
 * A stop signal (SIGTERM from `docker stop` or systemd, SIGINT) interrupts the server, which finishes
 * the requests in flight first: an orderly stop, so the exit code is 0 rather than 130, and
 * supervisors (Docker's restart policies, systemd's `Restart=on-failure`) do not count it a failure.
 */
const teardown: Runtime.Teardown = (exit, onExit) =>
  Runtime.defaultTeardown(exit, (code) => onExit(code === 130 ? 0 : code))

NodeRuntime.runMain(Layer.launch(NodeGateway.layer()), { teardown })
