import type { Permission, Principal } from "./Permissions.ts"

/**
 * What a key other than the admin key may hand on when it creates a key: never more than it holds.
 * A child gets a subset of its creator's permissions and projects, expires no later than its
 * creator and has no higher rate limit than the creator's own; what the request leaves open
 * (projects, expiry, rate limit) is inherited rather than left unbounded.
 */
export interface Grant {
  readonly permissions: ReadonlyArray<Permission>
  /** `undefined`: every project the creator may see. */
  readonly allowedProjects: ReadonlyArray<string> | undefined
  /** ISO 8601; `undefined`: as long as the creator lives. */
  readonly expiresAt: string | undefined
  /** Requests per window; `undefined`: the default per-key limit, or the creator's own. */
  readonly rateLimit: number | undefined
}

/** Why a grant exceeds its creator, in the error's `details`. */
export type Excess =
  | { readonly permissions_not_held: ReadonlyArray<Permission> }
  | { readonly projects_not_allowed: ReadonlyArray<string> }
  | { readonly expires_at_most: string }
  | { readonly rate_limit_at_most: number }

/** `grant` bounded by `creator` (whose own key expires at `creatorExpiresAt`), or what exceeds it. */
export const bound = (
  creator: Principal,
  creatorExpiresAt: string | undefined,
  grant: Grant
): { readonly grant: Grant } | { readonly excess: Excess } => {
  const notHeld = grant.permissions.filter((permission) => !creator.permissions.has(permission))
  if (notHeld.length > 0) return { excess: { permissions_not_held: notHeld } }
  const projects = creator.allowedProjects
  const notAllowed = projects === undefined ? [] : (grant.allowedProjects ?? []).filter((id) => !projects.has(id))
  if (notAllowed.length > 0) return { excess: { projects_not_allowed: notAllowed } }
  if (creatorExpiresAt !== undefined && grant.expiresAt !== undefined && grant.expiresAt > creatorExpiresAt) {
    return { excess: { expires_at_most: creatorExpiresAt } }
  }
  const limit = creator.rateLimit
  if (limit !== undefined && grant.rateLimit !== undefined && grant.rateLimit > limit) {
    return { excess: { rate_limit_at_most: limit } }
  }
  return {
    grant: {
      permissions: grant.permissions,
      allowedProjects: grant.allowedProjects ?? (projects === undefined ? undefined : [...projects]),
      expiresAt: grant.expiresAt ?? creatorExpiresAt,
      rateLimit: grant.rateLimit ?? limit
    }
  }
}

/** How many creators up the chain ownership is followed; deeper chains are refused. */
export const maxChain = 64
