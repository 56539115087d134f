import { VERSION } from "@lunarbit/gateway-core"

/** What `lunarbit-gateway --help` prints: the command takes no arguments, only the environment. */
export const helpText = `lunarbit-gateway ${VERSION}: LunarBit Gateway, release and update metadata, AI proxy and API keys

Usage: lunarbit-gateway [--help | --version]

Serves the API over HTTP. Every setting comes from the environment; the most used:
  PORT            listening port (default 3000; 0 picks a free one)
  HOST            listening address (default: all interfaces)
  CATALOG_FILE    the release catalog, JSON (default: the example catalog shipped with the package)
  API_KEY_ADMIN   the key holding every permission (required when NODE_ENV=production)
  DATABASE_PATH   SQLite file for keys, usage and download counts (default .lunarbit/gateway.db)
  DATABASE_URL    PostgreSQL for keys, usage and audit, shared by instances
  REDIS_URL       Redis for rate limits, shared by instances
  LOG_LEVEL       trace, debug, info (default), warn, error or fatal
  LOG_FORMAT      json (default) or pretty

Every variable: https://github.com/LunarBit-dev/api#configuration
`

/** Answers `--help` and `--version`; `true` when the command has nothing more to do. */
export const answered = (argv: ReadonlyArray<string>, write: (text: string) => void): boolean => {
  if (argv.includes("--help") || argv.includes("-h")) {
    write(helpText)
    return true
  }
  if (argv.includes("--version") || argv.includes("-v")) {
    write(`${VERSION}\n`)
    return true
  }
  return false
}
