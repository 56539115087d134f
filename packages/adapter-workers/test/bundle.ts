import { readFileSync } from "node:fs"
import { fileURLToPath } from "node:url"
import { build } from "esbuild"

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
