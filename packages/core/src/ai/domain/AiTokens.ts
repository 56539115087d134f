import type { ChatMessage, TokenUsage } from "../ports/AIProvider.ts"

// Byte-pair tokenizers give common words (up to six or so letters) one token and split longer ones
// about every four characters; punctuation and symbols are mostly a token each. Close to tiktoken
// on English prose, and good enough for usage stats when a provider sends none.
const pieces = /[\p{L}\p{N}]+|[^\s\p{L}\p{N}]/gu

/** An estimate of the tokens in `text`, for providers that report no usage. */
export const estimate = (text: string): number => {
  let tokens = 0
  for (const match of text.matchAll(pieces)) {
    const length = match[0].length
    tokens += length <= 6 ? 1 : Math.ceil(length / 4)
  }
  return tokens
}

// Chat formats wrap each message in a few tokens of role and separators.
const perMessage = 4

/** Usage counted locally from the prompt and the completion text. */
export const countUsage = (messages: ReadonlyArray<ChatMessage>, completion: string): TokenUsage => {
  let promptTokens = 2
  for (const message of messages) promptTokens += perMessage + estimate(message.content)
  const completionTokens = estimate(completion)
  return { promptTokens, completionTokens, totalTokens: promptTokens + completionTokens }
}
