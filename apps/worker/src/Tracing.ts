/**
 * Traces: one trace id per scan, from the MCP tool call that submitted it (the caller's W3C `traceparent`
 * when it sent one) through every worker attempt to each Nessus request. The trace id is stored on the task;
 * {@link withTrace} opens a span under it, so every span inside (the worker's task span, the Nessus client's
 * `NessusClient.*` spans and Effect's `http.client` spans) carries the same trace id as the log lines'
 * `trace_id`.
 *
 * Spans are exported only when `OTEL_EXPORTER_OTLP_ENDPOINT` is set ({@link config}, {@link layerOtlp}):
 * OTLP over HTTP (protobuf by default, JSON with `OTEL_EXPORTER_OTLP_PROTOCOL=http/json`) to
 * `<endpoint>/v1/traces`. Secrets never reach a span: request bodies are not recorded, the Nessus client adds
 * its secret header names (`X-ApiKeys`, `X-Cookie`, `X-API-Token`) to Effect's redacted header names, and
 * `OTEL_EXPORTER_OTLP_HEADERS` (e.g. a collector's API key) stays `Redacted`.
 *
 * @example
 * ```ts
 * import { Effect, Layer } from "effect"
 * import { Tracing } from "@nessus-mcp/worker"
 *
 * const program = Effect.logInfo("scan launched").pipe(
 *   Tracing.withTrace("worker.task", "4bf92f3577b34da6a3ce929d0e0e4736", { "nessus.task_id": "t_…" })
 * )
 * const exporter = Tracing.layerOtlp({ endpoint: "http://127.0.0.1:4318", serviceName: "nessus-mcp-worker" })
 * Effect.runFork(program.pipe(Effect.provide(exporter)))
 * ```
 */
import { Config, ConfigProvider, type Duration, Effect, Layer, Option, Redacted, Tracer } from "effect"
import { FetchHttpClient } from "effect/http"
import { OtlpSerialization, OtlpTracer } from "effect/observability"
import { randomUUID } from "node:crypto"

/**
 * Where and how spans are exported.
 *
 * - `endpoint`: the collector's base URL (`OTEL_EXPORTER_OTLP_ENDPOINT`); spans go to `<endpoint>/v1/traces`.
 * - `serviceName`: `service.name` of the resource (`OTEL_SERVICE_NAME`, else the app's name).
 * - `protocol`: `http/protobuf` (default) or `http/json` (`OTEL_EXPORTER_OTLP_PROTOCOL`).
 * - `headers`: extra request headers (`OTEL_EXPORTER_OTLP_HEADERS`, `name=value,name=value`), kept `Redacted`.
 * - `exportInterval`: how often batches are sent (default 5 s); the rest is flushed when the layer closes.
 *
 * @category models
 */
export interface Options {
  readonly endpoint: string
  readonly serviceName: string
  readonly protocol?: "http/protobuf" | "http/json" | undefined
  readonly headers?: Redacted.Redacted<Readonly<Record<string, string>>> | undefined
  readonly exportInterval?: Duration.Input | undefined
}

const TRACE_ID = /^[\da-f]{32}$/
const SPAN_ID = /^[\da-f]{16}$/

/**
 * Runs `effect` in a span named `name` that belongs to trace `traceId` (32 lowercase hex digits; anything else
 * starts a fresh trace). `parentSpanId` (16 hex digits, e.g. from the caller's `traceparent`) links it to
 * the caller's span; otherwise the span hangs under a synthetic root of the trace.
 *
 * @category combinators
 */
export const withTrace = (
  name: string,
  traceId: string,
  attributes: Readonly<Record<string, unknown>> = {},
  parentSpanId?: string | undefined
) =>
<A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  TRACE_ID.test(traceId)
    ? Effect.withSpan(effect, name, {
      attributes,
      parent: Tracer.externalSpan({
        traceId,
        // randomUUID draws from a cached entropy pool (no syscall per tool call); 16 of its hex digits make a span id.
        spanId: parentSpanId !== undefined && SPAN_ID.test(parentSpanId) ? parentSpanId : randomUUID().replace(/-/g, "").slice(16),
        sampled: true
      })
    })
    : Effect.withSpan(effect, name, { attributes, root: true })

