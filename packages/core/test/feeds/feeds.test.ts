import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { parseUpdateInfo, resolveFiles } from "electron-updater/out/providers/Provider.js"
import exampleCatalog from "../../../../examples/catalog.json" with { type: "json" }
import type { Build, Version } from "../../src/releases/domain/Catalog.ts"
import { adminKey, bearer, readerKey, type ServedGateway, serveGateway } from "../ai/support.ts"

let gateway: ServedGateway
beforeAll(async () => {
  gateway = await serveGateway({})
})
afterAll(() => gateway.close())

const admin = bearer(adminKey)
const get = (path: string, headers: Record<string, string> = admin) =>
  fetch(gateway.url(path), { headers, redirect: "manual" })

const trackly125 = exampleCatalog.projects[0]!.channels[0]!.versions.find((v) => v.id === "1.2.5") as Version
const buildOf = (id: string): Build => trackly125.builds.find((b) => b.id === id)!

const setRollout = (version: string, change: { percentage?: number; paused?: boolean }, key = adminKey) =>
  fetch(gateway.url(`/admin/projects/trackly/channels/stable/versions/${version}/rollout`), {
    method: "PUT",
    headers: { ...bearer(key), "content-type": "application/json" },
    body: JSON.stringify(change)
  })

/** Parses a served channel file with electron-updater's own code, as the app would. */
const electronInfo = async (path: string, headers: Record<string, string> = admin) => {
  const response = await get(path, headers)
  assert.strictEqual(response.status, 200)
  assert.match(response.headers.get("content-type") ?? "", /^application\/yaml/)
  const url = new URL(gateway.url(path))
  const info = parseUpdateInfo(await response.text(), path.split("/").pop()!, url)
  return { info, files: resolveFiles(info, url) }
}

describe("Tauri v2", () => {
  it("offers the newest signed build for the target, with every field Tauri reads", async () => {
    for (const prefix of ["", "/api/v2"]) {
      const response = await get(`${prefix}/feeds/tauri/trackly/stable/windows/x86_64/1.2.0`)
      assert.strictEqual(response.status, 200)
      const body = await response.json()
      assert.deepStrictEqual(Object.keys(body).sort(), ["notes", "pub_date", "signature", "url", "version"])
      assert.strictEqual(body.version, "1.2.5")
      assert.strictEqual(body.pub_date, trackly125.published_at)
      assert.strictEqual(body.notes, trackly125.release_notes)
      assert.strictEqual(body.signature, buildOf("windows-x64").signature)
      assert.strictEqual(body.url, gateway.url("/feeds/download/trackly/stable/1.2.5/windows-x64"))
    }
  })

  it("answers 204 when up to date, and for a 32-bit target the catalog has no build for", async () => {
    assert.strictEqual((await get("/feeds/tauri/trackly/stable/linux/x86_64/1.2.5")).status, 204)
    assert.strictEqual((await get("/feeds/tauri/trackly/stable/windows/i686/1.0.0")).status, 204)
  })

  it("gives a Mac the universal build when there is no exact one", async () => {
    const body = await (await get("/feeds/tauri/trackly/stable/darwin/aarch64/1.2.3")).json()
    assert.strictEqual(body.signature, buildOf("macos-universal").signature)
  })

  it("refuses a target Tauri does not name with the error envelope", async () => {
    const response = await get("/feeds/tauri/trackly/stable/amiga/x86_64/1.0.0")
    assert.strictEqual(response.status, 400)
    assert.strictEqual((await response.json()).error.code, "INVALID_REQUEST")
  })

  it("serves the static latest.json with its platforms map", async () => {
    const body = await (await get("/feeds/tauri/trackly/stable/latest.json")).json()
    assert.strictEqual(body.version, "1.2.5")
    assert.deepStrictEqual(Object.keys(body.platforms).sort(), [
      "darwin-aarch64",
      "darwin-x86_64",
      "linux-aarch64",
      "linux-x86_64",
      "windows-aarch64",
      "windows-x86_64"
    ])
    assert.deepStrictEqual(body.platforms["linux-aarch64"], {
      signature: buildOf("linux-arm64").signature,
      url: gateway.url("/feeds/download/trackly/stable/1.2.5/linux-arm64")
    })
  })
})

