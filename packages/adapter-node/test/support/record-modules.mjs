// Loaded with `--import`: records every module the process resolves and, when it exits, writes
// their URLs, one a line, to the file named by RECORD_MODULES_TO.
import { writeFileSync } from "node:fs"
import { registerHooks } from "node:module"

const resolved = new Set()
registerHooks({
  resolve: (specifier, context, nextResolve) => {
    const result = nextResolve(specifier, context)
    resolved.add(result.url)
    return result
  }
})
process.on("exit", () => writeFileSync(process.env.RECORD_MODULES_TO, [...resolved].join("\n")))
