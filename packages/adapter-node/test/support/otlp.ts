import { createServer } from "node:http"
import type { AddressInfo } from "node:net"

/** One span as OTLP/HTTP JSON carries it, its attributes flattened to plain values. */
export interface ReceivedSpan {
  readonly traceId: string
  readonly spanId: string
  readonly parentSpanId: string | undefined
  readonly name: string
  readonly kind: number
  readonly attributes: Record<string, unknown>
  readonly status: { readonly code?: number; readonly message?: string } | undefined
  readonly serviceName: unknown
}

interface AnyValue {
  readonly stringValue?: string
  readonly boolValue?: boolean
  readonly intValue?: string | number
  readonly doubleValue?: number
}

const plain = (value: AnyValue) =>
  value.stringValue ?? value.boolValue ?? (value.intValue === undefined ? value.doubleValue : Number(value.intValue))

const attributesOf = (list: ReadonlyArray<{ key: string; value: AnyValue }> = []) =>
  Object.fromEntries(list.map(({ key, value }) => [key, plain(value)]))

/**
 * A local OTLP/HTTP receiver, as a collector would be: it accepts `POST /v1/traces` in the JSON
 * encoding, decodes each export request into spans, and keeps every raw body for secret scans.
 */
export const startOtlpReceiver = async () => {
  const spans: Array<ReceivedSpan> = []
  const bodies: Array<string> = []
  const server = createServer(async (request, response) => {
    const chunks: Array<Buffer> = []
    for await (const chunk of request) chunks.push(chunk as Buffer)
    const text = Buffer.concat(chunks).toString("utf8")
    if (request.method !== "POST" || request.url !== "/v1/traces") {
      response.writeHead(404).end()
      return
    }
    bodies.push(text)
    const body = JSON.parse(text) as {
      resourceSpans: Array<{
        resource: { attributes: Array<{ key: string; value: AnyValue }> }
        scopeSpans: Array<{ spans: Array<any> }>
      }>
    }
    for (const resourceSpans of body.resourceSpans) {
      const serviceName = attributesOf(resourceSpans.resource.attributes)["service.name"]
      for (const scope of resourceSpans.scopeSpans) {
        for (const span of scope.spans) {
          spans.push({
            traceId: span.traceId,
            spanId: span.spanId,
            parentSpanId: span.parentSpanId || undefined,
            name: span.name,
            kind: span.kind,
            attributes: attributesOf(span.attributes),
            status: span.status,
            serviceName
          })
        }
      }
    }
    response.writeHead(200, { "content-type": "application/json" }).end("{}")
  })
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    spans,
    bodies,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      })
  }
}
