import { readFileSync } from "node:fs"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { build } from "esbuild"
import { Miniflare } from "miniflare"

/** This package's folder, where its wrangler.toml is. */
export const packageDir = fileURLToPath(new URL("..", import.meta.url))

/** A top-level string setting of `<dir>/wrangler.toml`, so tests run a Worker as it is deployed. */
export const wranglerSetting = (name: string, dir: string = packageDir): string => {
  const toml = readFileSync(`${dir}/wrangler.toml`, "utf8")
  const value = toml.match(new RegExp(`^${name}\\s*=\\s*"([^"]+)"`, "m"))?.[1]
  if (value === undefined) throw new Error(`${dir}/wrangler.toml has no ${name}`)
  return value
}

/**
 * Bundles the Worker named by `main` in `<dir>/wrangler.toml` the way wrangler does: one minified
 * ES module for workerd, with the workspace packages and `effect` inlined and the runtime's own
 * `cloudflare:*` modules left to workerd.
 */
export const bundleWorker = async (dir: string = packageDir): Promise<string> => {
  const result = await build({
    entryPoints: [`${dir}/${wranglerSetting("main", dir)}`],
    bundle: true,
    format: "esm",
    platform: "browser",
    // The workspace packages from their sources, as the rest of the tests use them.
    conditions: ["@lunarbit/source", "workerd", "worker", "browser"],
    external: ["cloudflare:*"],
    // As wrangler.toml asks; it also shortens the time workerd takes to load each Worker.
    minify: true,
    write: false,
    logLevel: "warning"
  })
  return result.outputFiles[0]!.text
}

/**
 * One Worker in workerd with the bindings wrangler.toml declares (the releases in KV, keys in D1,
 * limits in Durable Objects), its storage kept under `persistRoot`, and `bindings` as its variables.
 */
export const deployedWorker = (script: string, bindings: Record<string, unknown>, persistRoot: string) =>
  new Miniflare({
    modules: true,
    script,
    compatibilityDate: wranglerSetting("compatibility_date"),
    bindings: bindings as Record<string, string>,
    kvNamespaces: ["RELEASES"],
    d1Databases: ["DB"],
    durableObjects: { RATE_LIMITER: "RateLimiterObject" },
    kvPersist: join(persistRoot, "kv"),
    d1Persist: join(persistRoot, "d1"),
    durableObjectsPersist: join(persistRoot, "do")
  })
