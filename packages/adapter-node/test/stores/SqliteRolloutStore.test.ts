import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll } from "@effect/vitest"
import { rolloutStoreSuite } from "@lunarbit/gateway-core/testing"
import { Layer, Logger } from "effect"
import * as SqliteRolloutStore from "../../src/SqliteRolloutStore.ts"

const dir = mkdtempSync(join(tmpdir(), "lunarbit-sqlite-rollouts-"))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

rolloutStoreSuite(
  "SQLite file",
  SqliteRolloutStore.layer({ path: join(dir, "gateway.db") }).pipe(Layer.provide(Logger.layer([])))
)
