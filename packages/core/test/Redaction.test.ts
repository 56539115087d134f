import { assert, describe, expect, it } from "@effect/vitest"
import { mask, redact, redactPath, redactString } from "../src/logging/Redaction.ts"

/** Wraps `value` in `depth` levels of alternating objects and arrays. */
const nest = (value: unknown, depth: number): unknown => {
  let out = value
  for (let i = 0; i < depth; i++) out = i % 2 === 0 ? { level: out } : [out]
  return out
}

const unnest = (value: unknown, depth: number): unknown => {
  let out = value
  for (let i = depth - 1; i >= 0; i--)
    out = i % 2 === 0 ? (out as { level: unknown }).level : (out as Array<unknown>)[0]
  return out
}

describe("Redaction.redact: sensitive keys", () => {
  it.each([
    "authorization",
    "Authorization",
    "token",
    "accessToken",
    "refresh_token",
    "GITHUB_TOKEN",
    "apiKey",
    "api_key",
    "x-api-key",
    "password",
    "dbPassword",
    "secret",
    "client_secret",
    "cookie",
    "key",
    "credentials",
    "privateKey"
  ])("masks the value under %s whatever it holds", (key) => {
    for (const value of ["plain", 42, { nested: "x" }, ["a"], true]) {
      assert.deepStrictEqual(redact({ [key]: value, id: "kept" }), { [key]: mask, id: "kept" })
    }
  })

  it.each([1, 2, 5, 8])("masks a secret key %i levels deep, through objects and arrays", (depth) => {
    const input = nest({ password: "hunter2", user: "ada" }, depth)
    assert.deepStrictEqual(unnest(redact(input), depth), { password: mask, user: "ada" })
  })

  it("masks secrets in every element of an array", () => {
    assert.deepStrictEqual(redact([{ token: "a" }, { token: "b" }, "lbapi_abc"]), [
      { token: mask },
      { token: mask },
      mask
    ])
  })

  it("does not mutate its input", () => {
    const input = { headers: { authorization: "Bearer abc" } }
    redact(input)
    assert.deepStrictEqual(input, { headers: { authorization: "Bearer abc" } })
  })
})

describe("Redaction.redactString: credential-shaped values", () => {
  it.each([
    { input: "lbapi_9f8e7d6c5b4a", expected: mask },
    { input: "request with key lbapi_AbC-123_xyz failed", expected: `request with key ${mask} failed` },
    { input: "key=lbapi_abc&x=1", expected: `key=${mask}&x=1` },
    { input: "openai said sk-proj-ABCdef123456 is invalid", expected: `openai said ${mask} is invalid` },
    { input: "sk-ant-api03-abcdefgh", expected: mask },
    { input: "token ghp_abcdefghijklmnopqrstuvwxyz0123 expired", expected: `token ${mask} expired` },
    { input: "gho_ABCDEFGHIJKLMNOPQRSTUV", expected: mask },
    { input: "github_pat_11ABCDEFG0123456789_abcdefghij", expected: mask },
    { input: "two: lbapi_one and lbapi_two", expected: `two: ${mask} and ${mask}` },
    { input: '{"auth":"lbapi_secretvalue"}', expected: `{"auth":"${mask}"}` }
  ])("masks the credential inside $input", ({ input, expected }) => {
    assert.strictEqual(redactString(input), expected)
  })

  it.each([
    { input: "Bearer xyz", expected: `Bearer ${mask}` },
    { input: "Authorization: Bearer abc.def.ghi", expected: `Authorization: Bearer ${mask}` },
    { input: 'header "Bearer lbapi_abc" sent', expected: `header "Bearer ${mask}" sent` }
  ])("keeps the Bearer scheme but masks its credential in $input", ({ input, expected }) => {
    assert.strictEqual(redactString(input), expected)
  })

  it.each([
    "Project 'trackly' not found",
    "version 1.2.5 published",
    "task-force meeting at risk-assessment desk-organizer",
    "scikit sk-learn",
    "ghp_short",
    "https://cdn.lunarbit.dev/trackly/1.2.5/trackly-1.2.5-win-x64.exe",
    "mylbapi_thing",
    ""
  ])("leaves %j untouched", (input) => {
    assert.strictEqual(redactString(input), input)
  })
})

