import { createHash } from "node:crypto"
import { createServer, type IncomingMessage, type ServerResponse } from "node:http"
import type { AddressInfo } from "node:net"

/**
 * A local HTTP server that speaks GitHub's REST releases API as the gateway uses it: paginated
 * release lists with `Link` headers (the next pages under `/repositories/{id}`, as GitHub does),
 * weak ETags and 304s that spend no quota, `x-ratelimit-*` headers and 403/429 rate-limit answers,
 * 404 for unknown repositories and for private ones without the token, and asset downloads that
 * redirect to a storage host, both through the API (`Accept: application/octet-stream`) and
 * through the public download URL.
 */
export interface AssetInput {
  readonly name: string
  readonly content: string | Uint8Array
  /** GitHub's `sha256:<hex>` digest; omitted unless given. */
  readonly digest?: string
  /** A pause before each 64 KiB chunk of the download, to make it slow. */
  readonly chunkDelayMs?: number
}

export interface ReleaseInput {
  readonly tag: string
  readonly name?: string
  readonly body?: string
  readonly draft?: boolean
  readonly prerelease?: boolean
  readonly publishedAt?: string
  readonly assets?: ReadonlyArray<AssetInput>
}

interface Asset extends AssetInput {
  readonly id: number
  readonly createdAt: string
}

interface Release extends Omit<ReleaseInput, "assets"> {
  readonly id: number
  assets: Array<Asset>
}

interface Repository {
  readonly id: number
  readonly private: boolean
  releases: Array<Release>
}

export interface RequestRecord {
  readonly method: string
  readonly path: string
  readonly status: number
  readonly ifNoneMatch: string | undefined
  readonly authorization: string | undefined
  /** The W3C trace context the caller sent, if any. */
  readonly traceparent: string | undefined
}

const sha256 = (content: string | Uint8Array) => createHash("sha256").update(content).digest("hex")
const md5 = (content: string | Uint8Array) => createHash("md5").update(content).digest("hex")
export const digests = { sha256, md5 }

