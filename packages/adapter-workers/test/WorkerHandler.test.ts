import { readFileSync } from "node:fs"
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest"
import * as WorkerHandler from "../src/WorkerHandler.ts"
import { read } from "./answers.ts"
import { adminKey } from "./exchanges.ts"

// The handler is plain Web-standard code, so the ways it refuses to start are checked here in
// process; worker.test.ts runs the real Worker in workerd.
const catalogText = readFileSync(new URL("../../../examples/catalog.json", import.meta.url), "utf8")

let lines: Array<Record<string, any>>
beforeEach(() => {
  lines = []
  const capture = (line: string) => {
    lines.push(JSON.parse(line))
  }
  vi.spyOn(console, "log").mockImplementation(capture)
  vi.spyOn(console, "error").mockImplementation(capture)
})
afterEach(() => {
  vi.restoreAllMocks()
})

/** Asks a Worker built from `env` twice, and returns its error envelope and its fatal log lines. */
const refusal = async (env: Record<string, unknown>) => {
  const { fetch } = WorkerHandler.make(env)
  const answers = [
    await read(await fetch(new Request("http://gateway.test/health"))),
    await read(
      await fetch(new Request("http://gateway.test/projects", { headers: { authorization: `Bearer ${adminKey}` } }))
    )
  ]
  for (const answer of answers) {
    expect(answer.status).toBe(500)
    expect(answer.headers).toMatchObject({ "content-type": "application/json", "x-frame-options": "DENY" })
    expect(answer.body).toEqual(answers[0]!.body)
  }
  const accessLog = lines.filter((line) => line.msg === "request").map((line) => line.request_id)
  expect(accessLog).toEqual(answers.map((answer) => answer.requestId))
  return {
    error: (answers[0]!.body as { readonly error: Record<string, unknown> }).error,
    fatal: lines.filter((line) => line.level === 60)
  }
}

describe("WorkerHandler.make", () => {
  it("serves the gateway from a catalog bound as text", async () => {
    const { fetch } = WorkerHandler.make({ CATALOG: catalogText, API_KEY_ADMIN: adminKey })
    const answer = await read(
      await fetch(
        new Request("http://gateway.test/projects/csviewer", { headers: { authorization: `Bearer ${adminKey}` } })
      )
    )
    expect(answer.status).toBe(200)
    expect(answer.body).toMatchObject({ id: "csviewer", latest_version: "3.0.0" })
  })

  it("says when the CATALOG binding is missing", async () => {
    const { error, fatal } = await refusal({ API_KEY_ADMIN: adminKey })
    expect(error.message).toBe(
      "The gateway is misconfigured: its CATALOG binding is invalid. The Worker's log lists the problems."
    )
    expect(fatal).toMatchObject([
      { msg: "The gateway cannot serve: the CATALOG binding is invalid (The CATALOG binding is missing)" }
    ])
  })

  it("says when the CATALOG text is not JSON", async () => {
    const { fatal } = await refusal({ API_KEY_ADMIN: adminKey, CATALOG: "{ projects: [] }" })
    expect(fatal).toMatchObject([
      {
        msg: "The gateway cannot serve: the CATALOG binding is invalid (The CATALOG binding is not valid JSON)",
        problems: [expect.stringContaining("JSON")]
      }
    ])
  })

  it("names an invalid variable, and keeps DOCS_URL for the error links", async () => {
    const { error, fatal } = await refusal({
      API_KEY_ADMIN: adminKey,
      CATALOG: catalogText,
      LOG_LEVEL: "verbose",
      DOCS_URL: "https://docs.example.com/errors"
    })
    expect(error).toMatchObject({
      code: "INTERNAL_ERROR",
      message: "The gateway is misconfigured: a configuration variable is invalid. The Worker's log names it.",
      documentation_url: "https://docs.example.com/errors#INTERNAL_ERROR"
    })
    expect(fatal).toMatchObject([
      {
        msg: "The gateway cannot serve: a configuration variable is invalid",
        error: expect.stringContaining("LOG_LEVEL")
      }
    ])
  })

  it("asks for API_KEY_ADMIN, the one key a Worker accepts", async () => {
    const { error, fatal } = await refusal({ CATALOG: catalogText })
    expect(error.message).toBe(
      "The gateway is misconfigured: it has no API key. The Worker's log says which secret to set."
    )
    expect(fatal).toMatchObject([{ msg: expect.stringContaining("npx wrangler secret put API_KEY_ADMIN") }])
  })

  it("keeps secrets out of the log when a variable is invalid", async () => {
    const { fatal } = await refusal({ API_KEY_ADMIN: adminKey, CATALOG: catalogText, MAX_BODY_BYTES: adminKey })
    expect(JSON.stringify(fatal)).not.toContain(adminKey)
  })
})
