import { GatewayError } from "./GatewayError.ts"

/** Malformed request body, parameters or query (details list the failing field paths). */
export class InvalidRequest extends GatewayError("InvalidRequest", "INVALID_REQUEST", 400) {}
/** A version string that is not SemVer 2.0.0. */
export class InvalidVersion extends GatewayError("InvalidVersion", "INVALID_VERSION", 400) {}
/** Missing, malformed, unknown, expired or revoked credentials. */
export class Unauthorized extends GatewayError("Unauthorized", "UNAUTHORIZED", 401) {}
/** Valid credentials without the permission the operation needs. */
export class Forbidden extends GatewayError("Forbidden", "FORBIDDEN", 403) {}
/** No route answers this path. */
export class NotFound extends GatewayError("NotFound", "NOT_FOUND", 404) {}
export class ProjectNotFound extends GatewayError("ProjectNotFound", "PROJECT_NOT_FOUND", 404) {}
export class ChannelNotFound extends GatewayError("ChannelNotFound", "CHANNEL_NOT_FOUND", 404) {}
export class VersionNotFound extends GatewayError("VersionNotFound", "VERSION_NOT_FOUND", 404) {}
export class BuildNotFound extends GatewayError("BuildNotFound", "BUILD_NOT_FOUND", 404) {}
/** The path exists, but not for this method. */
export class MethodNotAllowed extends GatewayError("MethodNotAllowed", "METHOD_NOT_ALLOWED", 405) {}
/** The request body exceeds the configured limit. */
export class PayloadTooLarge extends GatewayError("PayloadTooLarge", "PAYLOAD_TOO_LARGE", 413) {}
/** The request body has a content type the endpoint does not read. */
export class UnsupportedMediaType extends GatewayError("UnsupportedMediaType", "UNSUPPORTED_MEDIA_TYPE", 415) {}
export class RateLimitExceeded extends GatewayError("RateLimitExceeded", "RATE_LIMIT_EXCEEDED", 429) {}
/** An unexpected fault. Its message never carries internals. */
export class InternalError extends GatewayError("InternalError", "INTERNAL_ERROR", 500) {}

export type NotFoundError = ProjectNotFound | ChannelNotFound | VersionNotFound | BuildNotFound

/** A release catalog that fails validation; `details.problems` lists every problem with its path. */
export class InvalidCatalog extends GatewayError("InvalidCatalog", "INVALID_CATALOG", 500) {}
