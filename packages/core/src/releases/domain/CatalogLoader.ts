import { Effect, Schema, SchemaIssue } from "effect"
import { InvalidCatalog } from "../../errors/Errors.ts"
import { CatalogDocument } from "./Catalog.ts"
import * as CatalogIndex from "./CatalogIndex.ts"

const decode = Schema.decodeUnknownEffect(CatalogDocument, { errors: "all" })
const formatIssues = SchemaIssue.makeFormatterStandardSchemaV1()

/**
 * Checks and indexes a catalog document from any source. Every problem is reported at once, with
 * its path, so a bad file can be fixed in one go; a source keeps its last good catalog meanwhile.
 */
export const load = (input: unknown): Effect.Effect<CatalogIndex.CatalogIndex, InvalidCatalog> =>
  decode(input).pipe(
    Effect.mapError(
      (error) =>
        new InvalidCatalog({
          message: "The catalog is invalid",
          details: {
            problems: formatIssues(error.issue).issues.map(
              (issue) =>
                `${(issue.path ?? []).map((p) => String(typeof p === "object" ? p.key : p)).join(".") || "(root)"}: ${issue.message}`
            )
          }
        })
    ),
    Effect.flatMap((document) => {
      const problems = CatalogIndex.consistencyProblems(document)
      return problems.length === 0
        ? Effect.succeed(CatalogIndex.make(document))
        : Effect.fail(new InvalidCatalog({ message: "The catalog is inconsistent", details: { problems } }))
    })
  )

/** Parses JSON text, then loads it. */
export const loadText = (text: string): Effect.Effect<CatalogIndex.CatalogIndex, InvalidCatalog> =>
  Effect.try({
    try: () => JSON.parse(text) as unknown,
    catch: (error) =>
      new InvalidCatalog({
        message: "The catalog is not valid JSON",
        details: { problems: [String((error as Error).message)] }
      })
  }).pipe(Effect.flatMap(load))