export const startFakeGitHub = async (options: { readonly token?: string } = {}) => {
  const repositories = new Map<string, Repository>()
  const assets = new Map<number, { asset: Asset; repository: string; release: Release }>()
  const requests: Array<RequestRecord> = []
  let nextId = 1000
  let clock = Date.parse("2026-01-01T00:00:00Z")
  // Each upload a minute after the previous one, in GitHub's timestamp format.
  const tick = () => {
    clock += 60_000
    return new Date(clock).toISOString().replace(/\.\d{3}Z$/, "Z")
  }
  const quota = { limit: 60, remaining: 60, reset: Math.floor(Date.now() / 1000) + 3600 }
  let refusal: { status: 403 | 429; retryAfter?: number } | undefined
  const downloads = { active: 0, max: 0, total: 0 }
  const listing = { active: new Map<string, number>(), max: 0 }

  const server = createServer((req, res) => {
    handle(req, res).catch((error) => {
      res.statusCode = 500
      res.end(String(error))
    })
  })
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`

  const assetJson = (repository: string, release: Release, asset: Asset) => ({
    url: `${base}/repos/${repository}/releases/assets/${asset.id}`,
    id: asset.id,
    node_id: `RA_${asset.id}`,
    name: asset.name,
    label: "",
    uploader: { login: "octocat", id: 1, type: "User" },
    content_type: "application/octet-stream",
    state: "uploaded",
    size: typeof asset.content === "string" ? Buffer.byteLength(asset.content) : asset.content.byteLength,
    download_count: 0,
    created_at: asset.createdAt,
    updated_at: asset.createdAt,
    browser_download_url: `${base}/${repository}/releases/download/${release.tag}/${asset.name}`,
    ...(asset.digest === undefined ? {} : { digest: asset.digest })
  })

  const releaseJson = (repository: string, release: Release) => ({
    url: `${base}/repos/${repository}/releases/${release.id}`,
    html_url: `${base}/${repository}/releases/tag/${release.tag}`,
    assets_url: `${base}/repos/${repository}/releases/${release.id}/assets`,
    upload_url: `${base}/repos/${repository}/releases/${release.id}/assets{?name,label}`,
    tarball_url: `${base}/repos/${repository}/tarball/${release.tag}`,
    zipball_url: `${base}/repos/${repository}/zipball/${release.tag}`,
    id: release.id,
    node_id: `RE_${release.id}`,
    tag_name: release.tag,
    target_commitish: "main",
    name: release.name ?? release.tag,
    body: release.body ?? null,
    draft: release.draft ?? false,
    prerelease: release.prerelease ?? false,
    created_at: release.publishedAt ?? "2026-01-01T00:00:00Z",
    published_at: release.draft ? null : (release.publishedAt ?? "2026-01-01T00:00:00Z"),
    author: { login: "octocat", id: 1, type: "User" },
    assets: release.assets.map((asset) => assetJson(repository, release, asset))
  })

  const rateHeaders = () => ({
    "x-ratelimit-limit": String(quota.limit),
    "x-ratelimit-remaining": String(quota.remaining),
    "x-ratelimit-reset": String(quota.reset),
    "x-ratelimit-used": String(quota.limit - quota.remaining),
    "x-ratelimit-resource": "core"
  })

  const json = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    res.writeHead(status, { "content-type": "application/json; charset=utf-8", ...headers })
    res.end(JSON.stringify(body))
  }

  const authorized = (req: IncomingMessage) =>
    options.token !== undefined &&
    (req.headers.authorization === `token ${options.token}` || req.headers.authorization === `Bearer ${options.token}`)

  const visible = (name: string, req: IncomingMessage) => {
    const repository = repositories.get(name)
    return repository !== undefined && (!repository.private || authorized(req)) ? repository : undefined
  }

  const notFound = (res: ServerResponse) =>
    json(
      res,
      404,
      { message: "Not Found", documentation_url: "https://docs.github.com/rest", status: "404" },
      rateHeaders()
    )

  const listReleases = async (req: IncomingMessage, res: ServerResponse, name: string, url: URL) => {
    const repository = visible(name, req)
    if (repository === undefined) return notFound(res)
    if (refusal !== undefined) {
      const headers: Record<string, string> = { ...rateHeaders(), "x-ratelimit-remaining": "0" }
      if (refusal.retryAfter !== undefined) headers["retry-after"] = String(refusal.retryAfter)
      return json(
        res,
        refusal.status,
        {
          message:
            "API rate limit exceeded for 127.0.0.1. (But here's the good news: Authenticated requests get a higher rate limit.)",
          documentation_url: "https://docs.github.com/rest/overview/resources-in-the-rest-api#rate-limiting"
        },
        headers
      )
    }
    listing.active.set(name, (listing.active.get(name) ?? 0) + 1)
    listing.max = Math.max(listing.max, listing.active.get(name)!)
    // A little latency, so that requests arriving together overlap.
    await new Promise((resolve) => setTimeout(resolve, 20))
    listing.active.set(name, listing.active.get(name)! - 1)
    const perPage = Math.min(Number(url.searchParams.get("per_page") ?? 30), 100)
    const page = Number(url.searchParams.get("page") ?? 1)
    const newestFirst = [...repository.releases].reverse()
    const items = newestFirst.slice((page - 1) * perPage, page * perPage).map((r) => releaseJson(name, r))
    const body = JSON.stringify(items)
    const etag = `W/"${sha256(body)}"`
    const last = Math.max(1, Math.ceil(newestFirst.length / perPage))
    const pageUrl = (n: number) => `${base}/repositories/${repository.id}/releases?per_page=${perPage}&page=${n}`
    const links = [
      ...(page < last ? [`<${pageUrl(page + 1)}>; rel="next"`, `<${pageUrl(last)}>; rel="last"`] : []),
      ...(page > 1 ? [`<${pageUrl(1)}>; rel="first"`, `<${pageUrl(page - 1)}>; rel="prev"`] : [])
    ]
    const headers: Record<string, string> = { etag, "cache-control": "private, max-age=60, s-maxage=60" }
    if (links.length > 0) headers.link = links.join(", ")
    if (req.headers["if-none-match"] === etag) {
      res.writeHead(304, { ...headers, ...rateHeaders() })
      return res.end()
    }
    quota.remaining = Math.max(0, quota.remaining - 1)
    res.writeHead(200, { "content-type": "application/json; charset=utf-8", ...headers, ...rateHeaders() })
    res.end(body)
  }

  const serveContent = async (res: ServerResponse, asset: Asset) => {
    downloads.active++
    downloads.total++
    downloads.max = Math.max(downloads.max, downloads.active)
    try {
      const bytes = typeof asset.content === "string" ? Buffer.from(asset.content) : Buffer.from(asset.content)
      res.writeHead(200, { "content-type": "application/octet-stream", "content-length": String(bytes.byteLength) })
      const chunk = 64 * 1024
      for (let offset = 0; offset < bytes.byteLength; offset += chunk) {
        if (asset.chunkDelayMs !== undefined) await new Promise((resolve) => setTimeout(resolve, asset.chunkDelayMs))
        if (!res.write(bytes.subarray(offset, offset + chunk)))
          await new Promise((resolve) => res.once("drain", resolve))
      }
      res.end()
    } finally {
      downloads.active--
    }
  }

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? "/", base)
    res.on("finish", () =>
      requests.push({
        method: req.method ?? "GET",
        path: url.pathname + url.search,
        status: res.statusCode,
        ifNoneMatch: req.headers["if-none-match"],
        authorization: req.headers.authorization,
        traceparent: typeof req.headers.traceparent === "string" ? req.headers.traceparent : undefined
      })
    )
    let match = url.pathname.match(/^\/repos\/([^/]+\/[^/]+)\/releases$/)
    if (match) return listReleases(req, res, match[1]!, url)
    match = url.pathname.match(/^\/repositories\/(\d+)\/releases$/)
    if (match) {
      const entry = [...repositories.entries()].find(([, r]) => r.id === Number(match![1]))
      return entry === undefined ? notFound(res) : listReleases(req, res, entry[0], url)
    }
    match = url.pathname.match(/^\/repos\/([^/]+\/[^/]+)\/releases\/assets\/(\d+)$/)
    if (match) {
      const found = assets.get(Number(match[2]))
      if (found === undefined || visible(match[1]!, req) === undefined) return notFound(res)
      if (req.headers.accept !== "application/octet-stream") {
        return json(res, 200, assetJson(found.repository, found.release, found.asset))
      }
      res.writeHead(302, { location: `${base}/storage/${found.asset.id}?token=signed` })
      return res.end()
    }
    match = url.pathname.match(/^\/([^/]+\/[^/]+)\/releases\/download\/([^/]+)\/([^/]+)$/)
    if (match) {
      const repository = repositories.get(match[1]!)
      // A private repository's files are not public, whatever the request carries.
      const release = repository?.private ? undefined : repository?.releases.find((r) => r.tag === match![2])
      const asset = release?.assets.find((a) => a.name === decodeURIComponent(match![3]!))
      if (asset === undefined) {
        res.writeHead(404)
        return res.end("Not Found")
      }
      res.writeHead(302, { location: `${base}/storage/${asset.id}?token=signed` })
      return res.end()
    }
    match = url.pathname.match(/^\/storage\/(\d+)$/)
    if (match) {
      const found = assets.get(Number(match[1]))
      if (found === undefined || url.searchParams.get("token") !== "signed") {
        res.writeHead(403)
        return res.end("Request has expired")
      }
      return serveContent(res, found.asset)
    }
    notFound(res)
  }

  const addAsset = (repository: string, release: Release, input: AssetInput) => {
    const asset: Asset = { ...input, id: nextId++, createdAt: tick() }
    assets.set(asset.id, { asset, repository, release })
    return asset
  }

  return {
    url: base,
    requests,
    quota,
    downloads,
    listing,
    /** Creates a repository (empty) or returns the existing one's release adder. */
    repository(name: string, settings: { readonly private?: boolean } = {}) {
      if (!repositories.has(name))
        repositories.set(name, { id: nextId++, private: settings.private ?? false, releases: [] })
      return this
    },
    /** Publishes a release; releases are listed newest first, so later calls come first. */
    release(name: string, input: ReleaseInput) {
      this.repository(name)
      const release: Release = { ...input, id: nextId++, assets: [] }
      release.assets = (input.assets ?? []).map((asset) => addAsset(name, release, asset))
      repositories.get(name)!.releases.push(release)
      return this
    },
    /** Deletes an asset and uploads another under the same name, as `gh release upload --clobber` does. */
    replaceAsset(name: string, tag: string, input: AssetInput) {
      const release = repositories.get(name)!.releases.find((r) => r.tag === tag)!
      release.assets = release.assets.map((a) => (a.name === input.name ? addAsset(name, release, input) : a))
      return this
    },
    /** From now on, answer release lists with a rate-limit refusal (or stop doing so). */
    refuse(next: { status: 403 | 429; retryAfter?: number } | undefined) {
      refusal = next
    },
    listRequests: () => requests.filter((r) => r.path.includes("/releases?") || r.path.endsWith("/releases")),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      })
  }
}

export type FakeGitHub = Awaited<ReturnType<typeof startFakeGitHub>>
