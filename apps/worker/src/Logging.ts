/**
 * Structured JSON logs, one object per line: `level`, `time`, `message`, `service`, and the fiber's
 * annotations, which carry `task_id`, `trace_id` and `scanner` while a task runs (and `trace_id`, `tool`,
 * `principal` while the MCP server serves a tool call). The worker writes to stdout (it has no stdio
 * protocol); the MCP server reuses this module and writes to stdout over HTTP, to stderr over stdio (where
 * stdout carries the protocol).
 *
 * Nothing secret is ever logged, by construction: a `Redacted` value anywhere in a message or an annotation
 * renders as `<redacted>` (its `toJSON`/`toString`), credentials only travel as `Redacted`, Nessus errors
 * never carry secrets, and task values shown are the scheduler's secret-free views.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Logging } from "@nessus-mcp/worker"
 *
 * const program = Effect.logInfo("scan launched").pipe(
 *   Effect.annotateLogs({ task_id: "t_…", trace_id: "…", scanner: "scanner1" }),
 *   Effect.provide(Logging.layer({ level: "Info" }))
 * )
 * ```
 */
import { Cause, Layer, Logger, References } from "effect"
import type * as LogLevel from "effect/LogLevel"

/**
 * Where finished lines go (one JSON document, without the newline).
 *
 * @category models
 */
export type Sink = (line: string) => void

/**
 * The default sink: `process.stdout`.
 *
 * @category constructors
 */
export const stdout: Sink = (line) => {
  process.stdout.write(line + "\n")
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
 * A sink to `process.stderr` (the MCP server over stdio, whose stdout is the protocol).
 *
 * @category constructors
 */
export const stderr: Sink = (line) => {
  process.stderr.write(line + "\n")
}

/**
 * A JSON-lines logger for `service`.
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
 * Parses `LOG_LEVEL` values (`trace`, `debug`, `info`, `warn`/`warning`, `error`, `fatal`, `none`/`off`),
 * any case; `undefined` for anything else.
 *
 * @category parsing
 */
export const parseLevel = (text: string): LogLevel.LogLevel | undefined => {
  switch (text.trim().toLowerCase()) {
    case "trace":
      return "Trace"
    case "debug":
      return "Debug"
    case "info":
      return "Info"
    case "warn":
    case "warning":
      return "Warn"
    case "error":
      return "Error"
    case "fatal":
      return "Fatal"
    case "none":
    case "off":
      return "None"
    default:
      return undefined
  }
}

/**
 * Replaces the default loggers with the JSON logger (service `worker` unless given) and sets the minimum
 * level.
 *
 * @category layers
 */
export const layer = (options: {
  readonly level: LogLevel.LogLevel
  readonly service?: string | undefined
  readonly sink?: Sink | undefined
}): Layer.Layer<never> =>
  Layer.mergeAll(
    Logger.layer([make(options.service ?? "worker", options.sink ?? stdout)]),
    Layer.succeed(References.MinimumLogLevel, options.level)
  )
