/**
 * Structured JSON logs, one object per line: `level`, `time`, `message`, `service`, `trace_id` (plus `tool`
 * and `principal`) while a tool call is served, `task_id` on lines about a task, plus the fiber's other log
 * annotations. The logger is the worker's (`@nessus-mcp/worker`'s `Logging`), so both processes write the
 * same shape.
 *
 * Where the lines go: over HTTP to **stdout**, like every other process; over stdio to **stderr**, because
 * stdout carries the MCP protocol there and a log line on it would corrupt the stream. `Main` picks the sink
 * from the transport.
 *
 * Secrets never reach a log line: arguments are not logged, bearer tokens are referred to by name, and
 * `Redacted` values render as `<redacted>`.
 */
import { Logging as Shared } from "@nessus-mcp/worker"
import { Effect, type Layer } from "effect"
import type * as LogLevel from "effect/LogLevel"

/**
 * Where finished lines go (one JSON document, no newline).
 *
 * @category models
 */
export type Sink = Shared.Sink

/**
 * A sink to `process.stdout` (HTTP transport).
 *
 * @category constructors
 */
export const stdout: Sink = Shared.stdout

/**
 * A sink to `process.stderr` (stdio transport, whose stdout is the protocol).
 *
 * @category constructors
 */
export const stderr: Sink = Shared.stderr

/**
 * The sink for a transport: stdout over HTTP, stderr over stdio.
 *
 * @category constructors
 */
export const sinkFor = (transport: "stdio" | "http"): Sink => (transport === "http" ? stdout : stderr)

/**
 * A JSON-lines logger for the given service name.
 *
 * @category constructors
 */
export const make = (service: string, sink: Sink) => Shared.make(service, sink)

/**
 * Parses `LOG_LEVEL` values (`trace`, `debug`, `info`, `warn`/`warning`, `error`, `fatal`, `none`/`off`), any
 * case; `undefined` for anything else.
 *
 * @category parsing
 */
export const parseLevel = (text: string): LogLevel.LogLevel | undefined => Shared.parseLevel(text)

/**
 * Replaces the default loggers with the JSON logger and sets the minimum level (sink: stderr unless given).
 *
 * @category layers
 */
export const layer = (options: {
  readonly service: string
  readonly level: LogLevel.LogLevel
  readonly sink?: Sink | undefined
}): Layer.Layer<never> => Shared.layer({ service: options.service, level: options.level, sink: options.sink ?? stderr })

/**
 * Runs `effect` with `trace_id` (and any other facts) attached to every log line it writes.
 *
 * @category combinators
 */
export const annotated = (annotations: Record<string, unknown>) =>
  <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> => Effect.annotateLogs(effect, annotations)
