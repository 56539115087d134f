import { execFileSync } from "node:child_process"
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, assert, beforeAll, describe, it } from "vitest"
import { startProcess } from "../../adapter-node/test/support/process.ts"
import {
  anthropicMessage,
  anthropicModels,
  anthropicStream,
  openAiCompletion,
  openAiModels,
  openAiStream,
  sse,
  startUpstream
} from "../../core/test/ai/fakes.ts"

/**
 * The bundle the image and the service unit run (`bundle.ts`), run as it ships: its main module,
 * and the chunks it imports only when a configuration needs them (the AI SDKs, undici's pool, the
 * docs page's script). A chunk that fails to load shows only there, never in the sources.
 */
const dir = mkdtempSync(join(tmpdir(), "lunarbit-bundle-"))
const bundle = join(dir, "dist")
const script = join(bundle, "main.mjs")
const recorder = new URL("../../adapter-node/test/support/record-modules.mjs", import.meta.url).pathname
const adminKey = "bundle-admin-key-0123456789abcdef0123456789"
// Found next to the bundle in the image; here the bundle is elsewhere.
const catalog = new URL("../../../examples/catalog.json", import.meta.url).pathname
const headers = { authorization: `Bearer ${adminKey}`, "content-type": "application/json" }

beforeAll(() => {
  const bundler = new URL("../bundle.ts", import.meta.url).pathname
  execFileSync(process.execPath, [bundler, bundle], { cwd: new URL("../../../", import.meta.url).pathname })
}, 120_000)
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const bundled = async (env: Record<string, string>, nodeOptions: ReadonlyArray<string> = []) => {
  const gateway = await startProcess(
    { API_KEY_ADMIN: adminKey, CATALOG_FILE: catalog, LUNARBIT_STATE_DIR: mkdtempSync(join(dir, "state-")), ...env },
    nodeOptions,
    script
  )
  assert.isFalse(Number.isNaN(gateway.port), gateway.output())
  return gateway
}

const post = async (url: string, body: unknown) => {
  const response = await fetch(url, { method: "POST", headers, body: JSON.stringify(body) })
  return { status: response.status, text: await response.text() }
}

/**
 * `chat` completed whole (the upstream's answer is `pieces` joined), then, once `streamUpstream`
 * made the upstream stream, streamed in those pieces to its end.
 */
const completesWholeAndStreamed = async (
  url: string,
  chat: object,
  pieces: ReadonlyArray<string>,
  streamUpstream: () => void
) => {
  const whole = await post(url, chat)
  assert.strictEqual(whole.status, 200, whole.text)
  assert.strictEqual(JSON.parse(whole.text).choices[0].message.content, pieces.join(""))
  streamUpstream()
  const streamed = await post(url, { ...chat, stream: true })
  assert.strictEqual(streamed.status, 200, streamed.text)
  for (const piece of pieces) assert.include(streamed.text, `"content":"${piece}"`)
  assert.isTrue(streamed.text.endsWith("data: [DONE]\n\n"))
}

const chunkNamed = (modules: ReadonlyArray<string>, name: string) =>
  modules.some((url) => url.includes(`/dist/chunks/${name}-`))

describe("the bundled gateway", () => {
  it("starts and serves without loading the chunks its configuration does not use", async () => {
    const list = join(dir, "modules.txt")
    const gateway = await bundled({ RECORD_MODULES_TO: list }, [`--import=${recorder}`])
    const health = await fetch(gateway.url("/health"))
    assert.strictEqual(health.status, 200, gateway.output())
    await gateway.stop()
    const modules = readFileSync(list, "utf8").split("\n")
    assert.isTrue(
      modules.some((url) => url.endsWith("/dist/main.mjs")),
      "the recorder saw the bundle"
    )
    const chunks = readdirSync(join(bundle, "chunks")).map((file) => `${bundle}/chunks/${file}`)
    for (const name of ["openai", "sdk", "undici", "httpApiScalar", "RedisRateLimitStore", "PgKeyStore"]) {
      // The chunk exists (so its absence below is not a name that no longer matches), and was not loaded.
      assert.isTrue(chunkNamed(chunks, name), `the bundle has no ${name} chunk`)
      assert.isFalse(chunkNamed(modules, name), `${name} was loaded at start`)
    }
  }, 60_000)

  it("forwards OpenAI-compatible completions through undici's pool and answers /ai/chat through the OpenAI SDK", async () => {
    const upstream = await startUpstream()
    upstream.on("/v1/models", openAiModels("gpt-test"))
    const gateway = await bundled({
      OPENAI_ENABLED: "true",
      OPENAI_API_KEY: "sk-upstream-0123456789",
      OPENAI_BASE_URL: `${upstream.url}/v1`,
      OPENAI_MODEL: "gpt-test"
    })
    try {
      const chat = { model: "gpt-test", messages: [{ role: "user", content: "Say hello" }] }
      upstream.on("/v1/chat/completions", openAiCompletion("Hello"))
      const sdk = await post(gateway.url("/ai/chat"), chat)
      assert.strictEqual(sdk.status, 200, sdk.text)
      assert.strictEqual(JSON.parse(sdk.text).response, "Hello")

      await completesWholeAndStreamed(gateway.url("/v1/chat/completions"), chat, ["Hel", "lo"], () =>
        upstream.on("/v1/chat/completions", sse(openAiStream(["Hel", "lo"])))
      )
    } finally {
      await gateway.stop()
      await upstream.close()
    }
  }, 60_000)

  it("translates chat completions to Anthropic through its SDK, whole and streamed", async () => {
    const upstream = await startUpstream()
    upstream.on("/v1/models", anthropicModels("claude-test"))
    const gateway = await bundled({
      ANTHROPIC_API_KEY: "sk-ant-upstream-0123456789",
      ANTHROPIC_BASE_URL: upstream.url,
      ANTHROPIC_MODEL: "claude-test"
    })
    try {
      const chat = { model: "claude-test", messages: [{ role: "user", content: "Say bonjour" }] }
      upstream.on("/v1/messages", anthropicMessage("Bonjour"))
      await completesWholeAndStreamed(gateway.url("/v1/chat/completions"), chat, ["Bon", "jour"], () =>
        upstream.on("/v1/messages", sse(anthropicStream(["Bon", "jour"])))
      )
    } finally {
      await gateway.stop()
      await upstream.close()
    }
  }, 60_000)

  it("serves the docs page with Scalar's script inline, from its chunk", async () => {
    const gateway = await bundled({})
    try {
      const response = await fetch(gateway.url("/docs"))
      const page = await response.text()
      assert.strictEqual(response.status, 200)
      assert.include(page, "window.Scalar.createApiReference")
      assert.isAbove(page.length, 3_000_000)
    } finally {
      await gateway.stop()
    }
  }, 60_000)
})
