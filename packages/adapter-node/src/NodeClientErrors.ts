import type { Socket } from "node:net"
import { Edge, ErrorEnvelope, Errors, type GatewayError, RequestScope } from "@lunarbit/gateway-core"

type GatewayErrorShape = GatewayError.GatewayErrorShape

// Each refusal of Node's parser or timers, as an envelope error and the status line's reason.
const answers: Record<string, { readonly error: () => GatewayErrorShape; readonly reason: string }> = {
  HPE_HEADER_OVERFLOW: {
    error: () => new Errors.HeadersTooLarge({ message: "The request headers are too large" }),
    reason: "Request Header Fields Too Large"
  },
  ERR_HTTP_REQUEST_TIMEOUT: {
    error: () => new Errors.RequestTimeout({ message: "The request was not received in time" }),
    reason: "Request Timeout"
  },
  default: {
    error: () => new Errors.InvalidRequest({ message: "The request could not be parsed as HTTP" }),
    reason: "Bad Request"
  }
}

/**
 * Answers requests Node refuses before the gateway sees them (headers too large, a malformed request
 * line, a request not received within `REQUEST_TIMEOUT`) in the error envelope with a request id
 * and the security headers, instead of Node's bare status line.
 */
export const handler = (docsUrl: string) => (error: Error & { readonly code?: string }, socket: Socket) => {
  if (error.code === "ECONNRESET" || !socket.writable) {
    socket.destroy()
    return
  }
  const answer = answers[error.code ?? ""] ?? answers.default!
  const failure = answer.error()
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
  socket.end(`HTTP/1.1 ${failure.status} ${answer.reason}\r\n${head}\r\n\r\n${body}`)
}
