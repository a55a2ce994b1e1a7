/**
 * Streaming parser for `.nessus` v2 exports: hosts and findings come out one by one while the file is
 * read in fixed-size chunks, so memory stays flat whatever the file size.
 *
 * @example
 * ```ts
 * import { Effect, Stream } from "effect"
 * import { Report } from "@nessus-mcp/validator"
 *
 * const criticals = Report.streamFile("scan.nessus").pipe(
 *   Stream.filter((e) => e._tag === "Finding" && e.finding.severity === 4),
 *   Stream.runCount
 * )
 * ```
 */
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"
import { attempt } from "./internal/attempt.js"
import type { ReportEvent } from "./internal/model.js"
import { eventSink } from "./internal/nessus.js"
import { ByteParser, fileBatches, parseFile } from "./internal/parse.js"
import { isValidatorError, type ValidatorError } from "./ValidatorError.js"

export type { FieldValue, Finding, Host, ReportEvent, ScanMetadata } from "./internal/model.js"

/**
 * Parses a stream of bytes (a file, an HTTP download, …) into report events. Fails with `ValidatorError`
 * (`malformed_xml`, `unsupported_format`) as soon as the problem is seen.
 */
export const stream = <E, R>(bytes: Stream.Stream<Uint8Array, E, R>): Stream.Stream<ReportEvent, E | ValidatorError, R> =>
  Stream.suspend(() => {
    let batch: Array<ReportEvent> = []
    const parser = new ByteParser(eventSink((e) => batch.push(e)))
    const take = () => {
      const out = batch
      batch = []
      return out
    }
    return bytes.pipe(
      Stream.mapEffect((chunk) =>
        attempt(() => {
          parser.push(chunk)
          return take()
        })
      ),
      Stream.concat(Stream.fromEffect(attempt(() => {
        parser.finish()
        return take()
      }))),
      Stream.flattenIterable
    )
  })

/** Parses a file from disk (read in 256 KiB chunks through one reused buffer). */
export const streamFile = (path: string): Stream.Stream<ReportEvent, ValidatorError> =>
  Stream.fromAsyncIterable(fileBatches(path), (e) => {
    if (isValidatorError(e)) return e
    throw e
  }).pipe(Stream.flattenIterable)

/**
 * The same events as a plain async iterator, for callers without Effect. Rejects with `ValidatorError`.
 *
 * @example
 * ```ts
 * for await (const e of Report.events("scan.nessus")) if (e._tag === "Finding") console.log(e.finding.plugin_id)
 * ```
 */
export async function* events(path: string): AsyncGenerator<ReportEvent> {
  for await (const batch of fileBatches(path)) yield* batch
}

/**
 * Calls `f` for every event synchronously as the file is parsed (the fastest way to consume a file);
 * succeeds with the file size in bytes.
 */
export const forEachEvent = (path: string, f: (event: ReportEvent) => void): Effect.Effect<number, ValidatorError> =>
  Effect.flatMap(
    Effect.promise(() => parseFile(path, eventSink(f)).then((size) => ({ size }), (error: unknown) => ({ error }))),
    (r) => "size" in r ? Effect.succeed(r.size) : isValidatorError(r.error) ? Effect.fail(r.error) : Effect.die(r.error)
  )
