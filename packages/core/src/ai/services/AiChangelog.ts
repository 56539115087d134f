import { Effect, Schema, SchemaIssue } from "effect"
import { AiInvalidOutput } from "../../errors/Errors.ts"
import type { RouteRequest } from "./ModelRouter.ts"

/** What the model must answer for a changelog. */
export const Analysis = Schema.Struct({
  analysis: Schema.NonEmptyString,
  breaking: Schema.Boolean,
  severity: Schema.Literals(["major", "minor", "patch"])
})
export type Analysis = typeof Analysis.Type

/** `Analysis` as a JSON Schema in the strict form OpenAI's structured outputs accept. */
export const jsonSchema = {
  type: "object",
  properties: {
    analysis: { type: "string", description: "One or two sentences for end users: what the update changes" },
    breaking: { type: "boolean", description: "Whether the update breaks something users rely on" },
    severity: { type: "string", enum: ["major", "minor", "patch"] }
  },
  required: ["analysis", "breaking", "severity"],
  additionalProperties: false
} as const

const instructions = [
  "You analyse software changelogs for the people who install the update.",
  "Summarise the update in one or two plain sentences in `analysis`.",
  "`breaking` is true when the update removes or changes something users rely on: removed features,",
  "dropped platform or runtime support, incompatible API, file format or configuration changes.",
  "`severity` follows Semantic Versioning: major for breaking changes, minor for new features,",
  "patch for fixes only. Judge from the changelog, not from the version number.",
  "Answer with the JSON object only."
].join(" ")

/** The routed request that asks for schema-constrained JSON about `changelog`. */
export const request = (version: string, changelog: string): RouteRequest => ({
  messages: [
    { role: "system", content: instructions },
    { role: "user", content: `Version: ${version}\n\nChangelog:\n${changelog}` }
  ],
  temperature: 0,
  maxTokens: 1000,
  jsonOutput: { name: "changelog_analysis", schema: jsonSchema }
})

// Models without a JSON mode sometimes wrap the object in prose or a code fence.
const objectText = (text: string): string => {
  const start = text.indexOf("{")
  const end = text.lastIndexOf("}")
  return start === -1 || end < start ? text : text.slice(start, end + 1)
}

const decode = Schema.decodeUnknownEffect(Schema.fromJsonString(Analysis))
const formatIssues = SchemaIssue.makeFormatterStandardSchemaV1()

/**
 * Validates the model's answer. A breaking change is a major update whatever the model rated it,
 * since SemVer says so.
 */
export const parse = (text: string): Effect.Effect<Analysis, AiInvalidOutput> =>
  decode(objectText(text)).pipe(
    Effect.map((analysis) => (analysis.breaking ? { ...analysis, severity: "major" as const } : analysis)),
    Effect.mapError(
      (error) =>
        new AiInvalidOutput({
          message: "The AI model's changelog analysis did not match the expected JSON shape",
          details: {
            issues: formatIssues(error.issue).issues.map((issue) => ({
              path: (issue.path ?? [])
                .map((segment) => String(typeof segment === "object" ? segment.key : segment))
                .join("."),
              message: issue.message
            }))
          }
        })
    )
  )
