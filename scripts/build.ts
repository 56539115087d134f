/**
 * `npm run build`: each package's ES modules, declarations and declaration maps in its `dist/`,
 * emitted by TypeScript itself (`rewriteRelativeImportExtensions` turns the sources' `.ts` imports
 * into `.js`), so what is published is what the compiler checked, with no bundler in between.
 * The core is built first: the adapters are compiled against its declarations, as a consumer is.
 */
import { execFileSync } from "node:child_process"
import { copyFileSync, rmSync } from "node:fs"
import { fileURLToPath } from "node:url"

const root = fileURLToPath(new URL("..", import.meta.url))

/** In dependency order. */
export const packages = ["core", "adapter-node", "adapter-workers"] as const

for (const name of packages) {
  const dir = `${root}packages/${name}`
  rmSync(`${dir}/dist`, { recursive: true, force: true })
  execFileSync("npx", ["tsc", "-p", `${dir}/tsconfig.build.json`], { cwd: root, stdio: "inherit" })
}

// `lunarbit-gateway` and `embed()` serve the example catalog when no CATALOG_FILE is given.
copyFileSync(`${root}examples/catalog.json`, `${root}packages/adapter-node/dist/example-catalog.json`)
