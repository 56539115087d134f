import { mkdtempSync, readdirSync, rmSync, statSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { DatabaseSync } from "node:sqlite"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { type RunningGateway, startGateway } from "./support/gateway.ts"
import { postgresDatabase, type TestPostgres } from "./support/services.ts"

const firstAdmin = "first-admin-key-0123456789abcdef0123"
const secondAdmin = "second-admin-key-0123456789abcdef012"
const bearer = (key: string) => ({ authorization: `Bearer ${key}` })
const tempDir = () => mkdtempSync(join(tmpdir(), "lunarbit-state-"))

const createKey = async (gateway: RunningGateway, admin: string, name: string) => {
  const response = await fetch(gateway.url("/admin/keys"), {
    method: "POST",
    headers: { ...bearer(admin), "content-type": "application/json" },
    body: JSON.stringify({ name, permissions: { canReadProjects: true } })
  })
  expect(response.status).toBe(201)
  return ((await response.json()) as { key: string }).key
}

const status = async (gateway: RunningGateway, key: string) =>
  (await fetch(gateway.url("/projects"), { headers: bearer(key) })).status

/** Runs `body` against a gateway started with `env`, closing it afterwards. */
const withGateway = async <A>(
  env: Record<string, string | undefined>,
  body: (gateway: RunningGateway) => Promise<A>
) => {
  const gateway = await startGateway(env)
  try {
    return await body(gateway)
  } finally {
    await gateway.close()
  }
}

describe("the key hashing secret, kept with the SQLite store", () => {
  it("is generated on first start, so rotating the admin key leaves issued keys valid", async () => {
    const database = join(tempDir(), "gateway.db")
    const key = await withGateway({ API_KEY_ADMIN: firstAdmin, DATABASE_PATH: database }, async (gateway) => {
      const key = await createKey(gateway, firstAdmin, "survivor")
      expect(await status(gateway, key)).toBe(200)
      return key
    })
    const secretFile = `${database}.key-hash-secret`
    expect(statSync(secretFile).mode & 0o777).toBe(0o600)

    await withGateway({ API_KEY_ADMIN: secondAdmin, DATABASE_PATH: database }, async (gateway) => {
      expect(await status(gateway, key)).toBe(200)
      expect(await status(gateway, secondAdmin)).toBe(200)
      expect(await status(gateway, firstAdmin)).toBe(401)
      const listed = await (await fetch(gateway.url("/admin/keys"), { headers: bearer(secondAdmin) })).json()
      expect(listed.keys.find((k: any) => k.name === "survivor").status).toBe("active")
    })
  })

  it("refuses to start when a configured KEY_HASH_SECRET is not the one the store was written with", async () => {
    const database = join(tempDir(), "gateway.db")
    const env = { API_KEY_ADMIN: firstAdmin, DATABASE_PATH: database }
    const key = await withGateway({ ...env, KEY_HASH_SECRET: "the-first-hashing-secret" }, (gateway) =>
      createKey(gateway, firstAdmin, "hashed-once")
    )
    await expect(startGateway({ ...env, KEY_HASH_SECRET: "another-hashing-secret" })).rejects.toThrow(
      /KEY_HASH_SECRET does not match the secret the keys in .*gateway\.db were stored with/
    )
    await expect(startGateway(env)).rejects.toThrow(/KEY_HASH_SECRET/)
    await withGateway({ ...env, KEY_HASH_SECRET: "the-first-hashing-secret" }, async (gateway) => {
      expect(await status(gateway, key)).toBe(200)
    })

    const generated = join(tempDir(), "gateway.db")
    await withGateway({ API_KEY_ADMIN: firstAdmin, DATABASE_PATH: generated }, async () => {})
    await expect(
      startGateway({ API_KEY_ADMIN: firstAdmin, DATABASE_PATH: generated, KEY_HASH_SECRET: "not-the-generated-one" })
    ).rejects.toThrow(/KEY_HASH_SECRET does not match/)
  })

  it("adopts the admin key as the secret of a store written before the secret was kept", async () => {
    const database = join(tempDir(), "gateway.db")
    // Keys hashed under the admin key, as before, and no secret kept beside the database.
    const key = await withGateway(
      { API_KEY_ADMIN: firstAdmin, KEY_HASH_SECRET: firstAdmin, DATABASE_PATH: database },
      (gateway) => createKey(gateway, firstAdmin, "from-before")
    )
    rmSync(`${database}.key-hash-secret`)
    await withGateway({ API_KEY_ADMIN: firstAdmin, DATABASE_PATH: database }, async (gateway) => {
      expect(await status(gateway, key)).toBe(200)
    })
    // Rotating the admin key alone would lock every key out: the start is refused instead.
    await expect(startGateway({ API_KEY_ADMIN: secondAdmin, DATABASE_PATH: database })).rejects.toThrow(
      /were stored with a KEY_HASH_SECRET that is not set now/
    )
    await withGateway(
      { API_KEY_ADMIN: secondAdmin, KEY_HASH_SECRET: firstAdmin, DATABASE_PATH: database },
      async (g) => {
        expect(await status(g, key)).toBe(200)
      }
    )
  })

  it("refuses an admin key shorter than 32 characters outside development", async () => {
    for (const NODE_ENV of ["production", "test"]) {
      await expect(startGateway({ NODE_ENV, API_KEY_ADMIN: "too-short-admin-key" })).rejects.toThrow(
        /API_KEY_ADMIN must be at least 32 characters/
      )
    }
    await withGateway({ NODE_ENV: "development", API_KEY_ADMIN: "short-but-local" }, async (gateway) => {
      expect(await status(gateway, "short-but-local")).toBe(200)
    })
  })
})

describe("the key hashing secret, kept in PostgreSQL when the store is shared", () => {
  let database: TestPostgres
  beforeAll(async () => {
    database = await postgresDatabase()
  }, 120_000)
  afterAll(() => database?.close())

  it("is the same for every instance, whatever its local files and admin key", async () => {
    const key = await withGateway(
      { API_KEY_ADMIN: firstAdmin, DATABASE_URL: database.url, DATABASE_PATH: join(tempDir(), "a.db") },
      (gateway) => createKey(gateway, firstAdmin, "shared")
    )
    await withGateway(
      { API_KEY_ADMIN: secondAdmin, DATABASE_URL: database.url, DATABASE_PATH: join(tempDir(), "b.db") },
      async (gateway) => {
        expect(await status(gateway, key)).toBe(200)
      }
    )
    await expect(
      startGateway({ API_KEY_ADMIN: secondAdmin, DATABASE_URL: database.url, KEY_HASH_SECRET: "a-different-secret" })
    ).rejects.toThrow(/KEY_HASH_SECRET does not match the secret the keys in PostgreSQL were stored with/)
  })
})

describe("LUNARBIT_STATE_DIR", () => {
  it("holds every piece of local state, the database included", async () => {
    const stateDir = join(tempDir(), "state")
    await withGateway(
      { API_KEY_ADMIN: undefined, DATABASE_PATH: undefined, LUNARBIT_STATE_DIR: stateDir },
      async () => {}
    )
    expect(readdirSync(stateDir)).toEqual(
      expect.arrayContaining(["admin-key", "gateway.db", "gateway.db.key-hash-secret"])
    )
    const db = new DatabaseSync(join(stateDir, "gateway.db"), { readOnly: true })
    try {
      expect(db.prepare("SELECT count(*) AS n FROM schema_migrations").get()?.n).toBeGreaterThan(0)
    } finally {
      db.close()
    }
  })
})
