import { createHash } from "node:crypto"
import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import * as NodeArtifactDigest from "../src/NodeArtifactDigest.ts"

const digest = NodeArtifactDigest.make().digest

const streamOf = (chunks: ReadonlyArray<Uint8Array>) =>
  new ReadableStream<Uint8Array>({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(chunk)
      controller.close()
    }
  })

describe("NodeArtifactDigest", () => {
  it("computes SHA-256 and MD5 across chunk boundaries", async () => {
    const text = "The quick brown fox jumps over the lazy dog"
    const bytes = new TextEncoder().encode(text)
    const result = await Effect.runPromise(
      digest(streamOf([bytes.subarray(0, 7), bytes.subarray(7, 8), bytes.subarray(8)]))
    )
    expect(result).toEqual({
      sha256: "d7a8fbb307d7809469ca9abcb0082e4f8d5651e46d3cdb762d02d0bf37c9e592",
      md5: "9e107d9d372bb6826bd81d3542a419d6",
      bytes: bytes.byteLength
    })
  })

  it("hashes a stream far larger than what it keeps in memory", async () => {
    const chunkSize = 1024 * 1024
    const chunks = 256
    const expected = createHash("sha256")
    let produced = 0
    let peak = 0
    const baseline = process.memoryUsage().arrayBuffers
    // Each chunk is made when asked for: the artifact never exists whole unless the digest keeps it.
    const stream = new ReadableStream<Uint8Array>(
      {
        pull(controller) {
          if (produced === chunks) return controller.close()
          const chunk = new Uint8Array(chunkSize).fill(produced % 251)
          expected.update(chunk)
          produced++
          peak = Math.max(peak, process.memoryUsage().arrayBuffers - baseline)
          controller.enqueue(chunk)
        }
      },
      { highWaterMark: 1 }
    )
    const result = await Effect.runPromise(digest(stream))
    expect(result.bytes).toBe(chunks * chunkSize)
    expect(result.sha256).toBe(expected.digest("hex"))
    // 256 MiB went through; far less was ever held (GC runs lazily, hence the margin).
    expect(peak).toBeLessThan(128 * chunkSize)
  })

  it("fails as unreachable when the stream breaks", async () => {
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        controller.error(new Error("connection reset"))
      }
    })
    const error = await Effect.runPromise(Effect.flip(digest(stream)))
    expect(error).toMatchObject({ _tag: "ArtifactUnreachable", code: "ARTIFACT_UNREACHABLE" })
    expect(error.message).toMatch(/connection reset/)
  })
})
