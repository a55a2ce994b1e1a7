/**
 * The one error type of `@nessus-mcp/validator`: every failure carries a `reason` literal, a `message`
 * that says what went wrong, where, and what to do, and the location fields that apply.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Verdict } from "@nessus-mcp/validator"
 *
 * Verdict.validateFile("scan.nessus").pipe(
 *   Effect.catchTag("ValidatorError", (e) => Effect.logError(e.reason, e.message))
 * )
 * ```
 */
import * as Schema from "effect/Schema"

/**
 * Why an operation failed.
 * - `file_unreadable`: the file does not exist, is a directory, or cannot be read.
 * - `unsupported_format`: well-formed XML but not a `.nessus` v2 export (v1 `NessusClientData`, other roots).
 * - `malformed_xml`: not well-formed (truncated, mismatched tags, invalid UTF-8, refused DOCTYPE/entities); has `line`/`column`.
 * - `invalid_filter`: a findings filter names an unknown operator or has a value of the wrong type; has `field`.
 * - `invalid_query`: bad profile, field list, page, page size or cursor.
 * - `index_unreadable`: a findings index is missing, from another version, or damaged.
 * - `index_write_failed`: the index directory could not be written.
 */
export const Reason = Schema.Literals([
  "file_unreadable",
  "unsupported_format",
  "malformed_xml",
  "invalid_filter",
  "invalid_query",
  "index_unreadable",
  "index_write_failed"
])

/** The `reason` literal union. */
export type Reason = typeof Reason.Type

/** The single tagged error of this package. */
export class ValidatorError extends Schema.TaggedError<ValidatorError>()("ValidatorError", {
  reason: Reason,
  message: Schema.String,
  path: Schema.optionalKey(Schema.String),
  line: Schema.optionalKey(Schema.Number),
  column: Schema.optionalKey(Schema.Number),
  field: Schema.optionalKey(Schema.String)
}) {}

/** True for a `ValidatorError` (also across module copies, by tag). */
export const isValidatorError = (u: unknown): u is ValidatorError =>
  typeof u === "object" && u !== null && (u as { _tag?: unknown })._tag === "ValidatorError"
