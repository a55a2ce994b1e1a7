/**
 * The MCP server definition: a factory that builds one SDK `McpServer` with the ten tools registered. The
 * SDK v2 serving entries (`createMcpHandler` for HTTP, `serveStdio` for stdio) call the factory per request
 * or per connection and for both protocol eras (2026-07-28 and the 2025 revisions), so the same definition
 * serves new and old clients. Tool calls run as Effects in the context captured by {@link makeFactory}.
 */
import {
  McpServer,
  type McpRequestContext,
  type McpServerFactory,
  type ServerContext,
  type StandardSchemaWithJSON
} from "@modelcontextprotocol/server"
import { Context, Effect, Schema } from "effect"
import { randomUUID } from "node:crypto"
import { Metrics } from "./Metrics.js"
import { type CallContext, ScanService, type Shape as ScanServiceShape } from "./ScanService.js"
import * as ToolCall from "./ToolCall.js"
import * as Tools from "./Tools.js"

/**
 * Name and version announced to clients.
 *
 * @category constants
 */
export const implementation = { name: "nessus-mcp", title: "Nessus MCP", version: "0.1.0" } as const

/**
 * Short guidance for agents, sent as the server's `instructions`.
 *
 * @category constants
 */
export const instructions = "Nessus vulnerability scanning through a queue. Submit with run_untrusted_scan or " +
  "run_authenticated_scan (they return a task_id at once), poll get_scan_status until status is completed " +
  "(or failed), then page through findings with get_scan_results (use filters such as {\"severity\": \">=3\"} and " +
  "follow next_cursor). list_pools, list_scanners, get_pool_status and get_queue_status describe capacity; " +
  "list_tasks finds earlier scans. Errors are isError results whose text is JSON with error.code, " +
  "error.message and error.trace_id."

/**
 * The ten tools bound to a `ScanService` implementation.
 *
 * @category constructors
 */
export const bindings = (service: ScanServiceShape): ReadonlyArray<ToolCall.Binding> => [
  ToolCall.bind(Tools.runUntrustedScan, service.runUntrustedScan),
  ToolCall.bind(Tools.runAuthenticatedScan, service.runAuthenticatedScan),
  ToolCall.bind(Tools.getScanStatus, service.getScanStatus),
  ToolCall.bind(Tools.getScanResults, service.getScanResults),
  ToolCall.bind(Tools.listScanners, service.listScanners),
  ToolCall.bind(Tools.listPools, service.listPools),
  ToolCall.bind(Tools.getPoolStatus, service.getPoolStatus),
  ToolCall.bind(Tools.getQueueStatus, service.getQueueStatus),
  ToolCall.bind(Tools.listTasks, service.listTasks),
  ToolCall.bind(Tools.cancelScan, service.cancelScan)
]

/**
 * The JSON Schema `tools/list` shows for an Effect schema (its encoded, wire-side form). Objects of inputs
 * are closed (`additionalProperties: false`) so a misspelt argument is caught.
 *
 * @category conversions
 */
export const jsonSchemaOf = (schema: Schema.Top, io: "input" | "output"): Record<string, unknown> => {
  const document = Schema.toJsonSchemaDocument(schema, { onExcessProperty: io === "input" ? "error" : "ignore" })
  const definitions = document.definitions as Record<string, unknown>
  return Object.keys(definitions).length === 0
    ? { ...document.schema as Record<string, unknown> }
    : { ...document.schema as Record<string, unknown>, $defs: definitions }
}

// The SDK only needs the JSON Schema from us: validation is ToolCall's job (it names the argument and keeps
// our error format), so the Standard Schema handed to the SDK accepts every value as is.
const sdkSchema = (schema: Schema.Top, io: "input" | "output"): StandardSchemaWithJSON<unknown, unknown> => {
  const json = jsonSchemaOf(schema, io)
  return {
    "~standard": {
      version: 1,
      vendor: "nessus-mcp",
      validate: (value: unknown) => ({ value }),
      jsonSchema: { input: () => json, output: () => json }
    }
  }
}

const traceparent = /^[\da-f]{2}-([\da-f]{32})-([\da-f]{16})-[\da-f]{2}$/

/**
 * The trace id of a call: the caller's W3C `traceparent` trace id when valid, else a fresh random one.
 *
 * @category tracing
 */
