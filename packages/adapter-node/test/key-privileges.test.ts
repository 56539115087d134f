import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { auth, type RunningGateway, startGateway } from "./support/gateway.ts"

const json = { "content-type": "application/json" }
const bearer = (key: string) => ({ authorization: `Bearer ${key}` })

const expectError = async (response: Response, status: number, code: string) => {
  const body = (await response.json()) as { error: Record<string, any> }
  expect({ status: response.status, code: body.error?.code }).toEqual({ status, code })
  return body.error
}

/** Every case runs at the root and under the spec's `/api/v2` prefix. */
describe.each(["", "/api/v2"])("what a key may do to other keys (prefix '%s')", (prefix) => {
  let gateway: RunningGateway
  let serial = 0
  const post = (path: string, body: unknown, headers: Record<string, string> = auth) =>
    fetch(gateway.url(`${prefix}${path}`), {
      method: "POST",
      headers: { ...headers, ...json },
      body: JSON.stringify(body)
    })
  const remove = (path: string, headers: Record<string, string> = auth) =>
    fetch(gateway.url(`${prefix}${path}`), { method: "DELETE", headers })
  /** Creates a key with `by`'s key (the admin's by default) and returns the answer. */
  const create = async (body: Record<string, unknown>, by: Record<string, string> = auth) => {
    const response = await post("/admin/keys", { name: `key-${++serial}`, ...body }, by)
    expect(response.status).toBe(201)
    return (await response.json()) as Record<string, any>
  }

  beforeAll(async () => {
    gateway = await startGateway()
  })
  afterAll(() => gateway.close())

  it("grants only permissions the creating key holds", async () => {
    const creator = await create({ permissions: { canCreateKeys: true, canReadProjects: true } })
    const error = await expectError(
      await post(
        "/admin/keys",
        { name: "escalated", permissions: { canUseAI: true, canRevokeKeys: true, canCreateKeys: true } },
        bearer(creator.key)
      ),
      403,
      "FORBIDDEN"
    )
    expect(error.details.permissions_not_held).toEqual(["canUseAI", "canRevokeKeys"])
    const child = await create({ permissions: { canReadProjects: true, canCreateKeys: true } }, bearer(creator.key))
    expect(child.permissions).toMatchObject({ canReadProjects: true, canCreateKeys: true, canUseAI: false })
  })

  it("keeps a child within the creating key's projects", async () => {
    const creator = await create({
      permissions: { canCreateKeys: true, canReadProjects: true },
      allowedProjects: ["trackly"]
    })
    const wider = await expectError(
      await post(
        "/admin/keys",
        { name: "wider", permissions: { canReadProjects: true }, allowedProjects: ["trackly", "csviewer"] },
        bearer(creator.key)
      ),
      403,
      "FORBIDDEN"
    )
    expect(wider.details.projects_not_allowed).toEqual(["csviewer"])
    const inherited = await create({ permissions: { canReadProjects: true } }, bearer(creator.key))
    expect(inherited.allowedProjects).toEqual(["trackly"])
    const projects = await (await fetch(gateway.url("/projects"), { headers: bearer(inherited.key) })).json()
    expect(projects.projects.map((p: any) => p.id)).toEqual(["trackly"])
  })

  it("never lets a child outlive the creating key", async () => {
    const creator = await create({ permissions: { canCreateKeys: true }, expiresIn: "1d" })
    const longer = await expectError(
      await post("/admin/keys", { name: "longer", permissions: {}, expiresIn: "2d" }, bearer(creator.key)),
      403,
      "FORBIDDEN"
    )
    expect(longer.details.expires_at_most).toBe(creator.expiresAt)
    expect((await create({ permissions: {} }, bearer(creator.key))).expiresAt).toBe(creator.expiresAt)
    const shorter = await create({ permissions: {}, expiresIn: "12h" }, bearer(creator.key))
    expect(Date.parse(shorter.expiresAt)).toBeLessThan(Date.parse(creator.expiresAt))
  })

  it("never gives a child a higher rate limit than the creating key's", async () => {
    const creator = await create({ permissions: { canCreateKeys: true }, rateLimit: 100 })
    const higher = await expectError(
      await post("/admin/keys", { name: "faster", permissions: {}, rateLimit: 101 }, bearer(creator.key)),
      403,
      "FORBIDDEN"
    )
    expect(higher.details.rate_limit_at_most).toBe(100)
    expect((await create({ permissions: {} }, bearer(creator.key))).rateLimit).toBe(100)
    expect((await create({ permissions: {}, rateLimit: 10 }, bearer(creator.key))).rateLimit).toBe(10)
  })

  it("rotates and revokes only itself and the keys it created, directly or through its children", async () => {
    const manager = await create({ permissions: { canCreateKeys: true, canRevokeKeys: true } })
    const child = await create({ permissions: { canCreateKeys: true, canRevokeKeys: true } }, bearer(manager.key))
    const grandchild = await create({ permissions: {} }, bearer(child.key))
    const stranger = await create({ permissions: {} })

    const refused = await expectError(
      await post(`/admin/keys/${stranger.name}/rotate`, {}, bearer(manager.key)),
      403,
      "FORBIDDEN"
    )
    expect(refused.details.name).toBe(stranger.name)
    await expectError(await remove(`/admin/keys/${stranger.name}`, bearer(manager.key)), 403, "FORBIDDEN")
    await expectError(await post(`/admin/keys/${manager.name}/rotate`, {}, bearer(child.key)), 403, "FORBIDDEN")
    await expectError(await remove(`/admin/keys/${manager.name}`, bearer(child.key)), 403, "FORBIDDEN")

    expect((await post(`/admin/keys/${grandchild.name}/rotate`, {}, bearer(manager.key))).status).toBe(200)
    expect((await remove(`/admin/keys/${grandchild.name}`, bearer(manager.key))).status).toBe(204)
    expect((await post(`/admin/keys/${child.name}/rotate`, {}, bearer(child.key))).status).toBe(200)
    // The stranger is untouched: its key still works.
    expect((await fetch(gateway.url("/health"), { headers: bearer(stranger.key) })).status).toBe(200)
    const listed = (await (await fetch(gateway.url(`${prefix}/admin/keys`), { headers: auth })).json()).keys
    const creatorOf = (name: string) => listed.find((key: any) => key.name === name).createdBy
    expect([manager, child, grandchild, stranger].map((key) => creatorOf(key.name))).toEqual([
      "admin",
      manager.name,
      child.name,
      "admin"
    ])
  })

  it("keeps admin-only operations admin-only for a key holding every permission", async () => {
    const everything = await create({
      permissions: {
        canReadProjects: true,
        canReadVersions: true,
        canCheckUpdates: true,
        canUseAI: true,
        canCreateKeys: true,
        canRevokeKeys: true
      }
    })
    for (const path of ["/admin/keys", "/admin/keys/stats", "/admin/audit"]) {
      const error = await expectError(
        await fetch(gateway.url(`${prefix}${path}`), { headers: bearer(everything.key) }),
        403,
        "FORBIDDEN"
      )
      expect(error.details.required_permission).toBe("admin")
    }
    await expectError(
      await post("/admin/keys", { name: "admin", permissions: {} }, bearer(everything.key)),
      409,
      "KEY_EXISTS"
    )
  })
})