describe("electron-updater (generic provider)", () => {
  it("serves latest.yml that electron-updater parses, with base64 SHA-512, size and release date", async () => {
    const { info, files } = await electronInfo("/feeds/electron/trackly/stable/latest.yml")
    assert.strictEqual(info.version, "1.2.5")
    assert.strictEqual(info.releaseDate, trackly125.published_at)
    assert.strictEqual(info.releaseNotes, trackly125.release_notes)
    assert.isUndefined(info.stagingPercentage)
    assert.deepStrictEqual(info.files, [
      {
        url: gateway.url("/feeds/download/trackly/stable/1.2.5/windows-x64"),
        sha512: buildOf("windows-x64").checksum!.sha512!,
        size: buildOf("windows-x64").file_size
      }
    ])
    assert.strictEqual(info.sha512, buildOf("windows-x64").checksum!.sha512)
    assert.strictEqual(files[0]!.url.href, gateway.url("/feeds/download/trackly/stable/1.2.5/windows-x64"))
  })

  it("lists every Mac build in latest-mac.yml, zips included, and the arm64 Linux build in latest-linux-arm64.yml", async () => {
    const mac = await electronInfo("/feeds/electron/trackly/stable/latest-mac.yml")
    assert.deepStrictEqual(
      mac.info.files.map((f) => f.url.split("/").pop()),
      ["macos-universal", "macos-universal-zip"]
    )
    const linux = await electronInfo("/feeds/electron/trackly/stable/latest-linux-arm64.yml")
    assert.deepStrictEqual(
      linux.info.files.map((f) => f.url.split("/").pop()),
      ["linux-arm64"]
    )
  })

  it("answers 404 with the envelope for a file electron-updater never asks for, or a channel without checksums", async () => {
    const unknown = await get("/feeds/electron/trackly/stable/other.yml")
    assert.strictEqual(unknown.status, 404)
    assert.strictEqual((await unknown.json()).error.code, "NOT_FOUND")
    const beta = await get("/feeds/electron/trackly/beta/beta.yml")
    assert.strictEqual((await beta.json()).error.code, "VERSION_NOT_FOUND")
  })
})

describe("Squirrel", () => {
  it("Squirrel.Mac: a zip build, or 204 when up to date", async () => {
    const response = await get("/feeds/squirrel-mac/trackly/stable/arm64/1.2.0")
    assert.strictEqual(response.status, 200)
    const body = await response.json()
    assert.deepStrictEqual(Object.keys(body).sort(), ["name", "notes", "pub_date", "url"])
    assert.strictEqual(body.url, gateway.url("/feeds/download/trackly/stable/1.2.5/macos-universal-zip"))
    assert.strictEqual(body.name, trackly125.name)
    assert.strictEqual((await get("/feeds/squirrel-mac/trackly/stable/x64/1.2.5")).status, 204)
  })

  it("Squirrel.Windows: RELEASES in `SHA1 filename size` form, the package redirected beside it and counted", async () => {
    const response = await get("/feeds/squirrel-windows/trackly/stable/x64/RELEASES?id=Trackly&localVersion=1.2.0")
    assert.strictEqual(response.status, 200)
    assert.match(response.headers.get("content-type") ?? "", /^text\/plain/)
    const nupkg = buildOf("windows-x64-nupkg")
    assert.strictEqual(
      await response.text(),
      `${nupkg.checksum!.sha1!.toUpperCase()} ${nupkg.file_name} ${nupkg.file_size}`
    )
    const before = await (await get("/projects/trackly/channels/stable/versions/1.2.5/builds/windows-x64-nupkg")).json()
    const download = await get(`/feeds/squirrel-windows/trackly/stable/x64/${nupkg.file_name}`)
    assert.strictEqual(download.status, 302)
    assert.strictEqual(download.headers.get("location"), nupkg.download_url)
    const after = await (await get("/projects/trackly/channels/stable/versions/1.2.5/builds/windows-x64-nupkg")).json()
    assert.strictEqual(after.downloads, before.downloads + 1)
  })
})

describe("Apple Silicon under Rosetta", () => {
  it("offers an x64 Mac process under translation the arm64 build, in the JSON check and the feeds", async () => {
    const check = (translated: string) =>
      get(
        `/projects/trackly/channels/beta/update?current_version=1.3.0-beta.1&platform=macos&architecture=x64${translated}`
      ).then((r) => r.json())
    assert.isFalse((await check("")).update_available)
    const native = await check("&translated=true")
    assert.strictEqual(native.latest_version, "1.3.0-beta.2")
    assert.match(native.download_url, /mac-arm64\.dmg$/)
    const launcher = await fetch(gateway.url("/update/check?translated=true"), {
      method: "POST",
      headers: { ...admin, "content-type": "application/json" },
      body: JSON.stringify({
        client: { launcher_version: "2.1.0", os: "macos", architecture: "x64" },
        installed: [{ project_id: "trackly", version: "1.3.0-beta.1", channel: "beta" }]
      })
    })
    assert.match((await launcher.json()).project_updates[0].download_url, /mac-arm64\.dmg$/)
  })
})