describe("Redaction.redact: values that are not secrets", () => {
  it("returns non-secret data unchanged", () => {
    const input = {
      project: "trackly",
      version: "1.2.5",
      author: "Ada",
      monkey: "banana",
      keyboard: "qwerty",
      count: 3,
      ok: true,
      missing: null,
      nothing: undefined,
      list: [1, "two", { three: 3 }]
    }
    assert.deepStrictEqual(redact(input), input)
  })

  it.each([0, 1.5, true, false, null, undefined, "plain text"])("returns the scalar %j as it is", (value) => {
    assert.strictEqual(redact(value), value)
  })

  it("masks credentials in string values under harmless keys", () => {
    assert.deepStrictEqual(redact({ note: "used lbapi_abc123", header: "Bearer xyz" }), {
      note: `used ${mask}`,
      header: `Bearer ${mask}`
    })
  })

  it("keeps an error's name and masks its message", () => {
    const error = new TypeError("request with lbapi_abc123 failed")
    assert.deepStrictEqual(redact({ error }), { error: { name: "TypeError", message: `request with ${mask} failed` } })
  })
})

describe("Redaction.redact: hostile input", () => {
  it("terminates on a cyclic object", () => {
    const cyclic: Record<string, unknown> = { name: "loop", token: "lbapi_abc" }
    cyclic.self = cyclic
    const out = redact(cyclic) as Record<string, unknown>
    assert.strictEqual(out.name, "loop")
    assert.strictEqual(out.token, mask)
    assert.include(JSON.stringify(out), "[Truncated]")
    assert.notInclude(JSON.stringify(out), "lbapi_abc")
  })

  it("terminates on a cyclic array", () => {
    const cyclic: Array<unknown> = ["a"]
    cyclic.push(cyclic)
    assert.include(JSON.stringify(redact(cyclic)), "[Truncated]")
  })

  it("truncates very deep input without overflowing the stack", () => {
    const deep = nest("lbapi_deepsecret", 100_000)
    const text = JSON.stringify(redact(deep))
    assert.include(text, "[Truncated]")
    assert.notInclude(text, "lbapi_deepsecret")
    assert.isBelow(text.length, 200)
  })
})

describe("counts that merely mention tokens", () => {
  it("keeps token counts readable while masking token secrets", () => {
    expect(redact({ max_tokens: 500, tokens_used: 156, total_tokens: 9, token: "abc", refresh_token: "r" })).toEqual({
      max_tokens: 500,
      tokens_used: 156,
      total_tokens: 9,
      token: mask,
      refresh_token: mask
    })
  })

  it("masks Basic credentials in free text, keeping the scheme", () => {
    expect(redactString("Authorization: Basic dXNlcjpwYXNz")).toBe(`Authorization: Basic ${mask}`)
  })

  it("masks the development admin key", () => {
    expect(redactString("key lbadmin_abcdef123")).toBe(`key ${mask}`)
  })
})

describe("Redaction.redactPath: key-shaped parts of a request target", () => {
  const key = "lbapi_0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopq"
  it.each([
    [`/projects/${key}`, `/projects/${mask}`],
    [`/projects/${encodeURIComponent(key).replace("_", "%5F")}/channels`, `/projects/${mask}/channels`],
    [`/projects/${key.slice(6)}`, `/projects/${mask}`],
    [`/projects/trackly?key=${key}`, `/projects/trackly?key=${mask}`],
    ["/projects/trackly?api_key=short&page=2", `/projects/trackly?api_key=${mask}&page=2`],
    [`/projects?q=${key}`, `/projects?q=${mask}`],
    [`/projects?${key}`, `/projects?${mask}`],
    ["/projects/%E0%A4%A/sk-abcdefghijklmnop", `/projects/%E0%A4%A/${mask}`]
  ])("%s is logged as %s", (target, logged) => {
    expect(redactPath(target)).toBe(logged)
  })

  it.each([
    "/projects/trackly/channels/stable/versions/2.1.0-beta.3/builds/windows-x64-installer",
    "/update/check",
    "/projects?page=2&per_page=20",
    "/api/v2/projects/lunarbit-launcher"
  ])("leaves %s as it is", (target) => {
    expect(redactPath(target)).toBe(target)
  })
})
