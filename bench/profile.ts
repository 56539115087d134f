/**
 * Reads a V8 CPU profile (`node --cpu-prof`) and sums self time per component: a package under
 * node_modules, a folder of the gateway's core, a Node built-in module, or V8's own (GC, program).
 */
import { readdirSync, readFileSync } from "node:fs"
import { join } from "node:path"

interface ProfileNode {
  readonly id: number
  readonly callFrame: { readonly functionName: string; readonly url: string }
}
interface CpuProfile {
  readonly endTime: number
  readonly startTime: number
  readonly nodes: ReadonlyArray<ProfileNode>
  readonly samples: ReadonlyArray<number>
  readonly timeDeltas: ReadonlyArray<number>
}

const componentOf = ({ functionName, url }: ProfileNode["callFrame"]): string => {
  if (url === "") return functionName
  const modules = url.lastIndexOf("node_modules/")
  if (modules !== -1) {
    const [scope, name] = url.slice(modules + "node_modules/".length).split("/")
    const pkg = scope!.startsWith("@") ? `${scope}/${name}` : scope!
    // Effect is one package but many parts: name the part (http, Schema, the fiber runtime...).
    if (pkg === "effect") return `effect/${url.slice(url.indexOf("/dist/") + 6).replace(/\.js$/, "")}`
    return pkg
  }
  const core = /packages\/([^/]+)\/src\/(.+?)(\.ts)?$/.exec(url)
  if (core) return `${core[1]}/${core[2]!.split("/").slice(0, 2).join("/")}`
  if (url.startsWith("node:")) return url
  return url.split("/").at(-1)!
}

/**
 * The top components of the newest profile in `dir`, by self time, over its last `windowSeconds`
 * (the load, not the start-up's module loading).
 */
export const topComponents = (dir: string, windowSeconds: number, count = 20) => {
  const file = readdirSync(dir)
    .filter((name) => name.endsWith(".cpuprofile"))
    .sort()
    .at(-1)
  if (file === undefined) throw new Error(`no .cpuprofile in ${dir}`)
  const profile = JSON.parse(readFileSync(join(dir, file), "utf8")) as CpuProfile
  const byId = new Map(profile.nodes.map((node) => [node.id, node]))
  const micros = new Map<string, number>()
  let total = 0
  let at = profile.startTime
  const from = profile.endTime - windowSeconds * 1_000_000
  profile.samples.forEach((id, i) => {
    at += profile.timeDeltas[i] ?? 0
    const node = byId.get(id)!
    if (at < from || node.callFrame.functionName === "(idle)") return
    const component = componentOf(node.callFrame)
    const delta = profile.timeDeltas[i] ?? 0
    micros.set(component, (micros.get(component) ?? 0) + delta)
    total += delta
  })
  return {
    file: join(dir, file),
    rows: [...micros]
      .sort((a, b) => b[1] - a[1])
      .slice(0, count)
      .map(([component, us]) => ({ component, percent: (100 * us) / total }))
  }
}