const failWith = (message: string) => Config.fail(new ConfigProvider.SourceError({ message }))

const headerList = (text: string): Config.Config<Readonly<Record<string, string>>> => {
  const headers: Record<string, string> = {}
  for (const part of text.split(",").map((p) => p.trim()).filter((p) => p.length > 0)) {
    const eq = part.indexOf("=")
    const name = eq > 0 ? decodeURIComponent(part.slice(0, eq).trim()) : ""
    // The value may be a credential: the message names the entry's position, never its content.
    if (!/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/.test(name)) {
      return failWith("OTEL_EXPORTER_OTLP_HEADERS must be a comma-separated list of name=value pairs")
    }
    headers[name] = decodeURIComponent(part.slice(eq + 1).trim())
  }
  return Config.succeed(headers)
}

/**
 * The export settings from the standard OpenTelemetry variables: `OTEL_EXPORTER_OTLP_ENDPOINT` (unset = no
 * export), `OTEL_SERVICE_NAME` (default `defaultServiceName`), `OTEL_EXPORTER_OTLP_PROTOCOL` (`http/protobuf`
 * or `http/json`), `OTEL_EXPORTER_OTLP_HEADERS`. Read by each app's configuration module.
 *
 * @category config
 */
export const config = (defaultServiceName: string): Config.Config<Option.Option<Options>> =>
  Config.all({
    endpoint: Config.option(Config.String("OTEL_EXPORTER_OTLP_ENDPOINT")),
    serviceName: Config.String("OTEL_SERVICE_NAME").pipe(Config.withDefault(defaultServiceName)),
    protocol: Config.String("OTEL_EXPORTER_OTLP_PROTOCOL").pipe(Config.withDefault("http/protobuf")),
    headers: Config.option(Config.Redacted("OTEL_EXPORTER_OTLP_HEADERS"))
  }).pipe(
    Config.flatMap(({ endpoint, headers, protocol, serviceName }) => {
      const given = Option.filter(endpoint, (e) => e.trim().length > 0)
      if (Option.isNone(given)) return Config.succeed(Option.none<Options>())
      let url: URL
      try {
        url = new URL(given.value.trim())
      } catch {
        return failWith("OTEL_EXPORTER_OTLP_ENDPOINT must be an http(s) URL such as http://otel-collector:4318")
      }
      if (url.protocol !== "http:" && url.protocol !== "https:") {
        return failWith("OTEL_EXPORTER_OTLP_ENDPOINT must be an http(s) URL such as http://otel-collector:4318")
      }
      if (protocol !== "http/protobuf" && protocol !== "http/json") {
        return failWith(`OTEL_EXPORTER_OTLP_PROTOCOL "${protocol.slice(0, 40)}" is not supported; use http/protobuf or http/json`)
      }
      const base = { endpoint: url.toString().replace(/\/+$/, ""), serviceName, protocol } as const
      if (Option.isNone(headers)) return Config.succeed(Option.some<Options>(base))
      return Config.map(headerList(Redacted.value(headers.value)), (h) => Option.some<Options>({ ...base, headers: Redacted.make(h) }))
    })
  )

/**
 * Exports the spans of everything it is provided to, to `<endpoint>/v1/traces`, batching every
 * `exportInterval` and flushing when the layer's scope closes.
 *
 * @category layers
 */
export const layerOtlp = (options: Options): Layer.Layer<never> =>
  OtlpTracer.layer({
    url: `${options.endpoint}/v1/traces`,
    resource: { serviceName: options.serviceName },
    ...(options.headers === undefined ? {} : { headers: Redacted.value(options.headers) }),
    exportInterval: options.exportInterval ?? "5 seconds",
    shutdownTimeout: "3 seconds"
  }).pipe(
    Layer.provide(options.protocol === "http/json" ? OtlpSerialization.layerJson : OtlpSerialization.layerProtobuf),
    Layer.provide(FetchHttpClient.layer)
  )

/**
 * {@link layerOtlp} when export is configured, else nothing.
 *
 * @category layers
 */
export const layer = (options: Option.Option<Options>): Layer.Layer<never> =>
  Option.match(options, { onNone: () => Layer.empty, onSome: layerOtlp })
