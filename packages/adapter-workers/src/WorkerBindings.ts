import { Errors } from "@lunarbit/gateway-core"
import { ConfigProvider, Effect } from "effect"

/**
 * The Worker's `env`: `CATALOG` holds the release catalog (a JSON var, or a string var or secret
 * containing JSON); every string binding is a configuration variable (`API_KEY_ADMIN`, `LOG_LEVEL`,
 * `DOCS_URL`, ...). Other bindings (KV namespaces, Durable Objects) may sit beside them.
 */
export interface WorkerBindings {
  readonly CATALOG?: unknown
  readonly [name: string]: unknown
}

/** The configuration as the core reads it: the string bindings only, so JSON vars never pose as settings. */
export const configProvider = (env: WorkerBindings): ConfigProvider.ConfigProvider => {
  const strings: Record<string, string> = {}
  for (const [name, value] of Object.entries(env)) {
    if (typeof value === "string") strings[name] = value
  }
  return ConfigProvider.fromUnknown(strings)
}

const invalid = (message: string, problem: string) =>
  new Errors.InvalidCatalog({ message, details: { problems: [problem] } })

/**
 * The catalog document bound as `CATALOG`: wrangler binds a `[vars]` table as an object, while a
 * secret or a string var arrives as text to parse. Its content is checked by the core's loader.
 */
export const catalogDocument = (binding: unknown): Effect.Effect<unknown, Errors.InvalidCatalog> => {
  if (binding === undefined || binding === null) {
    return Effect.fail(
      invalid("The CATALOG binding is missing", "Bind the release catalog as CATALOG: a JSON var or a string of JSON")
    )
  }
  if (typeof binding !== "string") return Effect.succeed(binding)
  return Effect.try({
    try: () => JSON.parse(binding) as unknown,
    catch: (error) => invalid("The CATALOG binding is not valid JSON", String((error as Error).message))
  })
}
