import { Context, Effect, Exit, Layer, Scope } from "effect"
import { HttpServer } from "effect/http"
import * as NodeGateway from "../../src/NodeGateway.ts"

export const adminKey = "test-admin-key-0123456789abcdef0123"

export interface RunningGateway {
  readonly url: (path: string) => string
  readonly logs: ReadonlyArray<Record<string, unknown>>
  readonly close: () => Promise<void>
}

/**
 * Starts the real Node gateway on a free loopback port with `env` on top of test defaults (a
 * variable given as `undefined` is unset), and collects its log lines.
 */
export const startGateway = async (
  env: Record<string, string | undefined> = {},
  options: Pick<NodeGateway.Options, "hooks"> & { readonly provide?: Layer.Layer<never> | undefined } = {}
): Promise<RunningGateway> => {
  const logs: Array<Record<string, unknown>> = []
  const scope = Scope.makeUnsafe()
  const context = await Effect.runPromise(
    Layer.buildWithScope(
      NodeGateway.layer({
        // The example catalog's CDN cannot be reached from tests: its declared build statuses stand.
        env: {
          API_KEY_ADMIN: adminKey,
          PORT: "0",
          HOST: "127.0.0.1",
          LOG_LEVEL: "info",
          BUILD_VERIFICATION: "false",
          DATABASE_PATH: ":memory:",
          ...env
        },
        logDestination: { write: (line) => void logs.push(JSON.parse(line)) },
        hooks: options.hooks
      }).pipe(Layer.provide(options.provide ?? Layer.empty)),
      scope
    )
  )
  const address = Context.get(context, HttpServer.HttpServer).address
  if (address._tag === "UnixPathAddress") throw new Error("expected a TCP address")
  return {
    url: (path) => `http://127.0.0.1:${address.port}${path}`,
    logs,
    close: () => Effect.runPromise(Scope.close(scope, Exit.void))
  }
}

export const auth = { authorization: `Bearer ${adminKey}` }
