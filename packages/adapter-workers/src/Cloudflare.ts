/**
 * The parts of the Workers runtime's binding types the adapter uses, declared here rather than
 * depending on `@cloudflare/workers-types`. They match the runtime's (and Miniflare's proxies').
 */

export interface D1Result<Row = Record<string, unknown>> {
  readonly results: Array<Row>
  readonly meta: { readonly changes: number }
}

export interface D1PreparedStatement {
  bind(...values: ReadonlyArray<unknown>): D1PreparedStatement
  first<Row = Record<string, unknown>>(): Promise<Row | null>
  all<Row = Record<string, unknown>>(): Promise<D1Result<Row>>
  run(): Promise<D1Result>
}

/** A D1 database binding: SQLite, reached over the network. */
export interface D1Database {
  prepare(query: string): D1PreparedStatement
  /** Runs the statements in one transaction: all of them or none. */
  batch(statements: ReadonlyArray<D1PreparedStatement>): Promise<Array<D1Result>>
}

export type DurableObjectId = {}

export interface DurableObjectStub {
  fetch(url: string, init?: RequestInit): Promise<Response>
}

/** A Durable Object namespace binding: one object per name, wherever in the world it is called from. */
export interface DurableObjectNamespace {
  idFromName(name: string): DurableObjectId
  get(id: DurableObjectId): DurableObjectStub
}

/** A Durable Object's own storage: transactional, and private to the object. */
export interface DurableObjectStorage {
  get<T>(key: string): Promise<T | undefined>
  put<T>(key: string, value: T): Promise<void>
  deleteAll(): Promise<void>
  setAlarm(scheduledTime: number): Promise<void>
}

export interface DurableObjectState {
  readonly storage: DurableObjectStorage
  blockConcurrencyWhile<T>(callback: () => Promise<T>): Promise<T>
}

/** A KV namespace binding: eventually consistent, fast to read everywhere. */
export interface KVNamespace {
  get(key: string, type: "text"): Promise<string | null>
  put(key: string, value: string): Promise<void>
}

/** The `ctx` of a Worker's handlers: work that may outlive the response. */
export interface ExecutionContext {
  waitUntil(promise: Promise<unknown>): void
}

/** The `controller` of a `scheduled` (cron trigger) handler. */
export interface ScheduledController {
  readonly cron: string
  readonly scheduledTime: number
}

/** Whether a binding looks like a D1 database, a Durable Object namespace or a KV namespace. */
export const isD1 = (binding: unknown): binding is D1Database =>
  typeof binding === "object" && binding !== null && "prepare" in binding && "batch" in binding

export const isDurableObjectNamespace = (binding: unknown): binding is DurableObjectNamespace =>
  typeof binding === "object" && binding !== null && "idFromName" in binding

export const isKV = (binding: unknown): binding is KVNamespace =>
  typeof binding === "object" && binding !== null && "getWithMetadata" in binding
