import OpenAI from "openai"
import { describe, expect, it } from "vitest"
import { anthropicModels, json, type SseEvent, sse } from "./fakes.ts"
import { sdkSuite } from "./support.ts"

const weatherTool = {
  type: "function" as const,
  function: {
    name: "weather",
    description: "The weather in a city",
    parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] }
  }
}

/** A Messages API stream that calls a tool: a text block, then a `tool_use` block whose input arrives in pieces. */
const toolUseStream: Array<SseEvent> = [
  {
    event: "message_start",
    data: {
      type: "message_start",
      message: {
        id: "msg_1",
        type: "message",
        role: "assistant",
        content: [],
        model: "claude-test",
        stop_reason: null,
        stop_sequence: null,
        usage: { input_tokens: 50, output_tokens: 1 }
      }
    }
  },
  {
    event: "content_block_start",
    data: { type: "content_block_start", index: 0, content_block: { type: "text", text: "" } }
  },
  {
    event: "content_block_delta",
    data: { type: "content_block_delta", index: 0, delta: { type: "text_delta", text: "Checking." } }
  },
  { event: "content_block_stop", data: { type: "content_block_stop", index: 0 } },
  {
    event: "content_block_start",
    data: {
      type: "content_block_start",
      index: 1,
      content_block: { type: "tool_use", id: "toolu_1", name: "weather", input: {} }
    }
  },
  { event: "ping", data: { type: "ping" } },
  ...['{"city":', ' "Oslo"}'].map((piece) => ({
    event: "content_block_delta",
    data: { type: "content_block_delta", index: 1, delta: { type: "input_json_delta", partial_json: piece } }
  })),
  { event: "content_block_stop", data: { type: "content_block_stop", index: 1 } },
  {
    event: "message_delta",
    data: {
      type: "message_delta",
      delta: { stop_reason: "tool_use", stop_sequence: null },
      usage: { output_tokens: 20 }
    }
  },
  { event: "message_stop", data: { type: "message_stop" } }
]

