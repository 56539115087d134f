/**
 * Documents the error envelope in the OpenAPI document. `HttpApi` sees gateway errors only as an
 * opaque declared type, so the generated document has an empty schema and a lone 500; this
 * replaces that schema with the envelope and lists, on every operation, the errors it can answer.
 */
const envelope = {
  type: "object",
  description: "Every error answers this envelope; `request_id` is also the `X-Request-Id` header",
  required: ["error"],
  properties: {
    error: {
      type: "object",
      required: ["code", "message", "details", "documentation_url", "request_id"],
      properties: {
        code: { type: "string", examples: ["PROJECT_NOT_FOUND"] },
        message: { type: "string", examples: ["Project 'nonexistent' not found"] },
        details: { type: "object", additionalProperties: true },
        documentation_url: { type: "string", format: "uri" },
        request_id: { type: "string", pattern: "^req_[a-z0-9]{20}$" }
      }
    }
  }
} as const

const schemaName = "GatewayErrorEncoded"
const reference = { $ref: `#/components/schemas/${schemaName}` }

const describe = (description: string) => ({ description, content: { "application/json": { schema: reference } } })

const common = {
  "400": describe("INVALID_REQUEST (each failing field in `details.issues`) or another invalid input"),
  "429": describe("RATE_LIMIT_EXCEEDED, with `Retry-After`"),
  "500": describe("INTERNAL_ERROR: an unexpected fault, quote the request id")
}

const authenticated = {
  "401": describe("UNAUTHORIZED: missing, malformed, unknown, expired or revoked key (`details.reason`)"),
  "403": describe("FORBIDDEN: the key lacks `details.required_permission`")
}

/** Errors that only some operations answer, by path and method. */
const specific: Record<string, Record<string, Record<string, unknown>>> = {
  "/admin/keys": {
    post: { "409": describe("KEY_EXISTS: a key with this name exists (names are never reused, even once revoked)") }
  }
}

/** The `OpenApi.Transform` of the gateway's document. */
export const transform = (spec: Record<string, any>): Record<string, any> => {
  const schemas = { ...spec.components?.schemas, [schemaName]: envelope }
  const paths: Record<string, any> = {}
  for (const [path, operations] of Object.entries<Record<string, any>>(spec.paths ?? {})) {
    paths[path] = {}
    for (const [method, operation] of Object.entries<Record<string, any>>(operations)) {
      const secured = Array.isArray(operation.security) && operation.security.length > 0
      paths[path][method] = {
        ...operation,
        responses: {
          ...common,
          ...(secured ? authenticated : {}),
          ...(path.includes("{") ? { "404": describe("The named resource does not exist (`*_NOT_FOUND`)") } : {}),
          ...specific[path]?.[method],
          ...operation.responses,
          // The generated 500 knows nothing of the envelope.
          "500": common["500"]
        }
      }
    }
  }
  return { ...spec, components: { ...spec.components, schemas }, paths }
}
