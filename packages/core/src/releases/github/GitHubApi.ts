import { Octokit } from "@octokit/rest"
import { Clock, Effect, Redacted, Schema } from "effect"
import { ArtifactUnreachable, UpstreamNotFound, UpstreamRateLimited, UpstreamUnavailable } from "../../errors/Errors.ts"
import { propagationHeaders } from "../../observability/Tracing.ts"
import { VERSION } from "../../Version.ts"
import type { ArtifactRequest } from "../ports/ReleaseSource.ts"
import { type Asset, asHttpFailure, type HttpFailure, nextLink, Release, rateLimitedUntil } from "./GitHubWire.ts"

/**
 * The slice of GitHub's REST releases API the gateway uses, on `@octokit/rest` (fetch-based, so it
 * runs on Node and Workers alike): release lists read page by page with conditional requests, rate
 * limits respected, assets downloaded with or without a token.
 */
export type { Asset, Release } from "./GitHubWire.ts"

const decodePage = Schema.decodeUnknownEffect(Schema.Array(Release))

/** One page of a release list as GitHub last answered it, kept to make the next request conditional. */
export interface Page {
  readonly etag: string | undefined
  readonly releases: ReadonlyArray<Release>
  readonly next: string | undefined
}

/** The pages of one repository's release list, by the URL each was requested with. */
export type PageCache = ReadonlyMap<string, Page>

export interface ReleaseList {
  /** False when GitHub answered 304 for every page: nothing changed and no quota was spent. */
  readonly changed: boolean
  readonly releases: ReadonlyArray<Release>
  readonly pages: PageCache
}

export type ApiError = UpstreamNotFound | UpstreamRateLimited | UpstreamUnavailable

export interface Options {
  /** The REST API root: `https://api.github.com`, or `https://HOST/api/v3` for GitHub Enterprise Server. */
  readonly apiUrl: string
  /** Needed for private repositories; raises the rate limit from 60 to 5,000 requests an hour. */
  readonly token?: Redacted.Redacted<string> | undefined
  /** Releases per page, at most 100. */
  readonly perPage?: number | undefined
  readonly fetch?: typeof globalThis.fetch | undefined
}

// Guards against a `Link` header that loops; 100 pages of 100 is more releases than any project has.
const maxPages = 100
const quiet = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} }

