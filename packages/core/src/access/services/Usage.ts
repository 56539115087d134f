import { Context, Effect } from "effect"

/**
 * Token usage per API key, fed by every AI route. The in-memory default keeps the gateway working
 * without wiring; a deployment backs it with its key store by providing its own implementation
 * (`Layer.succeed(Usage, ...)` next to the ports).
 */
export interface UsageShape {
  /** Adds `tokens` to the key's total. */
  readonly recordTokens: (keyName: string, tokens: number) => Effect.Effect<void>
  /** The key's total so far. */
  readonly tokensOf: (keyName: string) => Effect.Effect<number>
}

/** Totals held in this process's memory, lost on restart. */
export const makeMemory = (): UsageShape => {
  const totals = new Map<string, number>()
  return {
    recordTokens: (keyName, tokens) =>
      Effect.sync(() => {
        totals.set(keyName, (totals.get(keyName) ?? 0) + tokens)
      }),
    tokensOf: (keyName) => Effect.sync(() => totals.get(keyName) ?? 0)
  }
}

/**
 * The usage recorder. Unprovided, it is one in-memory store per process, shared by every gateway
 * the process runs; provide one per gateway to keep them apart.
 */
export const Usage = Context.Reference<UsageShape>("@lunarbit/gateway-core/Usage", { defaultValue: makeMemory })

/**
 * Usage kept by a recorder that counts synchronously and reads totals per key (the gateway's
 * `UsageRecorder`, which writes them to the key store).
 */
export const fromRecorder = (recorder: {
  readonly recordTokens: (name: string, tokens: number) => void
  readonly usage: Effect.Effect<ReadonlyArray<{ readonly name: string; readonly tokens: number }>>
}): UsageShape => ({
  recordTokens: (keyName, tokens) => Effect.sync(() => recorder.recordTokens(keyName, tokens)),
  tokensOf: (keyName) => Effect.map(recorder.usage, (all) => all.find((usage) => usage.name === keyName)?.tokens ?? 0)
})
