import { mkdtempSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, assert, describe, it } from "vitest"
import { openAiCompletion, openAiModels, startUpstream } from "../../core/test/ai/fakes.ts"
import { startProcess } from "./support/process.ts"

const dir = mkdtempSync(join(tmpdir(), "lunarbit-footprint-"))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
const recorder = new URL("./support/record-modules.mjs", import.meta.url).pathname

const adminKey = "footprint-admin-key-0123456789abcdef0123"

/** A chat sent to `url` as the admin, as an AI client sends it. */
const chat = (url: string) =>
  fetch(url, {
    method: "POST",
    headers: { authorization: `Bearer ${adminKey}`, "content-type": "application/json" },
    body: JSON.stringify({ model: "gpt-test", messages: [{ role: "user", content: "Say hello" }] })
  })

/**
 * The modules a gateway resolved from start to a clean stop, with `env` as its configuration,
 * having answered `GET path`, or the request `send` makes (its answer returned as `page`).
 */
const modulesLoaded = async (
  env: Record<string, string>,
  path = "/health",
  send: (url: string) => Promise<Response> = (url) => fetch(url)
) => {
  const list = join(dir, `modules-${Date.now()}.txt`)
  const gateway = await startProcess(
    { API_KEY_ADMIN: adminKey, LUNARBIT_STATE_DIR: dir, RECORD_MODULES_TO: list, ...env },
    [`--import=${recorder}`]
  )
  const response = await send(gateway.url(path))
  const page = await response.text()
  assert.strictEqual(response.status, 200, gateway.output())
  await gateway.stop()
  return { modules: readFileSync(list, "utf8").split("\n"), page }
}
const scalarScript = (url: string) => url.includes("/http-api/internal/httpApiScalar.")

// What the configuration does not use costs memory for as long as the process runs: every module
// loaded keeps its code, and its top-level objects, resident.
describe("a gateway's start-up footprint", () => {
  it("loads no PostgreSQL or Redis client when its stores are SQLite and memory", async () => {
    const { modules } = await modulesLoaded({})
    assert.isTrue(
      modules.some((url) => url.includes("/node_modules/effect/")),
      "the recorder saw the gateway's modules"
    )
    const drivers = modules.filter((url) => /\/node_modules\/(ioredis|pg|pg-[^/]+|@effect\/sql-pg)\//.test(url))
    assert.deepStrictEqual(drivers, [])
  }, 60_000)

  it("loads no AI SDK and no upstream HTTP pool when no AI provider is configured", async () => {
    const { modules } = await modulesLoaded({})
    const ai = modules.filter((url) => /\/node_modules\/(openai|@anthropic-ai\/sdk|undici)\//.test(url))
    assert.deepStrictEqual(ai, [])
  }, 60_000)

  it("forwards OpenAI-compatible chat completions and probes the host without the OpenAI SDK, which /ai/chat loads", async () => {
    const upstream = await startUpstream()
    upstream.on("/v1/models", openAiModels("gpt-test"))
    upstream.on("/v1/chat/completions", openAiCompletion("Hello"))
    const env = {
      OPENAI_ENABLED: "true",
      OPENAI_API_KEY: "sk-footprint-0123456789",
      OPENAI_BASE_URL: `${upstream.url}/v1`,
      OPENAI_MODEL: "gpt-test"
    }
    const sdk = (modules: ReadonlyArray<string>) => modules.some((url) => url.includes("/node_modules/openai/"))
    try {
      const forwarded = await modulesLoaded(env, "/v1/chat/completions", chat)
      assert.include(forwarded.page, "Hello")
      assert.isFalse(sdk(forwarded.modules))
      const chatted = await modulesLoaded(env, "/ai/chat", chat)
      assert.include(chatted.page, "Hello")
      assert.isTrue(sdk(chatted.modules))
    } finally {
      await upstream.close()
    }
  }, 60_000)

  it("loads the docs page's 3 MB script on the page's first visit, not at start", async () => {
    assert.isFalse((await modulesLoaded({})).modules.some(scalarScript))
    const { modules, page } = await modulesLoaded({}, "/docs")
    assert.isTrue(modules.some(scalarScript))
    // Still the offline page: the script inline, nothing fetched from a CDN.
    assert.include(page, "window.Scalar.createApiReference")
    assert.notInclude(page, '<script src="https://cdn.jsdelivr.net')
    assert.isAbove(page.length, 3_000_000)
  }, 60_000)
})
