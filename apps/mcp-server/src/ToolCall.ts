/**
 * One tool call from raw arguments to MCP result: decode the arguments with the tool's schema (an error
 * names the argument), apply the cross-argument rules, run the `ScanService` handler, encode the output,
 * and convert the `Exit` into a `CallToolResult` — here and nowhere else. Every call is logged with its
 * trace id, traced in a span of the call's trace (`mcp.tool <name>`) and counted in
 * `nessus_api_requests_total{tool,status}` (`ok` or the error code); a call never fails at the protocol level.
 */
import type { CallToolResult } from "@modelcontextprotocol/server"
import { Tracing } from "@nessus-mcp/worker"
import { Cause, Clock, Effect, Exit, Option, Schema } from "effect"
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
 *
 * @category decoding
 */
export const decodeArguments = <I, IE, O, OE>(
  definition: Tools.Definition<I, IE, O, OE>
): ((args: unknown) => Effect.Effect<I, AppError.AppError>) => {
  const standard = Schema.toStandardSchemaV1(definition.input as Schema.Codec<I, IE>, { parseOptions })["~standard"]
  return (args) => {
    if (args !== undefined && (typeof args !== "object" || args === null || Array.isArray(args))) {
      return Effect.fail(AppError.invalidArgument("arguments", "expected an object of named arguments"))
    }
    const cleaned = Object.fromEntries(Object.entries(args ?? {}).filter(([, value]) => value !== null))
    return Effect.promise(async () => standard.validate(cleaned)).pipe(
      Effect.flatMap((result) => {
        if (result.issues === undefined) return Effect.succeed(result.value)
        const problems = result.issues.map((issue) => ({ field: describePath(issue.path ?? []) || "arguments", message: issue.message }))
        const first = problems[0]!
        const message = problems.length === 1
          ? `Invalid argument "${first.field}": ${first.message}`
          : `Invalid arguments: ${problems.map((p) => `"${p.field}": ${p.message}`).join("; ")}`
        return Effect.fail(new AppError.AppError({
          reason: "InvalidArgument",
          field: first.field,
          message,
          ...(problems.length > 1 ? { details: { problems } } : {})
        }))
      }),
      Effect.flatMap((input) => {
        const problem = definition.crossCheck?.(input)
        return problem ? Effect.fail(AppError.invalidArgument(problem.field, problem.problem)) : Effect.succeed(input)
      })
    )
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
  const encode = (output: O): Effect.Effect<OE> =>
    Effect.suspend(() => {
      const exit = encodeExit(output)
      return Exit.isSuccess(exit)
        ? Effect.succeed(exit.value as OE)
        : Effect.die(new Error(`${definition.name} returned a result that breaks its outputSchema: ${exit.cause}`))
    })
  return {
    definition,
    execute: (args, call) =>
      Effect.gen(function*() {
        const started = yield* Clock.currentTimeMillis
        const exit: Exit.Exit<{ structured: Record<string, unknown>; text: string }, AppError.AppError> = yield* decode(args).pipe(
          Effect.flatMap((input) =>
            handler(input, call).pipe(
              Effect.flatMap(encode),
              Effect.map((encoded) => ({
                structured: encoded as Record<string, unknown>,
                text: definition.renderText?.(input, encoded) ?? JSON.stringify(encoded)
              }))
            )
          ),
          Effect.exit
        )
        const metrics = yield* Metrics
        const failure = Exit.isFailure(exit) ? Cause.findErrorOption(exit.cause) : Option.none()
        const status = Exit.isSuccess(exit) ? "ok" : Option.match(failure, { onNone: () => "INTERNAL", onSome: AppError.code })
        yield* metrics.recordToolCall(definition.name, status)
        yield* Effect.annotateCurrentSpan({ "mcp.status": status })
        const duration_ms = (yield* Clock.currentTimeMillis) - started
        if (Exit.isSuccess(exit)) {
          yield* Effect.logInfo("tool call succeeded").pipe(Effect.annotateLogs({ duration_ms }))
        } else {
          const error = Cause.findErrorOption(exit.cause)
          if (Option.isSome(error)) {
            yield* Effect.logWarning(`tool call failed: ${error.value.message}`).pipe(
              Effect.annotateLogs({ duration_ms, code: AppError.code(error.value) })
            )
          } else {
            yield* Effect.logError("tool call crashed", exit.cause).pipe(Effect.annotateLogs({ duration_ms, code: "INTERNAL" }))
          }
        }
        return toCallToolResult(exit, call.traceId)
      }).pipe(
        Logging.annotated({ trace_id: call.traceId, tool: definition.name, principal: call.principal }),
        // The call's span, in the caller's trace (its traceparent) when it sent one; a submitted task keeps the
        // trace id, so the worker's and the Nessus client's spans join the same trace.
        Tracing.withTrace(`mcp.tool ${definition.name}`, call.traceId, { "mcp.tool": definition.name, "mcp.principal": call.principal }, call.parentSpanId)
      )
  }
}
