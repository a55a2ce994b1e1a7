/**
 * One tool call from raw arguments to MCP result: decode the arguments with the tool's schema (an error
 * names the argument), apply the cross-argument rules, run the `ScanService` handler, encode the output,
 * and convert the `Exit` into a `CallToolResult` — here and nowhere else. Every call is logged with its
 * trace id, traced in a span of the call's trace (`mcp.tool <name>`, when spans are exported) and counted in
 * `nessus_api_requests_total{tool,status}` (`ok` or the error code); a call never fails at the protocol level.
 */
import type { CallToolResult } from "@modelcontextprotocol/server"
import { Cause, Context, Effect, Exit, Option, References, Schema, SchemaIssue, SchemaParser, Tracer } from "effect"
import { randomUUID } from "node:crypto"
import * as AppError from "./AppError.js"
import { Metrics } from "./Metrics.js"
import type { CallContext } from "./ScanService.js"
import type * as Tools from "./Tools.js"

/**
 * A tool bound to its handler, with the types erased so the ten tools fit in one list.
 *
 * @category models
 */
export interface Binding {
  readonly definition: Tools.Definition<any, any, any, any>
  readonly execute: (args: unknown, call: CallContext) => Effect.Effect<CallToolResult, never, Metrics>
}

const parseOptions = { errors: "all", onExcessProperty: "error" } as const

