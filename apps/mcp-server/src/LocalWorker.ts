/**
 * A worker inside the MCP server's process (`@nessus-mcp/worker`'s `Worker.layerComplete`), on the same
 * scheduler as the tools: what makes the in-memory queue usable, and what `nessus-mcp-all-in-one` runs. It
 * writes the findings under the server's `DATA_DIR` and reports its metrics into the server's registry, so
 * `/metrics` shows both.
 */
import type { ScannerConfig, Scheduler } from "@nessus-mcp/scheduler"
import { Worker } from "@nessus-mcp/worker"
import { Effect, Layer } from "effect"
import { Metrics } from "./Metrics.js"
import { ServerConfig } from "./ServerConfig.js"

/**
 * Worker settings besides the data directory (taken from `ServerConfig`): polling, concurrency, housekeeping.
 *
 * @category models
 */
export type Options = Omit<Parameters<typeof Worker.layerComplete>[0], "dataDir" | "metrics">

/**
 * The worker for the lifetime of the layer; its scope closing hands running leases back.
 *
 * @category layers
 */
export const layer = (options: Options = {}): Layer.Layer<never, never, Scheduler.Scheduler | ScannerConfig.ScannerConfig | ServerConfig | Metrics> =>
  Layer.unwrap(
    Effect.gen(function*() {
      const config = yield* ServerConfig
      const metrics = yield* Metrics
      const worker = Worker.layerComplete({
        ...options,
        dataDir: config.dataDir,
        // Process metrics and the shared-state gauges are the server's (the backend registers the latter).
        metrics: { registry: metrics.registry, processMetrics: false, sharedState: false }
      })
      return Layer.effectDiscard(
        Effect.gen(function*() {
          const running = yield* Worker.Worker
          yield* Effect.logInfo(`in-process worker ${running.workerId} claims from every pool; findings go to ${config.dataDir}`)
        })
      ).pipe(Layer.provide(worker))
    })
  )