describe("/v1 translated onto Anthropic's Messages API, driven by the openai SDK", () => {
  const suite = sdkSuite(
    (url) => ({
      ANTHROPIC_API_KEY: "sk-ant-secret",
      ANTHROPIC_BASE_URL: url,
      ANTHROPIC_MODEL: "claude-test"
    }),
    (upstream) => upstream.on("/v1/models", anthropicModels("claude-test"))
  )

  const messagesSent = () => suite.upstream.received.filter((request) => request.path === "/v1/messages")

  it("translates tools, tool results, images and JSON mode, and the tool call back", async () => {
    suite.upstream.on(
      "/v1/messages",
      json({
        id: "msg_2",
        type: "message",
        role: "assistant",
        model: "claude-test",
        content: [
          { type: "text", text: "Let me look." },
          { type: "tool_use", id: "toolu_2", name: "weather", input: { city: "Lyon" } }
        ],
        stop_reason: "tool_use",
        stop_sequence: null,
        usage: { input_tokens: 60, output_tokens: 15 }
      })
    )
    const completion = await suite.client.chat.completions.create({
      model: "claude-test",
      messages: [
        { role: "system", content: "Be brief." },
        {
          role: "user",
          content: [
            { type: "text", text: "Weather where this photo was taken?" },
            { type: "image_url", image_url: { url: "data:image/png;base64,iVBORw0KGgo=" } },
            { type: "image_url", image_url: { url: "https://example.com/sky.png" } }
          ]
        },
        {
          role: "assistant",
          content: null,
          tool_calls: [
            { id: "toolu_1", type: "function", function: { name: "weather", arguments: '{"city":"Paris"}' } }
          ]
        },
        { role: "tool", tool_call_id: "toolu_1", content: '{"celsius":21}' }
      ],
      tools: [weatherTool],
      tool_choice: "required",
      parallel_tool_calls: false,
      response_format: { type: "json_schema", json_schema: { name: "w", schema: { type: "object" } } },
      temperature: 1.5,
      max_completion_tokens: 300,
      stop: "END",
      user: "user-1"
    })
    expect(messagesSent()[0]!.body).toEqual({
      model: "claude-test",
      max_tokens: 300,
      system:
        'Be brief.\n\nAnswer with one JSON object and nothing else. It must match this JSON Schema:\n{"type":"object"}',
      messages: [
        {
          role: "user",
          content: [
            { type: "text", text: "Weather where this photo was taken?" },
            { type: "image", source: { type: "base64", media_type: "image/png", data: "iVBORw0KGgo=" } },
            { type: "image", source: { type: "url", url: "https://example.com/sky.png" } }
          ]
        },
        {
          role: "assistant",
          content: [{ type: "tool_use", id: "toolu_1", name: "weather", input: { city: "Paris" } }]
        },
        { role: "user", content: [{ type: "tool_result", tool_use_id: "toolu_1", content: '{"celsius":21}' }] }
      ],
      temperature: 1,
      stop_sequences: ["END"],
      tools: [
        {
          name: "weather",
          description: "The weather in a city",
          input_schema: weatherTool.function.parameters
        }
      ],
      tool_choice: { type: "any", disable_parallel_tool_use: true },
      metadata: { user_id: "user-1" }
    })
    const choice = completion.choices[0]!
    expect(choice.finish_reason).toBe("tool_calls")
    expect(choice.message.content).toBe("Let me look.")
    expect(choice.message.tool_calls).toEqual([
      { id: "toolu_2", type: "function", function: { name: "weather", arguments: '{"city":"Lyon"}' } }
    ])
    expect(completion.usage).toEqual({ prompt_tokens: 60, completion_tokens: 15, total_tokens: 75 })
  })

  it("streams a tool call as OpenAI's tool-call deltas", async () => {
    suite.upstream.on("/v1/messages", sse(toolUseStream))
    const stream = await suite.client.chat.completions.create({
      model: "claude-test",
      messages: [{ role: "user", content: "Weather in Oslo?" }],
      tools: [weatherTool],
      stream: true
    })
    let text = ""
    let finish: string | null = null
    const calls: Array<{ id?: string; name?: string; arguments: string }> = []
    const chunks: Array<OpenAI.ChatCompletionChunk> = []
    for await (const chunk of stream) {
      chunks.push(chunk)
      const choice = chunk.choices[0]
      text += choice?.delta.content ?? ""
      finish = choice?.finish_reason ?? finish
      for (const call of choice?.delta.tool_calls ?? []) {
        calls[call.index] ??= { arguments: "" }
        const target = calls[call.index]!
        if (call.id !== undefined) target.id = call.id
        if (call.function?.name !== undefined) target.name = call.function.name
        target.arguments += call.function?.arguments ?? ""
      }
    }
    expect(text).toBe("Checking.")
    expect(calls).toEqual([{ id: "toolu_1", name: "weather", arguments: '{"city": "Oslo"}' }])
    expect(finish).toBe("tool_calls")
    // No usage chunk: the client did not ask for one.
    expect(chunks.every((chunk) => chunk.usage === undefined && chunk.choices.length === 1)).toBe(true)
    expect(messagesSent()[0]!.body).toMatchObject({ stream: true, tools: [{ name: "weather" }] })
  })

  it("refuses with a 400 naming the field what Anthropic cannot do, without calling it", async () => {
    for (const [field, value] of [
      ["seed", 7],
      ["logprobs", true],
      ["logit_bias", { "1": 2 }],
      ["n", 2]
    ] as const) {
      const error = await suite.client.chat.completions
        .create({ model: "claude-test", messages: [{ role: "user", content: "Hi" }], [field]: value } as any)
        .then(
          () => undefined,
          (e: unknown) => e as InstanceType<typeof OpenAI.APIError>
        )
      expect(error).toBeInstanceOf(OpenAI.BadRequestError)
      expect(error?.code).toBe("AI_REQUEST_REJECTED")
      expect(error?.message).toContain(`'${field}'`)
    }
    expect(messagesSent()).toHaveLength(0)
  })
})
