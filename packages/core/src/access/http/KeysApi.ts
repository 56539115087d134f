import { Schema } from "effect"
import { HttpApi, HttpApiEndpoint, HttpApiGroup, HttpApiSchema, OpenApi } from "effect/http-api"
import { Pagination } from "../../releases/http/Schemas.ts"
import * as Durations from "../domain/Durations.ts"
import { names as permissionNames } from "../domain/Permissions.ts"
import { Authenticated } from "./Middleware.ts"
import { RequiredPermission } from "./RequiredPermission.ts"

const tenYears = 10 * 31_536_000_000

const DurationText = (field: string) =>
  Schema.String.check(
    Schema.makeFilter((text: string) => {
      const ms = Durations.parse(text)
      return (ms !== undefined && ms <= tenYears) || `Expected ${field} such as 12h, 30d, 90d or 1y (at most 10y)`
    })
  )

const PermissionFlags = Schema.Struct(
  Object.fromEntries(permissionNames.map((name) => [name, Schema.optionalKey(Schema.Boolean)])) as {
    [K in (typeof permissionNames)[number]]: Schema.optionalKey<Schema.Boolean>
  }
)

const AllPermissionFlags = Schema.Struct(
  Object.fromEntries(permissionNames.map((name) => [name, Schema.Boolean])) as {
    [K in (typeof permissionNames)[number]]: Schema.Boolean
  }
)

const KeyName = Schema.String.check(Schema.isPattern(/^[A-Za-z0-9][A-Za-z0-9 ._-]{0,63}$/))
const Label = Schema.String.check(Schema.isMinLength(1), Schema.isMaxLength(64))

export const CreateKeyRequest = Schema.Struct({
  name: KeyName,
  description: Schema.optionalKey(Schema.String.check(Schema.isMaxLength(500))),
  permissions: PermissionFlags,
  rateLimit: Schema.optionalKey(Schema.Int.check(Schema.isBetween({ minimum: 1, maximum: 10_000_000 }))),
  expiresIn: Schema.optionalKey(DurationText("a duration")),
  allowedProjects: Schema.optionalKey(Schema.Array(Label).check(Schema.isMaxLength(100))),
  tags: Schema.optionalKey(Schema.Array(Label).check(Schema.isMaxLength(20)))
})

const KeyFields = {
  name: Schema.String,
  description: Schema.String,
  permissions: AllPermissionFlags,
  rateLimit: Schema.NullOr(Schema.Int),
  allowedProjects: Schema.NullOr(Schema.Array(Schema.String)),
  tags: Schema.Array(Schema.String),
  createdAt: Schema.String,
  expiresAt: Schema.NullOr(Schema.String)
}

export const CreatedKey = Schema.Struct({
  message: Schema.String,
  key: Schema.String,
  ...KeyFields,
  warning: Schema.String
})

export const ListedKey = Schema.Struct({
  ...KeyFields,
  /** The key masked: its prefix and last four characters. */
  key: Schema.String,
  status: Schema.Literals(["active", "expired", "revoked"]),
  /** The key that created it (`admin` for the admin key): a key may act only on keys it created. */
  createdBy: Schema.String,
  revokedAt: Schema.NullOr(Schema.String),
  lastUsedAt: Schema.NullOr(Schema.String)
})

const Usage = { requests: Schema.Int, errors: Schema.Int, tokens: Schema.Int }

export const KeyStats = Schema.Struct({
  keys: Schema.Array(Schema.Struct({ name: Schema.String, ...Usage, lastUsed: Schema.NullOr(Schema.String) })),
  totals: Schema.Struct({ keys: Schema.Int, ...Usage })
})

export const RotateKeyRequest = Schema.Struct({ gracePeriod: Schema.optionalKey(DurationText("a grace period")) })

export const RotatedKey = Schema.Struct({
  message: Schema.String,
  key: Schema.String,
  name: Schema.String,
  previousKeyValidUntil: Schema.String,
  warning: Schema.String
})

export const AuditPage = Schema.Struct({
  events: Schema.Array(
    Schema.Struct({
      at: Schema.String,
      action: Schema.String,
      actor: Schema.String,
      target: Schema.NullOr(Schema.String),
      request_id: Schema.String,
      details: Schema.Record(Schema.String, Schema.Unknown)
    })
  ),
  total: Schema.Int,
  page: Schema.Int,
  per_page: Schema.Int
})

const KeyPath = { keyName: Schema.String }

/** API key management and the audit log, for the admin key and keys holding the key permissions. */
export class KeysGroup extends HttpApiGroup.make("keys")
  .add(
    HttpApiEndpoint.post("createKey", "/admin/keys", {
      payload: CreateKeyRequest,
      success: CreatedKey.pipe(HttpApiSchema.status(201))
    })
      .annotate(RequiredPermission, "canCreateKeys")
      // A misspelt field (say `expireIn`) must be an error, not a key that silently never expires.
      .annotate(HttpApi.PayloadParseOptions, { errors: "all", onExcessProperty: "error" }),
    HttpApiEndpoint.get("listKeys", "/admin/keys", {
      success: Schema.Struct({ keys: Schema.Array(ListedKey), total: Schema.Int })
    }).annotate(RequiredPermission, "admin"),
    HttpApiEndpoint.get("keyStats", "/admin/keys/stats", { success: KeyStats }).annotate(RequiredPermission, "admin"),
    HttpApiEndpoint.delete("revokeKey", "/admin/keys/:keyName", {
      params: KeyPath,
      success: HttpApiSchema.NoContent
    }).annotate(RequiredPermission, "canRevokeKeys"),
    HttpApiEndpoint.post("rotateKey", "/admin/keys/:keyName/rotate", {
      params: KeyPath,
      // No body at all means the defaults, as `{}` does.
      payload: [RotateKeyRequest, Schema.Null],
      success: RotatedKey
    })
      .annotate(RequiredPermission, "canCreateKeys")
      .annotate(HttpApi.PayloadParseOptions, { errors: "all", onExcessProperty: "error" })
      .annotate(OpenApi.Description, "Issues a new secret; the old one stays valid for the grace period (default 24h)"),
    HttpApiEndpoint.get("audit", "/admin/audit", { query: Pagination, success: AuditPage }).annotate(
      RequiredPermission,
      "admin"
    )
  )
  .middleware(Authenticated) {}
