/**
 * The packages as npm publishes them: built, packed into tarballs, and checked by `publint` and
 * `@arethetypeswrong/cli`. Used by `npm run release:check` and by the consumer test.
 */
import { execFile } from "node:child_process"
import { fileURLToPath } from "node:url"
import { promisify } from "node:util"

const root = fileURLToPath(new URL("..", import.meta.url))

/** Runs a command to its end without blocking the event loop (the consumer test runs this too). */
export const run = async (command: string, args: ReadonlyArray<string>, cwd = root): Promise<string> =>
  (await promisify(execFile)(command, args, { cwd, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 })).stdout

export interface Tarball {
  readonly name: string
  /** Absolute path of the `.tgz`. */
  readonly path: string
  /** Every path inside the package, relative to its root. */
  readonly files: ReadonlyArray<string>
}

/** The packages published to npm; `@lunarbit/gateway-docker` is private: its product is the image. */
const published = ["packages/core", "packages/adapter-node", "packages/adapter-workers"]

/** Builds every package (`npm run build`) and packs each published one into `destination`. */
export const buildAndPack = async (destination: string): Promise<ReadonlyArray<Tarball>> => {
  await run("node", ["scripts/build.ts"])
  const output = await run("npm", [
    "pack",
    ...published.flatMap((dir) => ["--workspace", dir]),
    "--json",
    "--pack-destination",
    destination
  ])
  const packed = JSON.parse(output) as ReadonlyArray<{
    name: string
    filename: string
    files: ReadonlyArray<{ path: string }>
  }>
  return packed.map((entry) => ({
    name: entry.name,
    path: `${destination}/${entry.filename}`,
    files: entry.files.map((file) => file.path)
  }))
}

/**
 * Runs publint (warnings count as failures) and arethetypeswrong (ESM-only packages: the CommonJS
 * and `node10` resolutions are out of scope) on a tarball; throws with their report when either
 * finds a problem.
 */
export const checkTarball = async (tarball: Tarball): Promise<void> => {
  for (const [command, ...args] of [
    ["npx", "publint", "--level", "warning", "--strict", tarball.path],
    ["npx", "attw", "--profile", "esm-only", "--format", "ascii", tarball.path]
  ] as const) {
    try {
      await run(command, args)
    } catch (error) {
      const { stdout, stderr } = error as { stdout?: string; stderr?: string }
      throw new Error(`${args[0]} found problems in ${tarball.name}:\n${stdout ?? ""}${stderr ?? ""}`)
    }
  }
}
