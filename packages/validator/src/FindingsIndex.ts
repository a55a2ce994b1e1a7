/**
 * A compact on-disk index of a scan's findings, written once (in the same single pass that computes the
 * verdict) so that any page of a 100 000-finding scan is served in milliseconds without re-parsing XML.
 * The layout is documented in the package README (rows of 32 bytes, plugin templates stored once,
 * outputs addressed by offset).
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { FindingsIndex } from "@nessus-mcp/validator"
 *
 * const program = Effect.gen(function*() {
 *   const built = yield* FindingsIndex.build("scan.nessus", "data/task-1/index", { scanType: "authenticated" })
 *   const page1 = yield* FindingsIndex.query("data/task-1/index", { profile: "summary", filters: { severity: ">=3" }, page_size: 25 })
 *   const page2 = page1.next_cursor === null ? undefined
 *     : yield* FindingsIndex.query("data/task-1/index", { profile: "summary", filters: { severity: ">=3" }, page_size: 25, cursor: page1.next_cursor })
 * })
 * ```
 */
import * as Effect from "effect/Effect"
import type { ScanType } from "./Authentication.js"
import type { Page } from "./Findings.js"
import { attempt, attemptPromise } from "./internal/attempt.js"
import { buildIndex, type BuildSummary, type IndexMeta, openIndex, type Query, queryIndex } from "./internal/index.js"
import type { ValidatorError } from "./ValidatorError.js"

export type { BuildSummary, IndexMeta, Query } from "./internal/index.js"

/** Options of `build`. */
export interface BuildOptions {
  /** The scan type that was requested, for the verdict (default `untrusted`). */
  readonly scanType?: ScanType
}

/**
 * Parses `nessusPath` once and writes the index into `indexDir` (replacing any previous index atomically),
 * returning the verdict, the scan metadata and counts. Fails with `file_unreadable`, `malformed_xml`,
 * `unsupported_format` or `index_write_failed`.
 */
export const build = (
  nessusPath: string,
  indexDir: string,
  options: BuildOptions = {}
): Effect.Effect<BuildSummary, ValidatorError> =>
  attemptPromise(() => buildIndex(nessusPath, indexDir, options.scanType ?? "untrusted"))

/**
 * Serves one page: selection (`profile` or `fields`), `filters` (applied before projection), `page_size`
 * (1…1000, default 40) and `cursor` (opaque, from `next_cursor`) or `page` (1-based). `total` counts all
 * matching findings. Fails with `invalid_filter`, `invalid_query` or `index_unreadable`.
 */
export const query = (indexDir: string, q: Query): Effect.Effect<Page, ValidatorError> => attempt(() => queryIndex(indexDir, q))

/** Reads the index's `meta.json` (verdict, metadata, counts, source file). */
export const meta = (indexDir: string): Effect.Effect<IndexMeta, ValidatorError> => attempt(() => openIndex(indexDir).meta)
