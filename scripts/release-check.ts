/**
 * `npm run release:check`: builds and packs every package into a temporary folder and runs publint
 * and arethetypeswrong on each tarball, as a release would publish them.
 */
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { buildAndPack, checkTarball } from "./tarballs.ts"

const destination = mkdtempSync(join(tmpdir(), "lunarbit-release-"))
try {
  for (const tarball of await buildAndPack(destination)) {
    await checkTarball(tarball)
    console.log(`${tarball.name}: publint and arethetypeswrong found no problems (${tarball.files.length} files)`)
  }
} finally {
  rmSync(destination, { recursive: true, force: true })
}
