import { defaultServerConditions } from "vite"
import { defineConfig } from "vitest/config"

export default defineConfig({
  // The workspace packages are tested from their TypeScript sources, not their built `dist/`.
  ssr: { resolve: { conditions: ["@lunarbit/source", ...defaultServerConditions] } },
  test: {
    include: ["packages/*/test/**/*.test.ts", "examples/**/*.test.ts", "test/**/*.test.ts"],
    exclude: ["**/node_modules/**", "**/dist/**"],
    // The JSON report feeds the plain closing line `npm test` prints (scripts/test-summary.ts).
    reporters: ["default", ["json", { outputFile: ".vitest-report.json" }]],
    testTimeout: 30_000,
    hookTimeout: 60_000
  }
})
