#!/usr/bin/env node
/**
 * `lunarbit-gateway`: serves the gateway on `PORT` (3000) with the catalog from `CATALOG_FILE`.
 * Configuration is read from the environment; see the README's configuration table.
 */
import { NodeRuntime } from "@effect/platform-node"
import { Layer } from "effect"
import { answered } from "./CliHelp.ts"
import * as NodeGateway from "./NodeGateway.ts"

if (!answered(process.argv.slice(2), (text) => process.stdout.write(text))) {
  NodeRuntime.runMain(Layer.launch(NodeGateway.layer()))
}
