/**
 * The MCP server's `/metrics`: the exposition content type; each metric it owns moving when its event happens
 * (tool calls by status, submissions and queued cancellations in `nessus_scans_total`, and the shared-state
 * gauges read from Redis through the scheduler's operator API, the same truth the `get_pool_status` tool
 * reads); and every application metric of config/prometheus/metric-names.json registered where it must be.
 */
import { assert, describe, it } from "@effect/vitest"
import { Credentials, Redis, ScannerConfig, Scheduler } from "@nessus-mcp/scheduler"
import { WorkerMetrics } from "@nessus-mcp/worker"
import { Context, Effect, Layer, Option } from "effect"
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import * as Prometheus from "prom-client"
import * as Backend from "../src/Backend.js"
import * as Metrics from "../src/Metrics.js"
import { connectHttp } from "./support/harness.js"
import { repoRoot, scannersYaml } from "./support/e2e.js"
import { eventually, scrape, serveProgram, valueIn } from "./support/observability.js"

const redisUrl = process.env["REDIS_URL"] ?? ""

describe("MCP server metrics", () => {
  it.live("/metrics moves with tool calls, submissions, cancellations and the shared state in Redis", () =>
    Effect.gen(function*() {
      const dir = yield* Effect.acquireRelease(
        Effect.sync(() => mkdtempSync(join(tmpdir(), "nessus-mcp-metrics-"))),
        (d) => Effect.sync(() => rmSync(d, { recursive: true, force: true }))
      )
      const file = join(dir, "scanners.yaml")
      writeFileSync(file, scannersYaml(["http://127.0.0.1:9", "http://127.0.0.1:10"]))
      const prefix = `{mcp-metrics-${Date.now()}}:`
      const running = yield* serveProgram(
        { REDIS_URL: redisUrl, REDIS_KEY_PREFIX: prefix, SCANNER_CONFIG: file, DATA_DIR: join(dir, "data") },
        Backend.layer({ worker: "never" }),
        []
      )
      // The worker's side, played through the scheduler's own API on the same Redis and prefix.
      const admin = yield* Layer.build(
        Scheduler.layerRedis({ prefix }).pipe(
          Layer.provide(Credentials.layer()),
          Layer.provide(ScannerConfig.layer({ path: file })),
          Layer.provide(Redis.layer({ url: redisUrl })),
          Layer.orDie
        )
      )
      const scheduler = Context.get(admin, Scheduler.Scheduler)
      const client = yield* connectHttp(running.mcpUrl)
      const call = (name: string, args: Record<string, unknown>) => Effect.promise(() => client.callTool({ name, arguments: args }) as Promise<any>)
      const text = Effect.map(scrape(running.baseUrl), (s) => s.text)
      const until = (name: string, labels: Record<string, string>, expected: number) =>
        Effect.gen(function*() {
          const last = yield* eventually(text, (t) => valueIn(t, name, labels) === expected)
          assert.strictEqual(valueIn(last, name, labels), expected, `${name}${JSON.stringify(labels)}`)
        })

      const first = yield* scrape(running.baseUrl)
      assert.strictEqual(first.status, 200)
      assert.match(first.type, /^text\/plain; version=0\.0\.4; charset=utf-8/)
      assert.include(first.text, "process_cpu_user_seconds_total")
      assert.strictEqual(valueIn(first.text, "nessus_scanner_capacity", { pool: "nessus", scanner_instance: "scanner2" }), 2)
      assert.strictEqual(valueIn(first.text, "nessus_scanner_enabled", { scanner_instance: "scanner1" }), 1)
      assert.include(first.text, `nessus_pool_queue_depth{pool="nessus"} 0`)
      assert.include(first.text, `nessus_pool_dlq_depth{pool="nessus"} 0`)

      // Submissions: queued once per new task (not for an idempotent replay), tool calls by status.
      const submitted = (yield* call("run_untrusted_scan", { targets: "192.0.2.10", name: "metrics a", idempotency_key: "metrics-a" })).structuredContent
      yield* call("run_untrusted_scan", { targets: "192.0.2.10", name: "metrics a", idempotency_key: "metrics-a" })
      const bound = (yield* call("run_untrusted_scan", { targets: "192.0.2.11", name: "metrics b", scanner_instance: "scanner2" })).structuredContent
      const third = (yield* call("run_untrusted_scan", { targets: "192.0.2.12", name: "metrics c" })).structuredContent
      yield* call("get_scan_status", { task_id: "t_doesnotexist000000000000" })
      yield* call("get_scan_results", { task_id: submitted.task_id, page_size: 1000 })
      const afterCalls = yield* text
      assert.strictEqual(valueIn(afterCalls, "nessus_scans_total", { scan_type: "untrusted", status: "queued" }), 3)
      assert.strictEqual(valueIn(afterCalls, "nessus_api_requests_total", { tool: "run_untrusted_scan", status: "ok" }), 4)
      assert.strictEqual(valueIn(afterCalls, "nessus_api_requests_total", { tool: "get_scan_status", status: "TASK_NOT_FOUND" }), 1)
      assert.strictEqual(valueIn(afterCalls, "nessus_api_requests_total", { tool: "get_scan_results", status: "INVALID_ARGUMENT" }), 1)
      yield* until("nessus_pool_queue_depth", { pool: "nessus" }, 3)
      yield* until("nessus_instance_queue_depth", { pool: "nessus", scanner_instance: "scanner2" }, 1)
      const pool = (yield* call("get_pool_status", {})).structuredContent
      assert.strictEqual(pool.queue_depth, valueIn(yield* text, "nessus_pool_queue_depth", { pool: "nessus" }), "the gauge and the tool read the same store")

      // Cancelling a queued task ends it here (no worker will count it).
      yield* call("cancel_scan", { task_id: third.task_id })
      assert.strictEqual(valueIn(yield* text, "nessus_scans_total", { scan_type: "untrusted", status: "cancelled" }), 1)
      yield* until("nessus_pool_queue_depth", { pool: "nessus" }, 2)

      // A worker claims (active scans, utilisation), then fails the task permanently (DLQ).
      const claim = Option.getOrThrow(yield* scheduler.claim({ pool: "nessus", worker: "metrics-test", instances: ["scanner2"] }))
      assert.include([submitted.task_id, bound.task_id], claim.task.id)
      yield* until("nessus_scanner_active_scans", { scanner_instance: "scanner2" }, 1)
      yield* until("nessus_scanner_utilization_pct", { scanner_instance: "scanner2" }, 50)
      yield* until("nessus_pool_queue_depth", { pool: "nessus" }, 1)
      yield* scheduler.fail(claim.lease, { reason: "invalid_targets", message: "refused by Nessus" })
      yield* until("nessus_pool_dlq_depth", { pool: "nessus" }, 1)
      yield* until("nessus_scanner_active_scans", { scanner_instance: "scanner2" }, 0)

      // Scanner failures reported by workers open the circuit; an operator reset closes it.
      for (let i = 0; i < 5; i++) yield* scheduler.reportScanner("scanner1", "failure")
      yield* until("nessus_scanner_circuit_state", { scanner_instance: "scanner1" }, 1)
      yield* scheduler.resetCircuit("scanner1")
      yield* until("nessus_scanner_circuit_state", { scanner_instance: "scanner1" }, 0)
    }).pipe(Effect.scoped))

  it.effect("every application metric of config/prometheus/metric-names.json is registered by the process that must expose it", () =>
    Effect.gen(function*() {
      const file = JSON.parse(readFileSync(join(repoRoot, "config", "prometheus", "metric-names.json"), "utf8")) as {
        application: Record<string, { readonly exposed_by: "all" | "any" | "worker"; readonly type: string }>
      }
      // The MCP server's registry as Main builds it with the backend (shared-state gauges included) ...
      const server = yield* Metrics.make
      yield* WorkerMetrics.registerSharedState(server.registry)
      // ... and a worker's.
      const worker = yield* WorkerMetrics.make({ registry: new Prometheus.Registry() })
      const has = (registry: Prometheus.Registry, name: string) => registry.getSingleMetric(name) !== undefined
      const problems: Array<string> = []
      for (const [name, { exposed_by, type }] of Object.entries(file.application)) {
        const where = { server: has(server.registry, name), worker: has(worker.registry, name) }
        const ok = exposed_by === "all" ? where.server && where.worker : exposed_by === "worker" ? where.worker : where.server || where.worker
        if (!ok) problems.push(`${name} (${exposed_by}): server ${where.server}, worker ${where.worker}`)
        const metric = server.registry.getSingleMetric(name) ?? worker.registry.getSingleMetric(name)
        if (metric !== undefined && String((yield* Effect.promise(() => metric.get())).type) !== type) problems.push(`${name} is not a ${type}`)
      }
      assert.deepStrictEqual(problems, [])
      assert.isAbove(Object.keys(file.application).length, 20)
      // What the MCP server itself must show besides the process metrics.
      for (const name of [
        "nessus_api_requests_total",
        "nessus_scans_total",
        "nessus_scanner_active_scans",
        "nessus_scanner_capacity",
        "nessus_scanner_utilization_pct",
        "nessus_scanner_enabled",
        "nessus_scanner_circuit_state",
        "nessus_pool_queue_depth",
        "nessus_pool_dlq_depth",
        "nessus_instance_queue_depth"
      ]) assert.isTrue(has(server.registry, name), `${name} on the MCP server`)
    }).pipe(
      Effect.provide(
        Scheduler.layerMemory().pipe(
          Layer.provideMerge(Credentials.layer()),
          Layer.provideMerge(ScannerConfig.layerText(scannersYaml(["http://127.0.0.1:9"]))),
          Layer.orDie
        )
      )
    ))
})
