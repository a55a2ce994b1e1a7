/**
 * The narrow seam between the MCP surface and the product: one method per tool, taking the decoded
 * arguments and returning the tool's result or an `AppError`. The MCP layer does everything around it
 * (argument decoding and cross-checks, trace ids, metrics, logs, result encoding); an implementation only
 * answers the question. The production implementation composes `@nessus-mcp/scheduler` and
 * `@nessus-mcp/validator`; tests use an in-memory double.
 */
import { Context, Effect, Layer } from "effect"
import { AppError } from "./AppError.js"
import type * as Tools from "./Tools.js"

/**
 * Facts about the tool call being served, handed to every method.
 *
 * @category models
 */
export interface CallContext {
  /** The tool name, e.g. `run_untrusted_scan`. */
  readonly tool: string
  /** 32 lowercase hex digits; taken from the caller's W3C `traceparent` when it sent one. Store it with new tasks. */
  readonly traceId: string
  /** The caller's span id from its `traceparent` (16 lowercase hex digits), when it sent one. */
  readonly parentSpanId?: string | undefined
  /** Who called: the bearer token's name over HTTP, `"stdio"` over stdio. Never the token itself. */
  readonly principal: string
  /** Aborted when the client cancels the request or disconnects. */
  readonly signal: AbortSignal
}

/**
 * The operations behind the ten tools.
 *
 * @category models
 */
export interface Shape {
  readonly runUntrustedScan: (input: Tools.RunUntrustedScanInput, call: CallContext) => Effect.Effect<Tools.SubmitScanOutput, AppError>
  readonly runAuthenticatedScan: (input: Tools.RunAuthenticatedScanInput, call: CallContext) => Effect.Effect<Tools.SubmitScanOutput, AppError>
  readonly getScanStatus: (input: Tools.TaskIdInput, call: CallContext) => Effect.Effect<Tools.ScanStatusOutput, AppError>
  readonly getScanResults: (input: Tools.GetScanResultsInput, call: CallContext) => Effect.Effect<Tools.ScanResultsOutput, AppError>
  readonly listScanners: (input: Tools.PoolInput, call: CallContext) => Effect.Effect<Tools.ListScannersOutput, AppError>
  readonly listPools: (input: Tools.NoInput, call: CallContext) => Effect.Effect<Tools.ListPoolsOutput, AppError>
  readonly getPoolStatus: (input: Tools.PoolInput, call: CallContext) => Effect.Effect<Tools.PoolStatusOutput, AppError>
  readonly getQueueStatus: (input: Tools.PoolInput, call: CallContext) => Effect.Effect<Tools.QueueStatusOutput, AppError>
  readonly listTasks: (input: Tools.ListTasksInput, call: CallContext) => Effect.Effect<Tools.ListTasksOutput, AppError>
  readonly cancelScan: (input: Tools.TaskIdInput, call: CallContext) => Effect.Effect<Tools.CancelScanOutput, AppError>
}

/**
 * The service tag the MCP server resolves its handlers from.
 *
 * @category services
 */
export class ScanService extends Context.Service<ScanService, Shape>()("@nessus-mcp/mcp-server/ScanService") {}

/**
 * A `ScanService` that answers every call with `UNAVAILABLE`: what the server runs with until the
 * scheduler-backed implementation is provided, so transports, health and metrics can be exercised alone.
 *
 * @category layers
 */
export const layerUnavailable: Layer.Layer<ScanService> = Layer.succeed(ScanService, (() => {
  const unavailable = (_input: unknown, call: CallContext) =>
    Effect.fail(
      new AppError({
        reason: "Unavailable",
        message: `The scan backend is not configured on this server, so ${call.tool} cannot run. ` +
          "Ask the operator to start nessus-mcp with the scheduler backend (REDIS_URL / SCANNER_CONFIG)."
      })
    )
  return ScanService.of({
    runUntrustedScan: unavailable,
    runAuthenticatedScan: unavailable,
    getScanStatus: unavailable,
    getScanResults: unavailable,
    listScanners: unavailable,
    listPools: unavailable,
    getPoolStatus: unavailable,
    getQueueStatus: unavailable,
    listTasks: unavailable,
    cancelScan: unavailable
  })
})())
