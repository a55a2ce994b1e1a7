/**
 * The verdict on an exported scan: is it usable, did authentication work (per host, with evidence), and
 * the counts an operator or agent needs first.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Verdict } from "@nessus-mcp/validator"
 *
 * const program = Effect.gen(function*() {
 *   const v = yield* Verdict.validateFile("scan.nessus", { scanType: "authenticated" })
 *   if (!v.valid) console.error(v.error?.code, v.error?.message)
 * })
 * ```
 */
import * as Effect from "effect/Effect"
import type { ScanType } from "./Authentication.js"
import { attemptPromise } from "./internal/attempt.js"
import { stat } from "node:fs/promises"
import { parseFile, unreadable } from "./internal/parse.js"
import { failedVerdict, type Verdict, VerdictBuilder } from "./internal/verdict.js"
import { isValidatorError, type ValidatorError } from "./ValidatorError.js"

export type { ErrorCode, SeverityCounts, Stats, Verdict } from "./internal/verdict.js"

/** Options of `validateFile`. */
export interface Options {
  /** The scan type that was requested (default `untrusted`). */
  readonly scanType?: ScanType
}

/**
 * Reads a `.nessus` file once (streaming, flat memory) and returns its verdict. A malformed or
 * unsupported file is an invalid verdict (`error.code` `malformed_xml` / `unsupported_format`); only an
 * unreadable file fails, with `ValidatorError` reason `file_unreadable`.
 */
export const validateFile = (path: string, options: Options = {}): Effect.Effect<Verdict, ValidatorError> =>
  attemptPromise(async () => {
    let size: number
    try {
      const s = await stat(path)
      if (s.isDirectory()) throw Object.assign(new Error("is a directory"), { code: "EISDIR" })
      size = s.size
    } catch (e) {
      throw unreadable(path, e)
    }
    const builder = new VerdictBuilder(options.scanType ?? "untrusted")
    try {
      return builder.finish(await parseFile(path, builder))
    } catch (e) {
      if (isValidatorError(e) && (e.reason === "malformed_xml" || e.reason === "unsupported_format")) {
        return failedVerdict(e, size)
      }
      throw e
    }
  })

/** Builds a verdict incrementally from report events (`event`/`item`), then `finish(fileSize)`. */
export { VerdictBuilder } from "./internal/verdict.js"

/** The invalid verdict of a file that could not be parsed (`malformed_xml` / `unsupported_format`). */
export const fromParseError = (error: ValidatorError, fileSize: number): Verdict => failedVerdict(error, fileSize)
