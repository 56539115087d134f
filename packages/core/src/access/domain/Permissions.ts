/** The permissions of the spec's permission table; each guards the endpoints named there. */
export const names = [
  "canReadProjects",
  "canReadVersions",
  "canCheckUpdates",
  "canUseAI",
  "canCreateKeys",
  "canRevokeKeys"
] as const

export type Permission = (typeof names)[number]

/** Who is calling, once their key has been checked. */
export interface Principal {
  /** The key's name; `admin` for the `API_KEY_ADMIN` key. */
  readonly name: string
  readonly permissions: ReadonlySet<Permission>
  /** Projects this key may see; `undefined` means every project. */
  readonly allowedProjects: ReadonlySet<string> | undefined
  /** Only the `API_KEY_ADMIN` key: administration beyond the permission table (e.g. catalog sync). */
  readonly isAdmin: boolean
  /** The key's own request limit per window, when it has one. */
  readonly rateLimit?: number | undefined
}

export const admin: Principal = {
  name: "admin",
  permissions: new Set(names),
  allowedProjects: undefined,
  isAdmin: true
}

/** The `API_KEY_READ` key: reads the catalog and checks updates, nothing else. */
export const reader: Principal = {
  name: "read",
  permissions: new Set(["canReadProjects", "canReadVersions", "canCheckUpdates"]),
  allowedProjects: undefined,
  isAdmin: false
}

export const has = (principal: Principal, permission: Permission): boolean => principal.permissions.has(permission)

export const canSeeProject = (principal: Principal, projectId: string): boolean =>
  principal.allowedProjects === undefined || principal.allowedProjects.has(projectId)
