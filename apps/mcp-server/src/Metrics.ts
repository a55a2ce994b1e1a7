/**
 * Prometheus metrics of the MCP server process: Node process metrics plus
 * `nessus_api_requests_total{tool,status}`, counted once per tool call (status `success` or `error`). Each
 * `Metrics` owns its registry, so two servers in one process (tests, `pnpm start`) never collide.
 */
import { Context, Effect, Layer } from "effect"
import * as Prometheus from "prom-client"

/**
 * The registry and the instruments updated by the MCP layer.
 *
 * @category models
 */
export interface Shape {
  readonly registry: Prometheus.Registry
  /** Counts one finished tool call. */
  readonly recordToolCall: (tool: string, status: "success" | "error") => Effect.Effect<void>
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
 * Builds a fresh registry with default process metrics (prefix-free, as Prometheus expects) and the tool counter.
 *
 * @category constructors
 */
export const make: Effect.Effect<Shape> = Effect.sync(() => {
  const registry = new Prometheus.Registry()
  Prometheus.collectDefaultMetrics({ register: registry })
  const apiRequests = new Prometheus.Counter({
    name: "nessus_api_requests_total",
    help: "MCP tool calls served, by tool and outcome (success or error).",
    labelNames: ["tool", "status"] as const,
    registers: [registry]
  })
  return {
    registry,
    recordToolCall: (tool, status) => Effect.sync(() => apiRequests.inc({ tool, status })),
    scrape: Effect.promise(async () => ({ contentType: registry.contentType, body: await registry.metrics() }))
  }
})

/**
 * A `Metrics` with its own registry.
 *
 * @category layers
 */
export const layer: Layer.Layer<Metrics> = Layer.effect(Metrics, make)
