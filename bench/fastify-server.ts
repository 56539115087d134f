/**
 * The peer: what a Node developer would write instead of the gateway, on Fastify. The same update
 * check, `/health` and `/projects/{id}` over the same catalog file: the bearer key HMAC-hashed and
 * looked up in a Map, an in-memory GCRA limit per key, the spec's security, rate-limit and request
 * id headers, and a pino access-log line per request. The gateway must be at least as fast.
 */
import { createHmac, randomUUID } from "node:crypto"
import { readFileSync } from "node:fs"
import Fastify from "fastify"
import pino from "pino"

interface Build {
  platform: string
  architecture: string
  download_url: string
  file_size: number
  checksum?: Record<string, string>
}
interface Version {
  id: string
  release_notes?: string
  breaking_changes?: boolean
  published_at: string
  builds: Array<Build>
}
interface Project {
  id: string
  name: string
  description?: string
  created_at: string
  updated_at: string
  channels: Array<{ id: string; name: string; versions: Array<Version> }>
}

const catalogFile = process.env.CATALOG_FILE ?? new URL("../examples/catalog.json", import.meta.url).pathname
const projects = new Map<string, Project>(
  (JSON.parse(readFileSync(catalogFile, "utf8")).projects as Array<Project>).map((p) => [p.id, p])
)
const secret = "bench-hash-secret"
const hash = (key: string) => createHmac("sha256", secret).update(key).digest("hex")
const keys = new Map<string, { name: string; limit: number }>([
  [hash(process.env.PEER_KEY ?? "bench-peer-key"), { name: "bench", limit: 10_000_000 }]
])
const windowMs = 900_000
const tats = new Map<string, number>()

const parse = (version: string) => version.split(/[.+-]/).slice(0, 3).map(Number)
const newer = (a: string, b: string) => {
  const [x, y] = [parse(a), parse(b)]
  for (let i = 0; i < 3; i++) if (x[i] !== y[i]) return x[i]! > y[i]!
  return false
}

const logger = pino({ base: null }, pino.destination({ fd: 1, sync: false, minLength: 4096 }))
const app = Fastify({ logger: false })
const security = {
  "x-content-type-options": "nosniff",
  "x-frame-options": "DENY",
  "x-xss-protection": "1; mode=block",
  "strict-transport-security": "max-age=31536000; includeSubDomains",
  "content-security-policy": "default-src 'self'"
}

app.addHook("onRequest", async (request, reply) => {
  ;(request as any).started = performance.now()
  reply.headers({ ...security, "x-request-id": `req_${randomUUID().replaceAll("-", "").slice(0, 20)}` })
  if (request.url === "/health") return
  const key = keys.get(hash((request.headers.authorization ?? "").replace(/^Bearer /, "")))
  if (key === undefined) return reply.code(401).send({ error: { code: "UNAUTHORIZED" } })
  const now = Date.now()
  const interval = windowMs / key.limit
  const tat = Math.max(tats.get(key.name) ?? now, now) + interval
  if (tat - now > windowMs) return reply.code(429).send({ error: { code: "RATE_LIMIT_EXCEEDED" } })
  tats.set(key.name, tat)
  const remaining = Math.floor((now + windowMs - tat) / interval)
  reply.headers({
    "x-ratelimit-limit": String(key.limit),
    "x-ratelimit-remaining": String(remaining),
    "x-ratelimit-reset": String(Math.ceil(tat / 1000))
  })
})
app.addHook("onResponse", async (request, reply) => {
  logger.info(
    {
      request_id: reply.getHeader("x-request-id"),
      method: request.method,
      path: request.url.split("?")[0],
      status: reply.statusCode,
      duration_ms: performance.now() - (request as any).started
    },
    "request"
  )
})

app.get("/health", async () => ({ status: "healthy", timestamp: new Date().toISOString(), version: "2.0.0" }))
app.get<{ Params: { id: string } }>("/projects/:id", async (request, reply) => {
  const project = projects.get(request.params.id)
  if (project === undefined) return reply.code(404).send({ error: { code: "PROJECT_NOT_FOUND" } })
  return {
    id: project.id,
    name: project.name,
    description: project.description ?? "",
    channels: project.channels.map((c) => ({ id: c.id, name: c.name })),
    created_at: project.created_at,
    updated_at: project.updated_at
  }
})
app.get<{
  Params: { id: string; channel: string }
  Querystring: { current_version: string; platform: string; architecture: string }
}>("/projects/:id/channels/:channel/update", async (request, reply) => {
  const { current_version, platform, architecture } = request.query
  const channel = projects.get(request.params.id)?.channels.find((c) => c.id === request.params.channel)
  if (channel === undefined) return reply.code(404).send({ error: { code: "CHANNEL_NOT_FOUND" } })
  const latest = channel.versions.reduce((a, b) => (newer(b.id, a.id) ? b : a))
  const build = latest.builds.find((b) => b.platform === platform && b.architecture === architecture)
  if (build === undefined || !newer(latest.id, current_version)) {
    return { update_available: false, current_version, latest_version: latest.id }
  }
  reply.header("cache-control", "private, no-cache")
  return {
    update_available: true,
    current_version,
    latest_version: latest.id,
    breaking_changes: latest.breaking_changes ?? false,
    release_notes: latest.release_notes ?? "",
    download_url: build.download_url,
    file_size: build.file_size,
    checksum: build.checksum ?? {},
    published_at: latest.published_at
  }
})

const address = await app.listen({ port: Number(process.env.PORT ?? 0), host: "127.0.0.1" })
console.log(`Listening on ${address}`)
process.on("SIGTERM", () => void app.close().then(() => process.exit(0)))
