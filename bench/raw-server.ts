/**
 * The baseline: a bare `node:http` server answering the update check's body as a fixed string, the
 * most a Node process can serve on this machine. Every figure is reported as a ratio to it.
 */
import { createServer } from "node:http"

const body = JSON.stringify({
  update_available: true,
  current_version: "1.1.0",
  latest_version: "1.2.5",
  breaking_changes: true,
  release_notes: "## Changes\n- Fixed dashboard loading issue\n- Improved query performance",
  download_url: "https://cdn.lunarbit.dev/trackly/1.2.5/trackly-1.2.5-win-x64.exe",
  file_size: 125829120,
  checksum: { sha256: "0".repeat(64), md5: "0".repeat(32) },
  published_at: "2026-02-05T14:30:00Z"
})

const server = createServer((_request, response) => {
  response.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(body) })
  response.end(body)
})
server.listen(Number(process.env.PORT ?? 0), "127.0.0.1", () => {
  const address = server.address()
  console.log(`Listening on http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`)
})
process.on("SIGTERM", () => server.close(() => process.exit(0)))
