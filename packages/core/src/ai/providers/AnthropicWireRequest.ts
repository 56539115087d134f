import { rejected } from "../domain/AiWireTranslation.ts"
import type * as OpenAiWire from "../domain/OpenAiWire.ts"

type Block = Record<string, unknown>
interface Turn {
  role: "user" | "assistant"
  content: Array<Block>
}

/** Fields Anthropic cannot honour, accepted only at the value that asks for nothing. */
const neutral: Record<string, (value: unknown) => boolean> = {
  logprobs: (value) => value === false,
  presence_penalty: (value) => value === 0,
  frequency_penalty: (value) => value === 0,
  n: (value) => value === 1,
  parallel_tool_calls: () => true
}

const translated = new Set([
  "model",
  "messages",
  "stream",
  "stream_options",
  "max_tokens",
  "max_completion_tokens",
  "temperature",
  "top_p",
  "stop",
  "tools",
  "tool_choice",
  "response_format",
  "user"
])

/** An OpenAI image part as an Anthropic image block: data URLs inline, others by URL. */
const image = (provider: string, part: Block, field: string): Block => {
  const url = (part.image_url as { url?: unknown } | undefined)?.url
  if (typeof url !== "string") throw rejected(provider, `${field}.image_url.url`, "is missing")
  const data = /^data:([^;,]+);base64,(.*)$/s.exec(url)
  return data === null
    ? { type: "image", source: { type: "url", url } }
    : { type: "image", source: { type: "base64", media_type: data[1], data: data[2] } }
}

const blocks = (provider: string, content: unknown, field: string): Array<Block> => {
  if (content == null) return []
  if (typeof content === "string") return content === "" ? [] : [{ type: "text", text: content }]
  if (!Array.isArray(content)) throw rejected(provider, field, "must be a string or a list of parts")
  return content.map((part: Block, index) => {
    if (part?.type === "text") return { type: "text", text: part.text }
    if (part?.type === "image_url") return image(provider, part, `${field}[${index}]`)
    throw rejected(provider, `${field}[${index}].type`, `'${String(part?.type)}' is not supported`)
  })
}

const toolUses = (provider: string, calls: unknown, field: string): Array<Block> =>
  Array.isArray(calls)
    ? calls.map((call: { id?: string; function?: { name?: string; arguments?: string } }, index) => {
        let input: unknown
        try {
          input = JSON.parse(call.function?.arguments || "{}")
        } catch {
          throw rejected(provider, `${field}[${index}].function.arguments`, "is not JSON")
        }
        return { type: "tool_use", id: call.id, name: call.function?.name, input }
      })
    : []

const text = (content: unknown): string =>
  typeof content === "string"
    ? content
    : Array.isArray(content)
      ? content.map((part: Block) => (typeof part?.text === "string" ? part.text : "")).join("")
      : ""

const toolChoice = (provider: string, choice: unknown, parallel: unknown): Block | undefined => {
  const single = parallel === false ? { disable_parallel_tool_use: true } : {}
  if (choice == null) return parallel === false ? { type: "auto", ...single } : undefined
  if (choice === "auto") return { type: "auto", ...single }
  if (choice === "none") return { type: "none" }
  if (choice === "required") return { type: "any", ...single }
  const name = (choice as { function?: { name?: unknown } }).function?.name
  if (typeof name === "string") return { type: "tool", name, ...single }
  throw rejected(provider, "tool_choice", "has a form that is not supported")
}

/**
 * The Messages API request for an OpenAI chat-completions body: system and developer messages
 * become the system prompt, tool calls `tool_use` blocks, tool messages `tool_result` blocks, image
 * parts image blocks, and JSON mode an instruction. What Anthropic cannot do is refused, naming
 * the field.
 */
export const toAnthropic = (provider: string, body: OpenAiWire.Body): Record<string, unknown> => {
  for (const [field, value] of Object.entries(body)) {
    if (value === null || value === undefined || translated.has(field)) continue
    if (!neutral[field]?.(value)) throw rejected(provider, field)
  }
  const system: Array<string> = []
  const turns: Array<Turn> = []
  const push = (role: Turn["role"], content: Array<Block>) => {
    const last = turns.at(-1)
    // The Messages API wants user and assistant turns to alternate: consecutive ones are joined.
    if (last?.role === role) last.content.push(...content)
    else turns.push({ role, content })
  }
  body.messages.forEach((message: any, index) => {
    const field = `messages[${index}]`
    switch (message?.role) {
      case "system":
      case "developer":
        system.push(text(message.content))
        break
      case "user":
        push("user", blocks(provider, message.content, `${field}.content`))
        break
      case "assistant":
        push("assistant", [
          ...blocks(provider, message.content, `${field}.content`),
          ...toolUses(provider, message.tool_calls, `${field}.tool_calls`)
        ])
        break
      case "tool":
        push("user", [{ type: "tool_result", tool_use_id: message.tool_call_id, content: text(message.content) }])
        break
      default:
        throw rejected(provider, `${field}.role`, `'${String(message?.role)}' is not supported`)
    }
  })
  const format = body.response_format as { type?: string; json_schema?: { schema?: unknown } } | undefined
  if (format?.type === "json_object") system.push("Answer with one JSON object and nothing else.")
  else if (format?.type === "json_schema") {
    system.push(
      `Answer with one JSON object and nothing else. It must match this JSON Schema:\n${JSON.stringify(format.json_schema?.schema ?? {})}`
    )
  } else if (format != null && format.type !== "text") throw rejected(provider, "response_format.type")
  const tools = body.tools as Array<{ type?: string; function?: Block }> | undefined
  const choice = toolChoice(provider, body.tool_choice, body.parallel_tool_calls)
  const stop = body.stop
  const temperature = body.temperature
  return {
    model: body.model,
    // Anthropic requires a limit where OpenAI defaults to the model's.
    max_tokens: body.max_completion_tokens ?? body.max_tokens ?? 4096,
    messages: turns,
    ...(system.length === 0 ? {} : { system: system.join("\n\n") }),
    // Anthropic's temperature range is 0-1 where OpenAI's is 0-2.
    ...(typeof temperature === "number" ? { temperature: Math.min(temperature, 1) } : {}),
    ...(body.top_p == null ? {} : { top_p: body.top_p }),
    ...(stop == null ? {} : { stop_sequences: typeof stop === "string" ? [stop] : stop }),
    ...(tools == null
      ? {}
      : {
          tools: tools.map((tool, index) => {
            if (tool.type !== "function") throw rejected(provider, `tools[${index}].type`, "must be 'function'")
            const fn = tool.function ?? {}
            return {
              name: fn.name,
              ...(fn.description === undefined ? {} : { description: fn.description }),
              input_schema: fn.parameters ?? { type: "object", properties: {} }
            }
          })
        }),
    ...(choice === undefined ? {} : { tool_choice: choice }),
    ...(typeof body.user === "string" ? { metadata: { user_id: body.user } } : {})
  }
}