export const traceIdOf = (meta: Readonly<Record<string, unknown>> | undefined): string => {
  const header = meta?.["traceparent"]
  const match = typeof header === "string" ? traceparent.exec(header.trim().toLowerCase()) : null
  // randomUUID draws from a cached entropy pool (randomBytes makes a syscall per call, on every tool call):
  // its 122 random bits, as 32 hex digits, are a valid W3C trace id.
  return match && !/^0+$/.test(match[1]!) ? match[1]! : randomUUID().replace(/-/g, "")
}

/**
 * The caller's span id from a valid W3C `traceparent` in `_meta`, else `undefined`.
 *
 * @category tracing
 */
export const parentSpanIdOf = (meta: Readonly<Record<string, unknown>> | undefined): string | undefined => {
  const header = meta?.["traceparent"]
  const match = typeof header === "string" ? traceparent.exec(header.trim().toLowerCase()) : null
  return match && !/^0+$/.test(match[1]!) && !/^0+$/.test(match[2]!) ? match[2]! : undefined
}

/**
 * The tool a JSON-RPC message calls, when it is one `tools/call` request naming a tool by a string; `undefined`
 * for anything else (other methods, notifications, batches, malformed messages).
 *
 * @category conversions
 */
export const calledTool = (message: unknown): string | undefined => {
  if (typeof message !== "object" || message === null || Array.isArray(message)) return undefined
  const { method, params } = message as { readonly method?: unknown; readonly params?: unknown }
  if (method !== "tools/call" || typeof params !== "object" || params === null) return undefined
  const name = (params as { readonly name?: unknown }).name
  return typeof name === "string" ? name : undefined
}

/**
 * Options of {@link makeFactory}.
 *
 * @category models
 */
export interface FactoryOptions {
  /** Principal recorded when the transport carries no authenticated identity (e.g. `"stdio"`). */
  readonly defaultPrincipal: string
  /**
   * The tool the request an instance is built for calls, when the transport knows it (see {@link calledTool}):
   * such an instance registers only that tool. `undefined` (or a name that is not one of ours) registers all
   * ten, as `tools/list`, `server/discover`, `initialize` and unknown-tool errors need.
   */
  readonly calledToolOf?: ((context: McpRequestContext) => string | undefined) | undefined
}

/**
 * Builds the server factory in the current context (the `ScanService` and `Metrics` to use, and the logger).
 *
 * @category constructors
 */
export const makeFactory = (options: FactoryOptions): Effect.Effect<McpServerFactory, never, ScanService | Metrics> =>
  Effect.gen(function*() {
    const context = yield* Effect.context<ScanService | Metrics>()
    const run = Effect.runPromiseWith(context)
    // The SDK calls the factory for every HTTP request, so everything that does not depend on the request (the
    // JSON Schemas above all: generating them was most of a call's CPU time) is built once, here: the tool
    // configurations and their SDK handlers.
    const tools = bindings(Context.get(context, ScanService)).map((tool) => {
      const definition = tool.definition
      const config = {
        title: definition.title,
        description: definition.description,
        inputSchema: sdkSchema(definition.input, "input"),
        outputSchema: sdkSchema(definition.output, "output"),
        annotations: { ...definition.annotations }
      }
      const handler = (args: unknown, ctx: ServerContext) => {
        const meta = ctx.mcpReq._meta as Record<string, unknown> | undefined
        const call: CallContext = {
          tool: definition.name,
          traceId: traceIdOf(meta),
          parentSpanId: parentSpanIdOf(meta),
          principal: ctx.http?.authInfo?.clientId ?? options.defaultPrincipal,
          signal: ctx.mcpReq.signal
        }
        return run(tool.execute(args, call), { signal: ctx.mcpReq.signal })
      }
      return { name: definition.name, config, handler }
    })
    const byName = new Map(tools.map((tool) => [tool.name, tool]))
    return (requestContext: McpRequestContext) => {
      const server = new McpServer(implementation, { capabilities: { tools: {} }, instructions })
      // An instance serves one request (HTTP) and a `tools/call` only dispatches to the tool it names, so when the
      // transport knows that name the other nine registrations are skipped. The
      // answer is the same: the SDK looks the tool up by name and nothing else in a tools/call reads the others.
      const only = options.calledToolOf === undefined ? undefined : byName.get(options.calledToolOf(requestContext) ?? "")
      for (const { config, handler, name } of only === undefined ? tools : [only]) server.registerTool(name, config, handler)
      return server
    }
  })
