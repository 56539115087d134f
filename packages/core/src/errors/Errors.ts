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
/** The gateway cannot serve yet or any more: the catalog is not loaded or a store is unreachable. */
export class NotReady extends GatewayError("NotReady", "NOT_READY", 503) {}
/** An unexpected fault. Its message never carries internals. */
export class InternalError extends GatewayError("InternalError", "INTERNAL_ERROR", 500) {}

export type NotFoundError = ProjectNotFound | ChannelNotFound | VersionNotFound | BuildNotFound

/** A release catalog that fails validation; `details.problems` lists every problem with its path. */
export class InvalidCatalog extends GatewayError("InvalidCatalog", "INVALID_CATALOG", 500) {}

/** No AI provider is configured or registered, so AI requests cannot be answered. */
export class AiNotConfigured extends GatewayError("AiNotConfigured", "AI_NOT_CONFIGURED", 503) {}
/** No configured provider serves the requested model (`details.available_models` lists those that are served). */
export class ModelNotAvailable extends GatewayError("ModelNotAvailable", "MODEL_NOT_AVAILABLE", 404) {}
/** Every provider of the model is cooling down after a 429 or has its circuit open; `details.retry_after` in seconds. */
export class AiUnavailable extends GatewayError("AiUnavailable", "AI_UNAVAILABLE", 503) {}
/** The request's retry budget ran out on upstream failures; `details.attempts` lists each attempt. */
export class AiUpstreamError extends GatewayError("AiUpstreamError", "AI_UPSTREAM_ERROR", 502) {}
/** The request's deadline passed before a provider answered. */
export class AiTimeout extends GatewayError("AiTimeout", "AI_TIMEOUT", 504) {}
/** The provider refused the request itself (too long a prompt, an unsupported parameter). */
export class AiRequestRejected extends GatewayError("AiRequestRejected", "AI_REQUEST_REJECTED", 400) {}
/** The model answered, but not in the shape that was asked for (e.g. JSON that fails its schema). */
export class AiInvalidOutput extends GatewayError("AiInvalidOutput", "AI_INVALID_OUTPUT", 502) {}
/** A stream that had started failed upstream; sent as the stream's final error event. */
export class AiStreamInterrupted extends GatewayError("AiStreamInterrupted", "AI_STREAM_INTERRUPTED", 502) {}

/** A release backend (GitHub) failed or could not be reached; the last good catalog is still served. */
export class UpstreamUnavailable extends GatewayError("UpstreamUnavailable", "UPSTREAM_UNAVAILABLE", 502) {}
/** A release backend's rate limit is spent; `details.reset_at` says when requests are sent again. */
export class UpstreamRateLimited extends GatewayError("UpstreamRateLimited", "UPSTREAM_RATE_LIMITED", 503) {}
/** A configured repository does not exist, or is private and the token cannot see it. */
export class UpstreamNotFound extends GatewayError("UpstreamNotFound", "UPSTREAM_NOT_FOUND", 502) {}
/** A build's artifact (or a checksum file) could not be downloaded. */
export class ArtifactUnreachable extends GatewayError("ArtifactUnreachable", "ARTIFACT_UNREACHABLE", 502) {}

/** No API key has this name. */
export class KeyNotFound extends GatewayError("KeyNotFound", "KEY_NOT_FOUND", 404) {}

/** The request's headers exceed what the server reads. */
export class HeadersTooLarge extends GatewayError("HeadersTooLarge", "HEADERS_TOO_LARGE", 431) {}
