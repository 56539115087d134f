import { request } from "node:http"

export const adminKey = "test-admin-key-0123456789abcdef0123"
export const admin = { authorization: `Bearer ${adminKey}`, "content-type": "application/json" }

/** `http://127.0.0.1:<port>` from `docker port` / `docker-compose port` output such as `127.0.0.1:49153`. */
export const baseUrl = (portOutput: string) => `http://127.0.0.1:${portOutput.trim().split(":").at(-1)}`

export const waitFor = async (what: string, predicate: () => Promise<boolean>, timeoutMs: number) => {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (await predicate()) return
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  throw new Error(`${what}: not within ${timeoutMs} ms`)
}

/** True when `url` answers 200 within a second. */
export const answersOk = (url: string) =>
  fetch(url, { signal: AbortSignal.timeout(1_000) }).then(
    (response) => response.ok,
    () => false
  )

export const createKey = async (base: string, body: Record<string, unknown>) => {
  const response = await fetch(`${base}/admin/keys`, { method: "POST", headers: admin, body: JSON.stringify(body) })
  if (response.status !== 201) throw new Error(`creating a key: ${response.status} ${await response.text()}`)
  return ((await response.json()) as { key: string }).key
}

export const statusOf = (url: string, key: string) =>
  fetch(url, { headers: { authorization: `Bearer ${key}` } }).then((response) => response.status)

/**
 * A launcher update check whose body is sent in two halves: the first now, the second when `between`
 * has run and 300 ms more have passed, so the request is in flight during `between` (a stop signal).
 */
export const splitUpdateCheck = (base: string, between: () => void) => {
  const url = new URL(base)
  const body = JSON.stringify({
    client: { launcher_version: "2.0.0", os: "linux", architecture: "x64" },
    installed: []
  })
  return new Promise<{ status: number; text: string }>((resolve, reject) => {
    const req = request(
      {
        host: url.hostname,
        port: url.port,
        path: "/update/check",
        method: "POST",
        headers: { ...admin, "content-length": body.length }
      },
      (res) => {
        let text = ""
        res.on("data", (chunk) => (text += chunk))
        res.on("end", () => resolve({ status: res.statusCode ?? 0, text }))
      }
    )
    req.on("error", reject)
    req.write(body.slice(0, 10))
    setTimeout(() => {
      between()
      setTimeout(() => req.end(body.slice(10)), 300)
    }, 200)
  })
}
