import { readFileSync } from "node:fs"
import { describe, expect, it } from "vitest"

/**
 * Each package README's "API" section has one table per entry point, naming in its first column
 * every value the entry point exports, and nothing it does not: the summary stays true as exports
 * come and go. (Type-only exports have no runtime name; the tables may mention them in prose.)
 */
const packages = {
  core: {
    "@lunarbit/gateway-core": () => import("@lunarbit/gateway-core"),
    "@lunarbit/gateway-core/testing": () => import("@lunarbit/gateway-core/testing"),
    "@lunarbit/gateway-core/client": () => import("@lunarbit/gateway-core/client")
  },
  "adapter-node": { "@lunarbit/gateway-node": () => import("@lunarbit/gateway-node") },
  "adapter-workers": { "@lunarbit/gateway-workers": () => import("@lunarbit/gateway-workers") }
} as const

/** The names in the first column of the table under `### \`entry\`` in the README's `## API` section. */
const documentedNames = (readme: string, entry: string): ReadonlyArray<string> => {
  const api = readme.split(/^## /m).find((section) => section.startsWith("API"))
  if (api === undefined) throw new Error("no ## API section")
  const table = api.split(/^### /m).find((section) => section.startsWith(`\`${entry}\``))
  if (table === undefined) throw new Error(`no ### \`${entry}\` table`)
  return table
    .split("\n")
    .filter((line) => /^\|\s*`/.test(line))
    .flatMap((line) => [...line.split("|")[1]!.matchAll(/`([A-Za-z_$][\w$]*)/g)].map((match) => match[1]!))
    .sort()
}

describe("package READMEs", () => {
  for (const [dir, entries] of Object.entries(packages)) {
    for (const [entry, load] of Object.entries(entries)) {
      it(`${dir}/README.md lists every export of ${entry}`, async () => {
        const readme = readFileSync(new URL(`../packages/${dir}/README.md`, import.meta.url), "utf8")
        const exported = Object.keys(await load()).sort()
        expect(documentedNames(readme, entry)).toEqual(exported)
      })
    }
  }
})
