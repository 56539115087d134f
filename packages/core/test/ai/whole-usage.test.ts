import { describe, expect, it } from "vitest"
import { usageIn } from "../../src/ai/providers/OpenAiPassThrough.ts"

const usage = { prompt_tokens: 12, completion_tokens: 30, total_tokens: 42 }
const counted = { promptTokens: 12, completionTokens: 30, totalTokens: 42 }
const answer = (fields: Record<string, unknown>) =>
  JSON.stringify({ id: "chatcmpl-1", object: "chat.completion", created: 1, model: "m", ...fields })
const choices = (content: string, extra: Record<string, unknown> = {}) => [
  { index: 0, message: { role: "assistant", content, ...extra }, finish_reason: "stop" }
]

describe("the usage of a whole answer", () => {
  it("reads the answer's own usage, wherever it stands and however it is spaced", () => {
    expect(usageIn(answer({ choices: choices("Hello"), usage }))).toEqual(counted)
    expect(usageIn(answer({ usage, choices: choices("Hello"), system_fingerprint: "fp" }))).toEqual(counted)
    const detailed = { ...usage, prompt_tokens_details: { cached_tokens: 4 }, completion_tokens_details: {} }
    expect(usageIn(answer({ choices: choices("Hi"), usage: detailed }))).toEqual(counted)
    expect(usageIn(JSON.stringify(JSON.parse(answer({ choices: choices("Hi"), usage })), null, 2))).toEqual(counted)
  })

  it("is not fooled by usage-shaped text in the completion or by an object's own usage inside the answer", () => {
    const lure = 'Report: "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 999} {'
    expect(usageIn(answer({ choices: choices(lure), usage }))).toEqual(counted)
    const inner = { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 }
    // An object inside the answer with a usage of its own, written after the answer's: not the answer's usage.
    expect(usageIn(answer({ usage, choices: choices("Hi", { tool_report: { usage: inner } }) }))).toEqual(counted)
    expect(usageIn(answer({ choices: choices("Hi", { tool_report: { usage: inner } }) }))).toBeUndefined()
  })

  it("answers nothing for an answer without usage, with a null one, or that is not JSON", () => {
    expect(usageIn(answer({ choices: choices("Hi") }))).toBeUndefined()
    expect(usageIn(answer({ choices: choices("Hi"), usage: null }))).toBeUndefined()
    expect(usageIn('{"usage": {"prompt_tokens": 1,')).toBeUndefined()
    expect(usageIn("not json")).toBeUndefined()
  })
})
