/**
 * The image's build step: the server (`@lunarbit/gateway-node`'s `main.ts`) and the health check,
 * each bundled with every dependency into one ES module in `dist/`, with `dist/chunks/` holding
 * what they import only when a configuration needs it.
 *
 * Why a bundle in the image, when the npm packages ship unbundled modules: a start spends most of
 * its time finding, reading and linking modules, not running them. The server loads about 2,200
 * files (Effect alone is over a thousand); from one file Node reaches /health/ready about three
 * times sooner (measured: 2.0–3.1 s from sources or `dist/`, 0.8–1.1 s bundled, on a busy 2-core
 * machine). The image then needs no `node_modules` at all.
 *
 *   node packages/adapter-docker/bundle.ts [outdir]   (after `npm ci`; outdir: packages/adapter-docker/dist)
 */
import { rmSync } from "node:fs"
import { join } from "node:path"
import { build } from "esbuild"

const root = new URL("../../", import.meta.url).pathname
const outdir = process.argv[2] ?? "packages/adapter-docker/dist"
// Chunks are named by their content: those of an earlier build would pile up.
rmSync(join(root, outdir, "chunks"), { recursive: true, force: true })

await build({
  absWorkingDir: root,
  entryPoints: {
    main: "packages/adapter-node/src/main.ts",
    healthcheck: "packages/adapter-docker/src/healthcheck.ts"
  },
  outdir,
  outExtension: { ".js": ".mjs" },
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node22",
  // The workspace packages resolve to their TypeScript sources, as in development.
  conditions: ["@lunarbit/source"],
  // Dependencies written as CommonJS (pg, ioredis, pino) call `require` for Node's modules; an ES
  // module has none of its own, so the bundle makes one.
  banner: {
    js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);"
  },
  // No `keepNames`: it wraps every function and class in a call that redefines its `name`, each
  // time one is created, closures made per request included (measured: 8 % of the CPU of a streamed
  // AI request). Names are not minified; the few that bundling renames to avoid a collision (classes
  // inside the AI SDKs, an Effect internal) are read by nothing: errors carry explicit tags and the
  // gateway's spans explicit names.
  keepNames: false,
  legalComments: "none",
  // V8 holds the bundle's source for as long as the process runs (functions compile lazily from
  // it). One character outside Latin-1 anywhere, even in a comment esbuild keeps, makes the whole
  // source a two-byte string: 10.7 MB of text became 21 MB of memory. ASCII output without comments
  // or indentation keeps it one-byte and 8.4 MB (measured: 161 -> 139 MiB RSS at start).
  charset: "ascii",
  minifyWhitespace: true,
  // What the code imports dynamically becomes a chunk of its own, loaded on first use rather than
  // held from start: the AI SDKs and undici's pool (without AI providers, never), the PostgreSQL and
  // Redis clients, the docs page's 3 MB script. The modules every start needs stay in `main.mjs` and
  // a few shared chunks (measured, with the collection after start: 106-112 -> 86-94 MiB RSS).
  splitting: true,
  chunkNames: "chunks/[name]-[hash]",
  logLevel: "warning"
})
