import { setFlagsFromString } from "node:v8"
import { runInNewContext } from "node:vm"

type Collect = (options: { readonly type: "major"; readonly execution: "sync"; readonly flavor: "last-resort" }) => void

/**
 * One full, compacting collection once the gateway serves, which returns the memory start-up used
 * and no longer needs. Loading the modules and building the layers allocates fast enough that V8
 * grows its young generation to the size `--max-semi-space-size` allows, and keeps it: an idle
 * gateway held about 8 MiB of young generation with under 1 MiB in use (measured: 110 -> 101 MiB
 * RSS at start). A "last resort" collection is the one that shrinks it; under load it grows again
 * as it needs to. It takes tens of milliseconds, once.
 *
 * The collector is reached as Node's `--expose-gc` would expose it, in a context of its own, and
 * the flag is switched off again, so no other code sees a `gc` it did not ask for.
 */
export const compactHeap = (): void => {
  let collect = (globalThis as { gc?: Collect }).gc
  if (collect === undefined) {
    setFlagsFromString("--expose-gc")
    collect = runInNewContext("gc") as Collect
    setFlagsFromString("--no-expose-gc")
  }
  collect({ type: "major", execution: "sync", flavor: "last-resort" })
}
