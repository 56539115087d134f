import { Schema } from "effect"
import type { ClientIdentity } from "../services/Updates.ts"

export type Identity = ClientIdentity

const ClientId = Schema.String.check(Schema.isMinLength(1), Schema.isMaxLength(256))

/** `client_id` places a client in staged rollouts; `translated=true` says an x64 macOS process runs under Rosetta. */
export const query = {
  client_id: Schema.optionalKey(ClientId),
  translated: Schema.optionalKey(Schema.Literals(["true", "false"]))
}

/** `X-Client-Id`, for updaters that can send headers (Tauri, electron-updater); it wins over `client_id`. */
export const headers = { "x-client-id": Schema.optionalKey(ClientId) }

export const fromRequest = (
  requestHeaders: { readonly "x-client-id"?: string | undefined },
  requestQuery: { readonly client_id?: string | undefined; readonly translated?: "true" | "false" | undefined }
): ClientIdentity => ({
  clientId: requestHeaders["x-client-id"] ?? requestQuery.client_id,
  translated: requestQuery.translated === "true"
})