const describePath = (path: ReadonlyArray<PropertyKey | { readonly key: PropertyKey }>): string =>
  path.map((segment) => {
    const key = typeof segment === "object" ? segment.key : segment
    return typeof key === "number" ? `[${key}]` : `.${String(key)}`
  }).join("").replace(/^\./, "").replace(/\.\[/g, "[")

/**
 * Decodes raw arguments into the tool's input type. `null` on a top-level argument means "not given" (agents
 * often send it for optional arguments). Every problem is reported; `field` is the first offending argument.
 * The result is an `Exit` (an `Effect` that is already done): decoding is synchronous, so a call does not pay
 * for a fiber hop here.
 *
 * @category decoding
 */
export const decodeArguments = <I, IE, O, OE>(
  definition: Tools.Definition<I, IE, O, OE>
): ((args: unknown) => Exit.Exit<I, AppError.AppError>) => {
  const decode = SchemaParser.decodeUnknownExit(definition.input as Schema.Codec<I, IE>)
  // The Standard Schema formatter: the same issue paths and messages as `Schema.toStandardSchemaV1`.
  const format = SchemaIssue.makeFormatterStandardSchemaV1()
  return (args) => {
    if (args !== undefined && (typeof args !== "object" || args === null || Array.isArray(args))) {
      return Exit.fail(AppError.invalidArgument("arguments", "expected an object of named arguments"))
    }
    let cleaned: Record<string, unknown> = (args ?? {}) as Record<string, unknown>
    for (const key in cleaned) {
      if (cleaned[key] === null) {
        cleaned = Object.fromEntries(Object.entries(cleaned).filter(([, value]) => value !== null))
        break
      }
    }
    const decoded = decode(cleaned, parseOptions)
    if (Exit.isFailure(decoded)) {
      const issue = Cause.findErrorOption(decoded.cause)
      const issues: ReadonlyArray<{ readonly path?: ReadonlyArray<PropertyKey | { readonly key: PropertyKey }> | undefined; readonly message: string }> =
        Option.isSome(issue) ? format(issue.value).issues : [{ message: Cause.pretty(decoded.cause) }]
      const problems = issues.map((i) => ({ field: describePath(i.path ?? []) || "arguments", message: i.message }))
      const first = problems[0]!
      const message = problems.length === 1
        ? `Invalid argument "${first.field}": ${first.message}`
        : `Invalid arguments: ${problems.map((p) => `"${p.field}": ${p.message}`).join("; ")}`
      return Exit.fail(
        new AppError.AppError({
          reason: "InvalidArgument",
          field: first.field,
          message,
          ...(problems.length > 1 ? { details: { problems } } : {})
        })
      )
    }
    const problem = definition.crossCheck?.(decoded.value)
    return problem ? Exit.fail(AppError.invalidArgument(problem.field, problem.problem)) : Exit.succeed(decoded.value)
  }
}

/**
 * The error body agents see, as JSON in the text block of an `isError` result.
 *
 * @category models
 */
export interface ErrorBody {
  readonly error: {
    readonly code: string
    readonly message: string
    readonly trace_id: string
    readonly retryable: boolean
    readonly field?: string
    readonly details?: Readonly<Record<string, unknown>>
  }
}

const errorResult = (error: AppError.AppError, traceId: string): CallToolResult => {
  const body: ErrorBody = {
    error: {
      code: AppError.code(error),
      message: error.message,
      trace_id: traceId,
      retryable: AppError.isRetryable(error),
      ...(error.field === undefined ? {} : { field: error.field }),
      ...(error.details === undefined ? {} : { details: error.details })
    }
  }
  // No structuredContent on errors: some 2025-era clients validate it against the tool's outputSchema.
  return { isError: true, content: [{ type: "text", text: JSON.stringify(body) }] }
}

/**
 * The one conversion from the outcome of a call to the MCP result. Successes carry `structuredContent` and
 * its JSON (or the tool's own rendering) as text; `AppError`s become `isError` results with code, message
 * and trace id; anything else (a defect, an interruption) becomes `INTERNAL` without leaking the cause.
 *
 * @category conversions
 */
export const toCallToolResult = (
  exit: Exit.Exit<{ readonly structured: Record<string, unknown>; readonly text: string }, AppError.AppError>,
  traceId: string
): CallToolResult =>
  Exit.match(exit, {
    onSuccess: ({ structured, text }) => ({ content: [{ type: "text", text }], structuredContent: structured }),
    onFailure: (cause) =>
      errorResult(
        Option.getOrElse(Cause.findErrorOption(cause), () =>
          new AppError.AppError({
            reason: "Internal",
            message: `The server failed while handling this call. Quote trace id ${traceId} to the operator; retrying may not help.`
          })),
        traceId
      )
  })

interface Rendered {
  readonly structured: Record<string, unknown>
  readonly text: string
}

const TRACE_ID = /^[\da-f]{32}$/
const SPAN_ID = /^[\da-f]{16}$/

/**
 * Runs `effect` as one tool call: in the span `name` of the call's trace (Tracing.withTrace's rule: under the
 * caller's span when its traceparent named one, else under a synthetic root of the trace id) and with the
 * call's log annotations. It is `Logging.annotated(annotations)` + `Effect.withSpan` in one context change
 * instead of three (each change of a fiber's context allocates), with a fixed stack frame instead of a
 * captured stack trace (Effect captures one per span by default). Under Effect's native tracer, which keeps
 * spans nowhere (no exporter is configured: `OTEL_EXPORTER_OTLP_ENDPOINT` unset), no span is made at all.
 */
const inCall = (name: string, call: CallContext, annotations: Readonly<Record<string, unknown>>) => {
  const attributes = { "mcp.tool": call.tool, "mcp.principal": call.principal }
  const options: Tracer.SpanOptions = TRACE_ID.test(call.traceId)
    ? {
      attributes,
      parent: Tracer.externalSpan({
        traceId: call.traceId,
        spanId: call.parentSpanId !== undefined && SPAN_ID.test(call.parentSpanId) ? call.parentSpanId : syntheticParentOf(call.traceId),
        sampled: true
      })
    }
    : { attributes, root: true }
  const stack = () => `at ${name} (@nessus-mcp/mcp-server ToolCall.execute)`
  const annotated = (context: Context.Context<never>) =>
    Context.add(context, References.CurrentLogAnnotations, { ...Context.get(context, References.CurrentLogAnnotations), ...annotations })
  return <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
    Effect.flatMap(Effect.tracer, (tracer) =>
      tracer === Tracer.nativeTracer
        ? Effect.updateContext(effect, (context: Context.Context<R>) => annotated(context) as Context.Context<R>)
        : Effect.useSpan(name, options, (span) =>
          Effect.updateContext(effect, (context: Context.Context<R>): Context.Context<R> => {
            const frame: References.StackFrame = { name, stack, parent: Context.get(context, References.CurrentStackFrame) }
            return annotated(context).pipe(
              Context.add(References.CurrentStackFrame, frame),
              Context.add(Tracer.ParentSpan, span)
            ) as Context.Context<R>
          })))
}

// The synthetic root a call's span hangs under when the caller sent no span of its own: the low half of the
// trace id (random already; one root per trace), else random digits from randomUUID's cached entropy pool.
const syntheticParentOf = (traceId: string): string => {
  const low = traceId.slice(16)
  return /^0+$/.test(low) ? randomUUID().replace(/-/g, "").slice(16) : low
}

/**
 * Binds a tool definition to its handler.
 *
 * @category constructors
 */
export const bind = <I, IE, O, OE>(
  definition: Tools.Definition<I, IE, O, OE>,
  handler: (input: I, call: CallContext) => Effect.Effect<O, AppError.AppError>
): Binding => {
  const decode = decodeArguments(definition)
  const encodeExit = Schema.encodeUnknownExit(definition.output as unknown as Schema.Codec<O, OE>)
  // Encoding is synchronous too: one step from the handler's output to the result's two forms. The structured
  // form is re-read from its JSON: the encoder builds objects key by key, and V8 keeps objects built that way
  // with more than a dozen keys in its slow dictionary mode, which made the SDK's validation and serialization of
  // the result several times slower than the JSON round trip costs. (The wire form is JSON, so it is the same.)
  const render = (input: I) => (output: O): Exit.Exit<Rendered> => {
    const exit = encodeExit(output)
    if (Exit.isFailure(exit)) return Exit.die(new Error(`${definition.name} returned a result that breaks its outputSchema: ${exit.cause}`))
    const encoded = exit.value as OE
    const json = JSON.stringify(encoded)
    return Exit.succeed({ structured: JSON.parse(json) as Record<string, unknown>, text: definition.renderText?.(input, encoded) ?? json })
  }
  const spanName = `mcp.tool ${definition.name}`
  const finish = (exit: Exit.Exit<Rendered, AppError.AppError>, started: number, call: CallContext) =>
    Effect.flatMap(Effect.service(Metrics), (metrics) => {
      const error = Exit.isFailure(exit) ? Cause.findErrorOption(exit.cause) : Option.none()
      const status = Exit.isSuccess(exit) ? "ok" : Option.isSome(error) ? AppError.code(error.value) : "INTERNAL"
      return Effect.andThen(
        Effect.all([metrics.recordToolCall(definition.name, status), Effect.annotateCurrentSpan("mcp.status", status)], { discard: true }),
        Effect.clockWith((clock) => {
          const duration_ms = clock.currentTimeMillisUnsafe() - started
          const logged = Exit.isSuccess(exit)
            ? Effect.annotateLogs(Effect.logInfo("tool call succeeded"), "duration_ms", duration_ms)
            : Option.isSome(error)
            ? Effect.annotateLogs(Effect.logWarning(`tool call failed: ${error.value.message}`), { duration_ms, code: AppError.code(error.value) })
            : Effect.annotateLogs(Effect.logError("tool call crashed", exit.cause), { duration_ms, code: "INTERNAL" })
          return Effect.as(logged, toCallToolResult(exit, call.traceId))
        })
      )
    })
  return {
    definition,
    execute: (args, call) => {
      const decoded = decode(args)
      const work: Effect.Effect<Rendered, AppError.AppError> = Exit.isFailure(decoded)
        ? Exit.failCause(decoded.cause)
        : Effect.flatMap(handler(decoded.value, call), render(decoded.value))
      return Effect.clockWith((clock) => {
        const started = clock.currentTimeMillisUnsafe()
        return Effect.flatMap(Effect.exit(work), (exit) => finish(exit, started, call))
      }).pipe(
        // The call's span, in the caller's trace (its traceparent) when it sent one; a submitted task keeps the
        // trace id, so the worker's and the Nessus client's spans join the same trace. Every log line of the call
        // carries trace_id, tool and principal.
        inCall(spanName, call, { trace_id: call.traceId, tool: definition.name, principal: call.principal })
      )
    }
  }
}
