/**
 * The image's `HEALTHCHECK`: exits 0 when the gateway in this container answers its readiness probe,
 * 1 otherwise. The image has no shell or curl, so Node asks; the probe is on loopback, at the `PORT`
 * the gateway listens on.
 */
const port = process.env.PORT ?? "3000"
const ready = await fetch(`http://127.0.0.1:${port}/health/ready`, { signal: AbortSignal.timeout(2_000) }).then(
  (response) => response.ok,
  () => false
)
process.exit(ready ? 0 : 1)
