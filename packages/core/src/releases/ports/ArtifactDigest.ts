import { Context, Effect } from "effect"
import { ArtifactUnreachable } from "../../errors/Errors.ts"

/** The digests of one artifact, lowercase hex, and how many bytes were read. */
export interface Digests {
  readonly sha256: string
  /** `undefined` on runtimes without MD5; an expected MD5 is then not compared. */
  readonly md5: string | undefined
  readonly bytes: number
}

/**
 * Hashes an artifact while it streams past. Web Crypto has neither incremental digests nor MD5, so
 * each runtime supplies its own (`node:crypto` on Node; `crypto.DigestStream` would do on Workers).
 */
export interface ArtifactDigestShape {
  /** Reads `stream` to its end; chunks are hashed and dropped, so the artifact is never held whole. */
  readonly digest: (stream: ReadableStream<Uint8Array>) => Effect.Effect<Digests, ArtifactUnreachable>
}

export class ArtifactDigest extends Context.Service<ArtifactDigest, ArtifactDigestShape>()(
  "@lunarbit/gateway-core/ArtifactDigest"
) {}

/** The minimal surface a runtime provides: hashers fed chunk by chunk. */
export interface IncrementalHashers {
  readonly update: (chunk: Uint8Array) => void
  readonly finish: () => { readonly sha256: string; readonly md5: string | undefined }
}

/**
 * Builds the port from a factory of incremental hashers: reading the stream, counting bytes and
 * cancelling the download when the fiber is interrupted are done here, once for every runtime.
 */
export const make = (hashers: () => IncrementalHashers): ArtifactDigestShape => ({
  digest: (stream) =>
    Effect.tryPromise({
      try: async (signal) => {
        const reader = stream.getReader()
        const cancel = () => void reader.cancel().catch(() => {})
        signal.addEventListener("abort", cancel, { once: true })
        try {
          const state = hashers()
          let bytes = 0
          for (;;) {
            const { done, value } = await reader.read()
            if (done) break
            bytes += value.byteLength
            state.update(value)
          }
          return { ...state.finish(), bytes }
        } finally {
          signal.removeEventListener("abort", cancel)
          reader.releaseLock()
        }
      },
      catch: (error) =>
        new ArtifactUnreachable({
          message: `The artifact stream failed: ${error instanceof Error ? error.message : String(error)}`
        })
    })
})
