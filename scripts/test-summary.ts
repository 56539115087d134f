/**
 * Prints the test run's closing line in the plain form every CI reader understands,
 * `Tests: N passed, N failed`, from the JSON report vitest writes beside its console output.
 */
import { readFileSync } from "node:fs"

const report = JSON.parse(readFileSync(new URL("../.vitest-report.json", import.meta.url), "utf8")) as {
  numPassedTests: number
  numFailedTests: number
  numPendingTests: number
}
console.log(
  `Tests: ${report.numPassedTests} passed, ${report.numFailedTests} failed, ${report.numPendingTests} skipped`
)
