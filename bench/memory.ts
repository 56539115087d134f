/**
 * `node --conditions=@lunarbit/source bench/memory.ts`: the memory part of `npm run bench` alone.
 * The gateway as the image and the service unit run it, its resident set size (RSS) once it answers, then after
 * 60,000 requests mixing valid, invalid and unauthenticated calls (issue #14: under 100 MiB at
 * start, under 150 MiB after the mix), and its peak (VmHWM). `GATEWAY_NODE_OPTIONS` adds Node
 * flags to the gateway's own, to compare them.
 */
import { mixedRequests, startGateway } from "./gateway.ts"
import { peakMiB, rssMiB } from "./support.ts"

const { gateway, auth } = await startGateway({}, (process.env.GATEWAY_NODE_OPTIONS ?? "").split(" ").filter(Boolean))
const atStart = rssMiB(gateway.pid)
await mixedRequests(gateway, auth)
console.log(
  `Gateway RSS: ${atStart} MiB at start, ${rssMiB(gateway.pid)} MiB after 60,000 mixed requests (peak ${peakMiB(gateway.pid)} MiB)`
)
await gateway.stop()
