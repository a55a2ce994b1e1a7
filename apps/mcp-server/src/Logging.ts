/**
 * Structured JSON logs, one object per line on stderr (stdout belongs to the stdio protocol): `level`, `time`,
 * `message`, `service`, `trace_id` when a tool call is being served, plus the fiber's log annotations. Secrets
 * never reach a log line because nothing secret is ever logged: arguments are not logged, bearer tokens are
 * referred to by name, and `Redacted` values render as `<redacted>`.
 */
import { Cause, Effect, Layer, Logger, References } from "effect"
import type * as LogLevel from "effect/LogLevel"

/**
 * Where finished lines go (one JSON document, no newline).
 *
 * @category models
 */
export type Sink = (line: string) => void

/**
 * The default sink: `process.stderr`.
 *
 * @category constructors
 */
export const stderr: Sink = (line) => {
  process.stderr.write(line + "\n")
}

const render = (value: unknown): unknown => {
  if (typeof value === "string" || typeof value === "number" || typeof value === "boolean" || value === null) return value
  try {
    return JSON.parse(JSON.stringify(value))
  } catch {
    return String(value)
  }
}

/**
 * A JSON-lines logger for the given service name.
 *
 * @category constructors
 */
export const make = (service: string, sink: Sink): Logger.Logger<unknown, void> =>
  Logger.make(({ cause, date, fiber, logLevel, message }) => {
    const parts = Array.isArray(message) ? message : [message]
    const entry: Record<string, unknown> = {
      level: logLevel.toLowerCase(),
      time: date.toISOString(),
      message: parts.map((part) => (typeof part === "string" ? part : JSON.stringify(render(part)))).join(" "),
      service
    }
    for (const [key, value] of Object.entries(fiber.getRef(References.CurrentLogAnnotations))) {
      entry[key] = render(value)
    }
    if (cause.reasons.length > 0) entry["cause"] = Cause.pretty(cause)
    sink(JSON.stringify(entry))
  })

/**
 * Parses `LOG_LEVEL` values (`debug`, `info`, `warn`/`warning`, `error`, `fatal`, `trace`, `none`), any case.
 *
 * @category parsing
 */
export const parseLevel = (text: string): LogLevel.LogLevel | undefined => {
  switch (text.trim().toLowerCase()) {
    case "trace": return "Trace"
    case "debug": return "Debug"
    case "info": return "Info"
    case "warn":
    case "warning": return "Warn"
    case "error": return "Error"
    case "fatal": return "Fatal"
    case "none":
    case "off": return "None"
    default: return undefined
  }
}

/**
 * Replaces the default loggers with the JSON logger and sets the minimum level.
 *
 * @category layers
 */
export const layer = (options: {
  readonly service: string
  readonly level: LogLevel.LogLevel
  readonly sink?: Sink | undefined
}): Layer.Layer<never> =>
  Layer.mergeAll(
    Logger.layer([make(options.service, options.sink ?? stderr)]),
    Layer.succeed(References.MinimumLogLevel, options.level)
  )

/**
 * Runs `effect` with `trace_id` (and any other facts) attached to every log line it writes.
 *
 * @category combinators
 */
export const annotated = (annotations: Record<string, unknown>) =>
  <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> => Effect.annotateLogs(effect, annotations)