describe("key names and bodies", () => {
  let gateway: RunningGateway
  const post = (path: string, body: unknown) =>
    fetch(gateway.url(path), {
      method: "POST",
      headers: { ...auth, ...json },
      ...(body === undefined ? {} : { body: JSON.stringify(body) })
    })

  beforeAll(async () => {
    gateway = await startGateway()
  })
  afterAll(() => gateway.close())

  it("refuses names that look like keys", async () => {
    for (const name of [
      "lbapi_0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopq",
      "lbapi_short",
      "sk-0123456789abcdef"
    ]) {
      const error = await expectError(await post("/admin/keys", { name, permissions: {} }), 400, "INVALID_REQUEST")
      expect(error.details.issues[0].field).toBe("body.name")
    }
  })

  it("answers a duplicate name with 409 KEY_EXISTS", async () => {
    expect((await post("/admin/keys", { name: "twice", permissions: {} })).status).toBe(201)
    const error = await expectError(await post("/admin/keys", { name: "twice", permissions: {} }), 409, "KEY_EXISTS")
    expect(error.details.name).toBe("twice")
    await expectError(await post("/admin/keys", { name: "read", permissions: {} }), 409, "KEY_EXISTS")
  })

  it("lists the unknown projects of allowedProjects", async () => {
    const error = await expectError(
      await post("/admin/keys", { name: "typo", permissions: {}, allowedProjects: ["trackly", "trakly", "nope"] }),
      400,
      "INVALID_REQUEST"
    )
    expect(error.details.unknown_projects).toEqual(["trakly", "nope"])
    expect(error.details.issues[0].field).toBe("body.allowedProjects")
  })

  it("rotates a key without a body", async () => {
    expect((await post("/admin/keys", { name: "bodiless", permissions: {} })).status).toBe(201)
    const response = await fetch(gateway.url("/admin/keys/bodiless/rotate"), { method: "POST", headers: auth })
    expect(response.status).toBe(200)
    const rotated = await response.json()
    expect(Date.parse(rotated.previousKeyValidUntil) - Date.now()).toBeGreaterThan(23 * 3_600_000)
  })
})
