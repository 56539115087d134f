/**
 * @lunarbit/gateway-core/client: clients of the gateway's HTTP API, derived from its `HttpApi`.
 * `createClient` for Promise-based applications, `ApiClient.make` for Effect programs. Both use
 * only `fetch`, so they run in browsers, Workers and Node.
 */

export * as ApiClient from "./ApiClient.ts"
export { GatewayClientError } from "./ClientError.ts"
export { type ChatEvent, type Client, type ClientOptions, createClient } from "./PromiseClient.ts"
export * as Transport from "./Transport.ts"
