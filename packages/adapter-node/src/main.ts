#!/usr/bin/env node
/**
 * `lunarbit-gateway`: serves the gateway on `PORT` (3000) with the catalog from `CATALOG_FILE`.
 * Configuration is read from the environment; see the README's configuration table.
 */
import { NodeRuntime } from "@effect/platform-node"
import { Layer } from "effect"
import * as NodeGateway from "./NodeGateway.ts"

NodeRuntime.runMain(Layer.launch(NodeGateway.layer()))
