import { Clock, Effect } from "effect"
import { HttpApiBuilder } from "effect/http-api"
import { InvalidRequest } from "../../errors/Errors.ts"
import { Api } from "../../http/Api.ts"
import { RequestScope } from "../../http/RequestScope.ts"
import { Releases } from "../../releases/services/Releases.ts"
import * as ApiKeyFormat from "../domain/ApiKeyFormat.ts"
import * as Durations from "../domain/Durations.ts"
import { type Permission, names as permissionNames } from "../domain/Permissions.ts"
import type { StoredKey } from "../ports/KeyStore.ts"
import { KeyStore } from "../ports/KeyStore.ts"
import { Keys, reservedNames } from "../services/Keys.ts"
import { UsageRecorder } from "../services/UsageRecorder.ts"
import { CurrentPrincipal } from "./Middleware.ts"

const warning = "Save this key now - it will not be shown again!"
const defaultGraceMs = 24 * 3_600_000

const permissionFlags = (granted: ReadonlyArray<Permission>) =>
  Object.fromEntries(permissionNames.map((name) => [name, granted.includes(name)])) as Record<Permission, boolean>

const keyFields = (key: StoredKey) => ({
  name: key.name,
  description: key.description,
  permissions: permissionFlags(key.permissions),
  rateLimit: key.rateLimit ?? null,
  allowedProjects: key.allowedProjects ?? null,
  tags: key.tags,
  createdAt: key.createdAt,
  expiresAt: key.expiresAt ?? null
})

const statusOf = (key: StoredKey, now: number) =>
  key.revokedAt !== undefined
    ? ("revoked" as const)
    : key.expiresAt !== undefined && Date.parse(key.expiresAt) <= now
      ? ("expired" as const)
      : ("active" as const)

/** Fails when `allowedProjects` names projects the catalog does not hold: a typo would lock the key out. */
const knownProjects = (releases: typeof Releases.Service, allowedProjects: ReadonlyArray<string> | undefined) =>
  Effect.gen(function* () {
    if (allowedProjects === undefined) return
    const catalog = yield* releases.catalog
    const known = new Set(catalog.projects.map((indexed) => indexed.project.id))
    const unknown = allowedProjects.filter((id) => !known.has(id))
    if (unknown.length === 0) return
    return yield* new InvalidRequest({
      message: `Unknown projects in allowedProjects: ${unknown.join(", ")}`,
      details: {
        unknown_projects: unknown,
        issues: [{ field: "body.allowedProjects", message: `No such project: ${unknown.join(", ")}` }]
      }
    })
  })

/** The acting principal and request, for the audit trail. */
const actor = Effect.gen(function* () {
  return { principal: yield* CurrentPrincipal, requestId: (yield* RequestScope).requestId }
})

export const KeysHandlers = HttpApiBuilder.group(Api, "keys", (handlers) =>
  Effect.gen(function* () {
    const keys = yield* Keys
    const usage = yield* UsageRecorder
    const store = yield* KeyStore
    const releases = yield* Releases
    return handlers
      .handle("createKey", ({ payload }) =>
        Effect.gen(function* () {
          yield* knownProjects(releases, payload.allowedProjects)
          const granted = permissionNames.filter((name) => payload.permissions[name] === true)
          const issued = yield* keys.create(yield* actor, {
            name: payload.name,
            description: payload.description,
            permissions: granted,
            rateLimit: payload.rateLimit,
            expiresInMs: payload.expiresIn === undefined ? undefined : Durations.parse(payload.expiresIn),
            allowedProjects: payload.allowedProjects,
            tags: payload.tags
          })
          return { message: "API key created successfully", key: issued.secret, ...keyFields(issued.stored), warning }
        })
      )
      .handle("listKeys", () =>
        Effect.gen(function* () {
          const now = yield* Clock.currentTimeMillis
          const lastUsed = new Map((yield* usage.usage).map((u) => [u.name, u.lastUsedAt]))
          const all = yield* keys.list
          return {
            keys: all.map((key) => ({
              ...keyFields(key),
              key: ApiKeyFormat.mask(key.last4),
              status: statusOf(key, now),
              // Keys stored before creators were recorded were the admin's.
              createdBy: key.createdBy ?? "admin",
              revokedAt: key.revokedAt ?? null,
              lastUsedAt: lastUsed.get(key.name) ?? null
            })),
            total: all.length
          }
        })
      )
      .handle("keyStats", () =>
        Effect.gen(function* () {
          const all = yield* keys.list
          const byName = new Map((yield* usage.usage).map((u) => [u.name, u]))
          const rows = all.map((key) => {
            const u = byName.get(key.name)
            return {
              name: key.name,
              requests: u?.requests ?? 0,
              errors: u?.errors ?? 0,
              tokens: u?.tokens ?? 0,
              lastUsed: u?.lastUsedAt ?? null
            }
          })
          // The configured keys (admin, read) are not stored, but their use is counted too.
          for (const name of reservedNames) {
            const u = byName.get(name)
            if (u === undefined) continue
            rows.push({
              name,
              requests: u.requests,
              errors: u.errors,
              tokens: u.tokens,
              lastUsed: u.lastUsedAt ?? null
            })
          }
          const sum = (field: "requests" | "errors" | "tokens") => rows.reduce((total, row) => total + row[field], 0)
          return {
            keys: rows,
            totals: { keys: all.length, requests: sum("requests"), errors: sum("errors"), tokens: sum("tokens") }
          }
        })
      )
      .handle("revokeKey", ({ params }) =>
        Effect.gen(function* () {
          yield* keys.revoke(yield* actor, params.keyName)
        })
      )
      .handle("rotateKey", ({ params, payload }) =>
        Effect.gen(function* () {
          const gracePeriod = payload?.gracePeriod
          const grace = gracePeriod === undefined ? defaultGraceMs : Durations.parse(gracePeriod)!
          const issued = yield* keys.rotate(yield* actor, params.keyName, grace)
          return {
            message: "API key rotated successfully",
            key: issued.secret,
            name: issued.stored.name,
            previousKeyValidUntil: issued.stored.previousExpiresAt!,
            warning
          }
        })
      )
      .handle("audit", ({ query }) =>
        Effect.gen(function* () {
          const page = query.page ?? 1
          const perPage = query.per_page ?? 20
          const { events, total } = yield* store.listAudit({ offset: (page - 1) * perPage, limit: perPage })
          return {
            events: events.map((event) => ({
              at: event.at,
              action: event.action,
              actor: event.actor,
              target: event.target ?? null,
              request_id: event.requestId,
              details: event.details ?? {}
            })),
            total,
            page,
            per_page: perPage
          }
        })
      )
  })
)
