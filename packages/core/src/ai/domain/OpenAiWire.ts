/**
 * OpenAI's chat-completions wire as the `/v1` surface forwards it: the client's body with every
 * field it sent, known to the gateway or not, and answers kept as the upstream wrote them.
 */

/** An OpenAI request body as the client sent it; only the model is ever rewritten. */
export interface Request {
  readonly model: string
  readonly [field: string]: unknown
}

/** A chat-completions request body. */
export interface Body extends Request {
  readonly messages: ReadonlyArray<unknown>
  readonly stream?: boolean | null | undefined
  readonly stream_options?: { readonly include_usage?: boolean | undefined } | null | undefined
  readonly [field: string]: unknown
}

/** Tokens of one answer, in the gateway's terms. */
export interface Usage {
  readonly promptTokens: number
  readonly completionTokens: number
  readonly totalTokens: number
}

/** A whole answer (OpenAI's `chat.completion` or embeddings list) as JSON text, and its usage when it has one. */
export interface Completion {
  readonly json: string
  readonly usage: Usage | undefined
}

/** The usage of an OpenAI `usage` object, when it is one. */
export const usageOf = (value: unknown): Usage | undefined => {
  if (typeof value !== "object" || value === null) return undefined
  const usage = value as { prompt_tokens?: unknown; completion_tokens?: unknown; total_tokens?: unknown }
  const prompt = typeof usage.prompt_tokens === "number" ? usage.prompt_tokens : 0
  const completion = typeof usage.completion_tokens === "number" ? usage.completion_tokens : 0
  const total = typeof usage.total_tokens === "number" ? usage.total_tokens : prompt + completion
  return { promptTokens: prompt, completionTokens: completion, totalTokens: total }
}

/** OpenAI's `usage` object for the gateway's usage. */
export const usageJson = (usage: Usage) => ({
  prompt_tokens: usage.promptTokens,
  completion_tokens: usage.completionTokens,
  total_tokens: usage.totalTokens
})

/** The text of a message's content: a string, or the text of its text parts. */
export const textOf = (content: unknown): string => {
  if (typeof content === "string") return content
  if (!Array.isArray(content)) return ""
  let text = ""
  for (const part of content) {
    if (typeof part === "object" && part !== null && typeof (part as { text?: unknown }).text === "string") {
      text += (part as { text: string }).text
    }
  }
  return text
}

/** The prompt's text per message, for counting tokens locally when the provider reports none. */
export const promptTexts = (body: Body): Array<{ readonly role: "user"; readonly content: string }> =>
  body.messages.map((message) => ({
    role: "user",
    content: textOf((message as { content?: unknown } | null)?.content)
  }))

/** Whether the client asked for the usage chunk of a stream. */
export const wantsUsage = (body: Body): boolean => body.stream_options?.include_usage === true

/** The body with the upstream's name for the model; everything else as the client sent it. */
export const withModel = <B extends Request>(body: B, model: string): B =>
  body.model === model ? body : { ...body, model }

/** The body of a streamed request that also asks for usage, so tokens can be counted. */
export const askingUsage = (body: Body): Body =>
  wantsUsage(body) ? body : { ...body, stream_options: { ...body.stream_options, include_usage: true } }
