/**
 * Prometheus metrics of the MCP server process (prom-client), updated where the events happen:
 *
 * - `nessus_api_requests_total{tool,status}`: one per tool call; `status` is `ok` or the error code the agent
 *   saw (`INVALID_ARGUMENT`, `TASK_NOT_FOUND`, ..., `INTERNAL`), see `AppError`;
 * - `nessus_scans_total{scan_type,status}`: `queued` for each new submission (not for idempotent replays),
 *   `cancelled` for a queued task cancelled before a worker claimed it (workers count the other transitions);
 * - the shared-state gauges (`nessus_scanner_*`, `nessus_pool_queue_depth`, `nessus_pool_dlq_depth`,
 *   `nessus_instance_queue_depth`), registered by the backend with the worker's collector
 *   (`WorkerMetrics.registerSharedState`), read from the scheduler's store at scrape time;
 * - Node process metrics.
 *
 * Each `Metrics` owns its registry, so two servers in one process (tests, `pnpm start`) never collide; an
 * in-process worker reports into the same registry.
 */
import { WorkerMetrics } from "@nessus-mcp/worker"
import { Context, Effect, Layer } from "effect"
import * as Prometheus from "prom-client"

/**
 * The registry and the instruments updated by the MCP layer.
 *
 * @category models
 */
export interface Shape {
  readonly registry: Prometheus.Registry
  /** Counts one finished tool call: `status` is `ok` or the error code. */
  readonly recordToolCall: (tool: string, status: string) => Effect.Effect<void>
  /** Counts a scan transition seen by the server (`queued` on submission, `cancelled` before any claim). */
  readonly recordScan: (scanType: string, status: "queued" | "cancelled") => Effect.Effect<void>
  /** The exposition text and its content type, for `/metrics`. */
  readonly scrape: Effect.Effect<{ readonly contentType: string; readonly body: string }>
}

/**
 * The metrics service.
 *
 * @category services
 */
export class Metrics extends Context.Service<Metrics, Shape>()("@nessus-mcp/mcp-server/Metrics") {}

/**
 * Builds a fresh registry with default process metrics (prefix-free, as Prometheus expects), the tool counter
 * and the scan counter.
 *
 * @category constructors
 */
export const make: Effect.Effect<Shape> = Effect.sync(() => {
  const registry = new Prometheus.Registry()
  Prometheus.collectDefaultMetrics({ register: registry })
  const apiRequests = new Prometheus.Counter({
    name: "nessus_api_requests_total",
    help: "MCP tool calls served, by tool and status (ok, or the error code returned to the agent).",
    labelNames: ["tool", "status"] as const,
    registers: [registry]
  })
  const scans = WorkerMetrics.scansCounter(registry)
  return {
    registry,
    recordToolCall: (tool, status) => Effect.sync(() => apiRequests.inc({ tool, status })),
    recordScan: (scanType, status) => Effect.sync(() => scans.inc({ scan_type: scanType, status })),
    scrape: Effect.promise(async () => ({ contentType: registry.contentType, body: await registry.metrics() }))
  }
})

/**
 * A `Metrics` with its own registry.
 *
 * @category layers
 */
export const layer: Layer.Layer<Metrics> = Layer.effect(Metrics, make)
