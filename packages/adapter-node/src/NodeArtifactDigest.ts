import { createHash } from "node:crypto"
import { ArtifactDigest } from "@lunarbit/gateway-core"
import { Layer } from "effect"

/** SHA-256 and MD5 on `node:crypto`, updated chunk by chunk as the artifact streams in. */
export const make = (): ArtifactDigest.ArtifactDigestShape =>
  ArtifactDigest.make(() => {
    const sha256 = createHash("sha256")
    const md5 = createHash("md5")
    return {
      update: (chunk) => {
        sha256.update(chunk)
        md5.update(chunk)
      },
      finish: () => ({ sha256: sha256.digest("hex"), md5: md5.digest("hex") })
    }
  })

export const layer: Layer.Layer<ArtifactDigest.ArtifactDigest> = Layer.sync(ArtifactDigest.ArtifactDigest, make)