describe("Feed access", () => {
  it("serves a channel with public_feeds without a key, and refuses the others with 401", async () => {
    assert.strictEqual((await get("/feeds/tauri/trackly/stable/windows/x86_64/1.2.0", {})).status, 200)
    const hidden = await get("/feeds/tauri/trackly/beta/windows/x86_64/1.2.0", {})
    assert.strictEqual(hidden.status, 401)
    assert.strictEqual((await hidden.json()).error.code, "UNAUTHORIZED")
    const wrongKey = await get("/feeds/tauri/trackly/stable/windows/x86_64/1.2.0", bearer("lb_wrong"))
    assert.strictEqual(wrongKey.status, 401)
  })

  it("limits anonymous requests to public feeds per IP address", async () => {
    const limited = await serveGateway({ RATE_LIMIT_UNAUTHENTICATED_MAX: "2" })
    try {
      const statuses = []
      for (let i = 0; i < 3; i++) {
        statuses.push((await fetch(limited.url("/feeds/squirrel-mac/trackly/stable/arm64/1.2.5"))).status)
      }
      assert.deepStrictEqual(statuses, [204, 204, 429])
    } finally {
      await limited.close()
    }
  })

  it("refuses a key without canCheckUpdates", async () => {
    const response = await get("/feeds/tauri/trackly/beta/windows/x86_64/1.2.0", bearer(readerKey))
    assert.strictEqual(response.status, 403)
  })

  it("counts a download through a feed and redirects to the build", async () => {
    const path = "/projects/trackly/channels/stable/versions/1.2.5/builds/linux-x64"
    const before = (await (await get(path)).json()).downloads
    const response = await get("/feeds/download/trackly/stable/1.2.5/linux-x64", {})
    assert.strictEqual(response.status, 302)
    assert.strictEqual(response.headers.get("location"), buildOf("linux-x64").download_url)
    assert.strictEqual((await (await get(path)).json()).downloads, before + 1)
  })

  it("documents each feed with its media type in the OpenAPI document", async () => {
    const spec = await (await get("/openapi.json", {})).json()
    const content = (path: string, status: string) => Object.keys(spec.paths[path].get.responses[status]?.content ?? {})
    assert.deepStrictEqual(content("/feeds/electron/{projectId}/{channelId}/{file}", "200"), ["application/yaml"])
    assert.deepStrictEqual(content("/feeds/squirrel-windows/{projectId}/{channelId}/{arch}/RELEASES", "200"), [
      "text/plain"
    ])
    const tauri = spec.paths["/feeds/tauri/{projectId}/{channelId}/{target}/{arch}/{currentVersion}"].get.responses
    assert.deepStrictEqual(Object.keys(tauri["200"].content), ["application/json"])
    assert.isDefined(tauri["204"])
  })
})

describe("Rollouts through the feeds and the admin endpoints", () => {
  it("changes the offer at run time for every feed, audited, admin key only", async () => {
    assert.strictEqual((await setRollout("1.2.5", { percentage: 0 }, readerKey)).status, 403)
    const paused = await setRollout("1.2.5", { percentage: 40, paused: true })
    assert.strictEqual(paused.status, 200)
    assert.deepInclude(await paused.json(), { version: "1.2.5", percentage: 40, paused: true, source: "admin" })
    const client = { ...admin, "x-client-id": "device-1" }
    assert.strictEqual(
      (await (await get("/feeds/tauri/trackly/stable/windows/x86_64/1.2.0", client)).json()).version,
      "1.2.3"
    )
    assert.strictEqual((await electronInfo("/feeds/electron/trackly/stable/latest.yml", client)).info.version, "1.2.3")
    // A client already on the paused version is never offered a downgrade.
    assert.strictEqual((await get("/feeds/squirrel-mac/trackly/stable/arm64/1.2.5", client)).status, 204)

    await setRollout("1.2.5", { paused: false })
    // Find a client inside the 40% and one outside: the answer follows their place, every time.
    const answers = await Promise.all(
      Array.from({ length: 40 }, async (_, i) => {
        const headers = { ...admin, "x-client-id": `device-${i}` }
        const { info } = await electronInfo("/feeds/electron/trackly/stable/latest.yml", headers)
        return info
      })
    )
    const inside = answers.filter((info) => info.version === "1.2.5")
    assert.isAbove(inside.length, 0)
    assert.isBelow(inside.length, 40)
    for (const info of inside) assert.strictEqual(info.stagingPercentage, 40)
    const json = await (
      await get(
        "/projects/trackly/channels/stable/update?current_version=1.2.0&platform=linux&architecture=x64&client_id=device-1"
      )
    ).json()
    assert.include(["1.2.3", "1.2.5"], json.latest_version)
    const vary = (
      await get("/projects/trackly/channels/stable/update?current_version=1.2.0&platform=linux&architecture=x64")
    ).headers.get("vary")
    assert.include(vary, "X-Client-Id")

    const state = await (await get("/admin/projects/trackly/channels/stable/versions/1.2.5/rollout")).json()
    assert.deepInclude(state, { percentage: 40, paused: false, updated_by: "admin" })
    const audit = await (await get("/admin/audit")).json()
    assert.include(
      audit.events.map((e: { action: string }) => e.action),
      "rollout.changed"
    )
    await setRollout("1.2.5", { percentage: 100 })
  })

  it("refuses a percentage outside 0-100 with the envelope", async () => {
    const response = await setRollout("1.2.5", { percentage: 101 })
    assert.strictEqual(response.status, 400)
    assert.strictEqual((await response.json()).error.code, "INVALID_REQUEST")
  })

  it("answers 404 with the envelope for a version the channel does not have", async () => {
    const response = await setRollout("9.9.9", { paused: true })
    assert.strictEqual(response.status, 404)
    assert.strictEqual((await response.json()).error.code, "VERSION_NOT_FOUND")
  })
})
