/**
 * The product side of the MCP benchmarks, shared by `bench/serve.ts` (over HTTP) and `bench/handler.ts`
 * (in process): the `SchedulerScanService` on the **in-memory** scheduler (no Redis), `Metrics`, JSON logs at
 * `info` as `nessus-mcp` writes them by default, and one completed task prepared the way a worker leaves it
 * (claimed, findings index built under `DATA_DIR/<task>/index`, completed).
 */
import { McpServer } from "@modelcontextprotocol/server"
import * as Logging from "@nessus-mcp/mcp-server/Logging"
import * as Metrics from "@nessus-mcp/mcp-server/Metrics"
import * as SchedulerScanService from "@nessus-mcp/mcp-server/SchedulerScanService"
import * as ServerConfig from "@nessus-mcp/mcp-server/ServerConfig"
import { Credentials, ScannerConfig, Scheduler } from "@nessus-mcp/scheduler"
import { FindingsIndex } from "@nessus-mcp/validator"
import { Effect, Layer, Option } from "effect"
import { join } from "node:path"

const scannersYaml = `
default_pool: nessus
pools:
  nessus:
    allowed_targets: [10.0.0.0/8, 192.0.2.0/24]
    max_targets: 65536
    scanners:
      - { instance_id: scanner1, name: One, url: "http://127.0.0.1:9", username: u, password: p, max_concurrent_scans: 2 }
`

/** The services of an `ours` server with its data under `dataDir` (logs to stderr unless `sink` is given). */
export const layer = (dataDir: string, sink?: Logging.Sink) =>
  Layer.unwrap(Effect.gen(function*() {
    const config = yield* ServerConfig.load({}, { DATA_DIR: dataDir })
    const backend = Scheduler.layerMemory().pipe(
      Layer.provideMerge(Credentials.layer()),
      Layer.provideMerge(ScannerConfig.layerText(scannersYaml))
    )
    return Layer.mergeAll(SchedulerScanService.layer, Metrics.layer, Logging.layer({ service: "nessus-mcp", level: "Info", sink })).pipe(
      Layer.provideMerge(backend),
      Layer.provide(Layer.succeed(ServerConfig.ServerConfig, config))
    )
  }))

/** Submits, claims, indexes `source` (a `.nessus` export) and completes one task; returns its facts. */
export const completedTask = (source: string, dataDir: string) =>
  Effect.gen(function*() {
    const scheduler = yield* Scheduler.Scheduler
    const { task } = yield* scheduler.submit({ scanType: "untrusted", targets: "10.0.0.0/22", name: "bench" })
    const claim = Option.getOrThrow(yield* scheduler.claim({ worker: "bench-worker" }))
    yield* scheduler.setPhase(claim.lease, "validating", { nessusScanId: 7 })
    const started = performance.now()
    const built = yield* FindingsIndex.build(source, join(dataDir, task.id, "index"), { scanType: "untrusted" })
    const indexMs = performance.now() - started
    yield* scheduler.complete(claim.lease, { validation: built.verdict, authenticationStatus: built.verdict.authentication_status })
    return { taskId: task.id, findings: built.findings, indexMs, indexBytes: built.index_bytes }
  })

/** The bare SDK server's factory: a fresh `McpServer` with one trivial tool per request, as the SDK intends. */
export const bareFactory = () => {
  const server = new McpServer({ name: "bare", version: "1.0.0" }, { capabilities: { tools: {} } })
  server.registerTool("ping", { description: "Answers ok." }, async () => ({ content: [{ type: "text", text: "ok" }] }))
  return server
}
