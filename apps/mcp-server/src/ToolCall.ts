/**
 * One tool call from raw arguments to MCP result: decode the arguments with the tool's schema (an error
 * names the argument), apply the cross-argument rules, run the `ScanService` handler, encode the output,
 * and convert the `Exit` into a `CallToolResult` — here and nowhere else. Every call is logged with its
 * trace id, traced in a span of the call's trace (`mcp.tool <name>`) and counted in
 * `nessus_api_requests_total{tool,status}` (`ok` or the error code); a call never fails at the protocol level.
 */
import type { CallToolResult } from "@modelcontextprotocol/server"
import { Cause, Effect, Exit, Option, Schema, SchemaIssue, SchemaParser, Tracer } from "effect"
import { randomUUID } from "node:crypto"
import * as AppError from "./AppError.js"
import * as Logging from "./Logging.js"
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

// Tracing.withTrace (the worker's) with a fixed stack frame instead of a captured stack trace.
const withCallSpan = (name: string, call: CallContext, frame: () => string) =>
<A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> => {
  const attributes = { "mcp.tool": call.tool, "mcp.principal": call.principal }
  return TRACE_ID.test(call.traceId)
    ? Effect.withSpan(effect, name, {
      attributes,
      captureStackTrace: frame,
      parent: Tracer.externalSpan({
        traceId: call.traceId,
        spanId: call.parentSpanId !== undefined && SPAN_ID.test(call.parentSpanId) ? call.parentSpanId : syntheticParentOf(call.traceId),
        sampled: true
      })
    })
    : Effect.withSpan(effect, name, { attributes, captureStackTrace: frame, root: true })
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
  // Encoding is synchronous too: one step from the handler's output to the result's two forms.
  const render = (input: I) => (output: O): Exit.Exit<Rendered> => {
    const exit = encodeExit(output)
    if (Exit.isFailure(exit)) return Exit.die(new Error(`${definition.name} returned a result that breaks its outputSchema: ${exit.cause}`))
    const encoded = exit.value as OE
    return Exit.succeed({ structured: encoded as Record<string, unknown>, text: definition.renderText?.(input, encoded) ?? JSON.stringify(encoded) })
  }
  const spanName = `mcp.tool ${definition.name}`
  // The span's stack frame (what `Cause.pretty` shows for a failure inside it) is a fixed description: Effect
  // would otherwise capture a stack trace on every call, which cost more than the rest of the span.
  const spanFrame = () => `at ${spanName} (@nessus-mcp/mcp-server ToolCall.execute)`
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
        Logging.annotated({ trace_id: call.traceId, tool: definition.name, principal: call.principal }),
        // The call's span, in the caller's trace (its traceparent) when it sent one; a submitted task keeps the
        // trace id, so the worker's and the Nessus client's spans join the same trace. (Tracing.withTrace's rule,
        // with the fixed stack frame above.)
        withCallSpan(spanName, call, spanFrame)
      )
    }
  }
}
