import { execFile } from "node:child_process"
import { existsSync } from "node:fs"
import { promisify } from "node:util"
import type { Engine } from "./engine.ts"

const run = promisify(execFile)
const buildScript = new URL("../../local-images/build.sh", import.meta.url).pathname

/**
 * The local stand-ins for the registry images (see local-images/build.sh): the Dockerfile and
 * compose.yaml are used unchanged, only these names are passed in their place.
 */
export const localImages = {
  BASE_IMAGE: "localhost/node:24-slim",
  RUNTIME_IMAGE: "localhost/distroless-cc:12",
  REDIS_IMAGE: "localhost/redis",
  POSTGRES_IMAGE: "localhost/postgres",
  NGINX_IMAGE: "localhost/nginx"
} as const

/** A Debian server with Node 24 on PATH and systemd's tools, for deploy-debian.sh. */
export const debianServerImage = "localhost/debian-server"

/**
 * Builds local images into `engine`, once per run: `bases` (what the gateway's Dockerfile needs),
 * then `services` (what compose.yaml and the Debian test need), which may build beside the gateway.
 */
export const buildLocalImages = async (engine: Engine, which: "bases" | "services") => {
  await run("bash", [buildScript, which], {
    env: { ...process.env, ...engine.env, DOCKER: "/usr/bin/docker" },
    maxBuffer: 16 * 1024 * 1024
  }).catch((error: { stderr?: string; message: string }) => {
    throw new Error(`Building the local base images failed: ${error.stderr || error.message}`)
  })
}

/**
 * `docker build -t <tag> .` from the repository root, as the README says, with the base images
 * replaced by the local ones. Behind a TLS-inspecting proxy (NODE_EXTRA_CA_CERTS names its CA), the
 * CA is handed to the dependency install as a build secret, which no layer keeps.
 */
export const buildGatewayImage = async (engine: Engine, tag: string) => {
  const ca = process.env.NODE_EXTRA_CA_CERTS
  const secret = ca !== undefined && existsSync(ca) ? ["--secret", `id=npm_ca,src=${ca}`] : []
  await engine.docker(
    [
      "build",
      "--force-rm",
      "--quiet",
      "--build-arg",
      `BASE_IMAGE=${localImages.BASE_IMAGE}`,
      "--build-arg",
      `RUNTIME_IMAGE=${localImages.RUNTIME_IMAGE}`,
      ...secret,
      "-t",
      tag,
      "."
    ],
    { env: { DOCKER_BUILDKIT: "1" } }
  )
}
