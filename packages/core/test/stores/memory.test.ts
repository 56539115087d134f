import * as KeyStore from "../../src/access/ports/KeyStore.ts"
import * as RateLimitStore from "../../src/access/ports/RateLimitStore.ts"
import * as RolloutStore from "../../src/releases/ports/RolloutStore.ts"
import { keyStoreSuite, rateLimitStoreSuite, rolloutStoreSuite } from "../../src/testing/index.ts"

// The in-memory stores are the reference behaviour; each runs the suite every adapter runs.
keyStoreSuite("memory", KeyStore.layerMemory())
rateLimitStoreSuite("memory", RateLimitStore.layerMemory)
rolloutStoreSuite("memory", RolloutStore.layerMemory)
