import type { Socket } from "node:net"
import { Edge, ErrorEnvelope, Errors, RequestScope } from "@lunarbit/gateway-core"

/**
 * Answers requests Node's HTTP parser refuses before the gateway sees them (headers too large, a
 * malformed request line) in the error envelope with a request id and the security headers,
 * instead of Node's bare status line.
 */
export const handler = (docsUrl: string) => (error: Error & { readonly code?: string }, socket: Socket) => {
  if (error.code === "ECONNRESET" || !socket.writable) {
    socket.destroy()
    return
  }
  const tooLarge = error.code === "HPE_HEADER_OVERFLOW"
  const failure = tooLarge
    ? new Errors.HeadersTooLarge({ message: "The request headers are too large" })
    : new Errors.InvalidRequest({ message: "The request could not be parsed as HTTP" })
  const requestId = RequestScope.newRequestId()
  const body = JSON.stringify(ErrorEnvelope.body(failure, { requestId, docsUrl }))
  const headers = {
    "content-type": "application/json",
    "content-length": String(Buffer.byteLength(body)),
    connection: "close",
    ...Edge.securityHeaders,
    "x-request-id": requestId
  }
  const head = Object.entries(headers)
    .map(([name, value]) => `${name}: ${value}`)
    .join("\r\n")
  socket.end(
    `HTTP/1.1 ${failure.status} ${tooLarge ? "Request Header Fields Too Large" : "Bad Request"}\r\n${head}\r\n\r\n${body}`
  )
}