/** A client for one API root and token; its rate-limit pause is shared by every repository it reads. */
export const make = (options: Options) => {
  const fetch = options.fetch ?? globalThis.fetch
  const token = options.token === undefined ? undefined : Redacted.value(options.token)
  const octokit = new Octokit({
    baseUrl: options.apiUrl.replace(/\/+$/, ""),
    userAgent: `lunarbit-gateway/${VERSION}`,
    log: quiet,
    request: { fetch },
    ...(token === undefined ? {} : { auth: token })
  })
  const apiOrigin = new URL(options.apiUrl).origin
  let pausedUntil = 0

  const rateLimited = (repository: string, until: number) =>
    new UpstreamRateLimited({
      message: `GitHub rate limit exceeded; no requests until ${new Date(until).toISOString()}`,
      details: { repository, reset_at: new Date(until).toISOString() }
    })

  const toApiError = (repository: string, failure: HttpFailure, now: number): ApiError => {
    const until = rateLimitedUntil(failure, now)
    if (until !== undefined) {
      pausedUntil = Math.max(pausedUntil, until)
      return rateLimited(repository, until)
    }
    if (failure.status === 404) {
      return new UpstreamNotFound({
        message: `Repository ${repository} was not found (a private repository needs a GITHUB_TOKEN that can read it)`,
        details: { repository }
      })
    }
    return new UpstreamUnavailable({
      message: `GitHub answered ${failure.status || "nothing"} for ${repository}: ${failure.message}`,
      details: { repository, status: failure.status }
    })
  }

  const getPage = (repository: string, url: string, cached: Page | undefined) =>
    Effect.gen(function* () {
      const now = yield* Clock.currentTimeMillis
      if (now < pausedUntil) return yield* rateLimited(repository, pausedUntil)
      // The request's own span is the parent GitHub's side of the trace hears of.
      const answer = yield* Effect.flatMap(propagationHeaders, (trace) =>
        Effect.tryPromise({
          try: (signal) =>
            octokit
              .request({
                method: "GET",
                url,
                headers: cached?.etag === undefined ? { ...trace } : { ...trace, "if-none-match": cached.etag },
                request: { signal }
              })
              .then(
                (response) => ({ status: response.status, headers: response.headers, data: response.data as unknown }),
                (error: unknown) => {
                  const failure = asHttpFailure(error)
                  if (failure.status === 304) return { status: 304, headers: failure.headers, data: undefined }
                  throw error
                }
              ),
          catch: (error) => toApiError(repository, asHttpFailure(error), now)
        })
      ).pipe(Effect.withSpan("github.request", { kind: "client", attributes: { "github.repository": repository } }))
      if (answer.headers["x-ratelimit-remaining"] === "0") {
        pausedUntil = Math.max(pausedUntil, Number(answer.headers["x-ratelimit-reset"]) * 1000 || 0)
      }
      if (answer.status === 304 && cached !== undefined) return { page: cached, changed: false }
      const releases = yield* Effect.mapError(
        decodePage(answer.data),
        () =>
          new UpstreamUnavailable({
            message: `GitHub answered an unexpected release list for ${repository}`,
            details: { repository }
          })
      )
      const next = nextLink(answer.headers.link)
      // The token goes wherever the next link points, so only links to the API itself are followed.
      if (next !== undefined && (!URL.canParse(next) || new URL(next).origin !== apiOrigin)) {
        return yield* new UpstreamUnavailable({
          message: `GitHub's next page link for ${repository} leaves ${apiOrigin}`,
          details: { repository, link: next }
        })
      }
      const page: Page = { etag: answer.headers.etag, releases, next }
      return { page, changed: true }
    })

  /** Every release of `repository` (drafts included, when the token may see them), all pages followed. */
  const listReleases = (repository: string, cache: PageCache): Effect.Effect<ReleaseList, ApiError> =>
    Effect.gen(function* () {
      const pages = new Map<string, Page>()
      let url: string | undefined = `/repos/${repository}/releases?per_page=${Math.min(options.perPage ?? 100, 100)}`
      let changed = false
      while (url !== undefined && !pages.has(url) && pages.size < maxPages) {
        const answer: { page: Page; changed: boolean } = yield* getPage(repository, url, cache.get(url))
        pages.set(url, answer.page)
        changed ||= answer.changed
        url = answer.page.next
      }
      // A page that disappeared (fewer releases) is a change even when every remaining page is a 304.
      changed ||= pages.size !== cache.size
      // A release published while the pages were read shifts the others: the same one may come twice.
      const byId = new Map<number, Release>()
      for (const page of pages.values()) for (const release of page.releases) byId.set(release.id, release)
      return { changed, releases: [...byId.values()], pages }
    })

  /**
   * How to download an asset: through the API with the token (which private repositories need),
   * else from its public download URL, which spends no API quota. The token is only ever sent to
   * the configured API origin.
   */
  const artifactRequest = (asset: Asset): ArtifactRequest =>
    token !== undefined && URL.canParse(asset.url) && new URL(asset.url).origin === apiOrigin
      ? {
          url: asset.url,
          headers: {
            accept: "application/octet-stream",
            authorization: `Bearer ${token}`,
            "user-agent": `lunarbit-gateway/${VERSION}`
          }
        }
      : { url: asset.browser_download_url, headers: { "user-agent": `lunarbit-gateway/${VERSION}` } }

  /** A small asset (a checksum file) as text; larger than `maxBytes` is refused. */
  const downloadText = (asset: Asset, maxBytes: number): Effect.Effect<string, ArtifactUnreachable> => {
    const request = artifactRequest(asset)
    const unreachable = (reason: string) =>
      new ArtifactUnreachable({ message: `${asset.name}: ${reason}`, details: { asset: asset.name } })
    return Effect.tryPromise({
      try: async (signal) => {
        const response = await fetch(request.url, { headers: request.headers, redirect: "follow", signal })
        if (!response.ok || response.body === null) {
          await response.body?.cancel()
          throw unreachable(`HTTP ${response.status}`)
        }
        const reader = response.body.getReader()
        const decoder = new TextDecoder()
        let text = ""
        let size = 0
        for (;;) {
          const { done, value } = await reader.read()
          if (done) return text + decoder.decode()
          size += value.byteLength
          if (size > maxBytes) {
            await reader.cancel()
            throw unreachable(`larger than ${maxBytes} bytes`)
          }
          text += decoder.decode(value, { stream: true })
        }
      },
      catch: (error) =>
        error instanceof ArtifactUnreachable
          ? error
          : unreachable(error instanceof Error ? error.message : String(error))
    })
  }

  return { listReleases, artifactRequest, downloadText }
}

export type GitHubClient = ReturnType<typeof make>
