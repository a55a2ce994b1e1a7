/**
 * Observability of the worker: every metric it owns moves when its event happens (the shared-state gauges
 * read from Redis through the scheduler's operator API, the task and validation instruments during real
 * scans on the simulator, the housekeeping counter), and with `OTEL_EXPORTER_OTLP_ENDPOINT` set the worker
 * process (`Main.layer`) exports spans carrying the task's trace id, Nessus requests included, to an OTLP
 * collector on 127.0.0.1. Retries, circuit openings and Nessus API calls by status are shown moving in
 * Worker.test.ts (5xx burst, scanner down).
 */
import { assert, describe, it } from "@effect/vitest"
import { Simulator } from "@nessus-mcp/nessus-simulator"
import { Scheduler } from "@nessus-mcp/scheduler"
import { Effect, Exit, Layer, Option, Redacted, Schedule, Scope } from "effect"
import { writeFileSync } from "node:fs"
import { join } from "node:path"
import * as Prometheus from "prom-client"
import { afterAll, beforeAll } from "vitest"
import { startOtlpReceiver } from "../../../config/testing/otlp.js"
import { Logging, Main, Worker, WorkerConfig, WorkerMetrics } from "../src/index.js"
import {
  awaitTask,
  CANARY,
  captureLogs,
  CREDENTIALS_KEY,
  isTerminal,
  metricTotal,
  redisUrl,
  removeTempDirs,
  schedulerLayer,
  scannersYaml,
  simScanners,
  tempDir,
  uniquePrefix,
  workerLayer,
  workerOptions
} from "./support.js"

let sim: Simulator.RunningSimulator

beforeAll(async () => {
  sim = await Simulator.start({
    scanners: [
      { id: "o1", scanDurationMs: 300, exportDelayMs: 20 },
      { id: "o2", scanDurationMs: 300, exportDelayMs: 20 }
    ]
  })
})

afterAll(async () => {
  await sim.close()
  removeTempDirs()
})

/** Polls `read` (real time, bounded) until it returns a value that satisfies `ok`; fails with the last value. */
const eventually = <A>(what: string, read: Effect.Effect<A>, ok: (a: A) => boolean) =>
  read.pipe(
    Effect.repeat({ schedule: Schedule.spaced("50 millis"), until: ok, times: 100 }),
    Effect.tap((a) => Effect.sync(() => assert.isTrue(ok(a), `${what}: last value ${JSON.stringify(a)}`)))
  )

const gauge = (registry: Prometheus.Registry, name: string, labels: Record<string, string>) =>
  Effect.promise(async () => {
    // A full scrape, as Prometheus does it: the shared-state gauges are collected from the store here.
    await registry.metrics()
    return metricTotal(registry, name, labels)
  })

const histogramCount = (registry: Prometheus.Registry, name: string, labels: Record<string, string> = {}) =>
  Effect.promise(async () => {
    const metric = registry.getSingleMetric(name)
    const values = metric === undefined ? [] : (await metric.get()).values
    return values
      .filter((v) => (v as { metricName?: string }).metricName === `${name}_count`)
      .filter((v) => Object.entries(labels).every(([k, val]) => (v.labels as Record<string, unknown>)[k] === val))
      .reduce((n, v) => n + v.value, 0)
  })

describe("worker metrics move with their events", () => {
  it.live("shared-state gauges follow the store: queue depths, active scans, utilisation, DLQ, circuit, enabled", () => {
    const prefix = uniquePrefix()
    const yaml = scannersYaml([
      { id: "o1", url: "http://127.0.0.1:9", capacity: 2 },
      { id: "o2", url: "http://127.0.0.1:9", capacity: 2 }
    ]).replace("        max_concurrent_scans: 2\ncredentials", "        max_concurrent_scans: 2\n        enabled: false\ncredentials")
    const registry = new Prometheus.Registry()
    return Effect.gen(function*() {
      const scheduler = yield* Scheduler.Scheduler
      const g = (name: string, labels: Record<string, string>) => gauge(registry, name, labels)
      assert.strictEqual(yield* g("nessus_scanner_enabled", { scanner_instance: "o1" }), 1)
      assert.strictEqual(yield* g("nessus_scanner_enabled", { scanner_instance: "o2" }), 0, "o2 is disabled in the file")
      assert.strictEqual(yield* g("nessus_scanner_capacity", { scanner_instance: "o1" }), 2)
      assert.strictEqual(yield* g("nessus_pool_queue_depth", { pool: "nessus" }), 0)

      yield* scheduler.submit({ scanType: "untrusted", targets: "127.0.0.1", name: "pool task" })
      yield* scheduler.submit({ scanType: "untrusted", targets: "127.0.0.1", name: "bound task", instance: "o1" })
      yield* eventually("pool queue depth", g("nessus_pool_queue_depth", { pool: "nessus" }), (n) => n === 2)
      yield* eventually("instance queue depth", g("nessus_instance_queue_depth", { pool: "nessus", scanner_instance: "o1" }), (n) => n === 1)

      const claim = Option.getOrThrow(yield* scheduler.claim({ pool: "nessus", worker: "metrics-test" }))
      assert.strictEqual(claim.lease.instanceId, "o1")
      yield* eventually("active scans", g("nessus_scanner_active_scans", { scanner_instance: "o1" }), (n) => n === 1)
      yield* eventually("utilisation", g("nessus_scanner_utilization_pct", { scanner_instance: "o1" }), (n) => n === 50)
      yield* eventually("pool queue depth after the claim", g("nessus_pool_queue_depth", { pool: "nessus" }), (n) => n === 1)

      assert.strictEqual(yield* g("nessus_pool_dlq_depth", { pool: "nessus" }), 0)
      yield* scheduler.fail(claim.lease, { reason: "invalid_targets", message: "refused by Nessus" })
      yield* eventually("DLQ depth", g("nessus_pool_dlq_depth", { pool: "nessus" }), (n) => n === 1)
      yield* eventually("active scans after the failure", g("nessus_scanner_active_scans", { scanner_instance: "o1" }), (n) => n === 0)

      assert.strictEqual(yield* g("nessus_scanner_circuit_state", { scanner_instance: "o1" }), 0)
      for (let i = 0; i < 5; i++) yield* scheduler.reportScanner("o1", "failure")
      yield* eventually("circuit state", g("nessus_scanner_circuit_state", { scanner_instance: "o1" }), (n) => n === 1)
      yield* scheduler.resetCircuit("o1")
      yield* eventually("circuit state after reset", g("nessus_scanner_circuit_state", { scanner_instance: "o1" }), (n) => n === 0)
    }).pipe(
      Effect.provide(WorkerMetrics.layer({ registry, processMetrics: false }).pipe(Layer.provideMerge(schedulerLayer(yaml, prefix))))
    )
  })

  it.live("a completed scan moves scans, task duration, queue wait, validation, API calls and the heartbeat; a failed login moves the failure counters", () => {
    const prefix = uniquePrefix()
    const dataDir = tempDir("metrics")
    const registry = new Prometheus.Registry()
    const logs = captureLogs()
    const layer = workerLayer(dataDir, {}, registry).pipe(Layer.provideMerge(schedulerLayer(scannersYaml(simScanners(sim, ["o1"])), prefix)))
    return Effect.gen(function*() {
      const scheduler = yield* Scheduler.Scheduler
      const heartbeatBefore = yield* gauge(registry, "nessus_worker_last_heartbeat_timestamp_seconds", {})
      assert.strictEqual(yield* histogramCount(registry, "nessus_task_duration_seconds"), 0)
      assert.strictEqual(yield* histogramCount(registry, "nessus_queue_wait_seconds"), 0)

      const ok = (yield* scheduler.submit({ scanType: "untrusted", targets: "127.0.0.1", name: "metrics ok" })).task
      assert.strictEqual((yield* awaitTask(ok.id, isTerminal)).state, "completed")
      assert.strictEqual(yield* Effect.promise(() => metricTotal(registry, "nessus_scans_total", { scan_type: "untrusted", status: "completed" })), 1)
      assert.strictEqual(yield* histogramCount(registry, "nessus_task_duration_seconds", { scan_type: "untrusted", outcome: "completed" }), 1)
      assert.strictEqual(yield* histogramCount(registry, "nessus_queue_wait_seconds"), 1)
      assert.strictEqual(yield* Effect.promise(() => metricTotal(registry, "nessus_validation_total", { pool: "nessus", result: "not_applicable" })), 1)
      assert.isAbove(yield* Effect.promise(() => metricTotal(registry, "nessus_nessus_api_calls_total", { scanner_instance: "o1", endpoint: "GET /scans/{id}", status: "200" })), 0)
      assert.isAbove(yield* gauge(registry, "nessus_worker_last_heartbeat_timestamp_seconds", {}), heartbeatBefore)

      const bad = (yield* scheduler.submit({
        scanType: "authenticated",
        targets: "127.0.0.1",
        name: "metrics wrong password",
        inlineCredential: { type: "ssh", username: "scanuser", password: Redacted.make(CANARY) }
      })).task
      assert.strictEqual((yield* awaitTask(bad.id, isTerminal)).state, "failed")
      assert.strictEqual(yield* Effect.promise(() => metricTotal(registry, "nessus_auth_failures_total", { pool: "nessus", scan_type: "authenticated" })), 1)
      assert.strictEqual(yield* Effect.promise(() => metricTotal(registry, "nessus_validation_failures_total", { pool: "nessus", reason: "authentication_failed" })), 1)
      assert.strictEqual(yield* Effect.promise(() => metricTotal(registry, "nessus_validation_total", { pool: "nessus", result: "failed" })), 1)
      assert.strictEqual(yield* Effect.promise(() => metricTotal(registry, "nessus_scans_total", { scan_type: "authenticated", status: "failed" })), 1)
      assert.strictEqual(yield* histogramCount(registry, "nessus_task_duration_seconds", { scan_type: "authenticated", outcome: "failed" }), 1)
      assert.notInclude(yield* Effect.promise(() => registry.metrics()), CANARY)
    }).pipe(Effect.provide(layer), Effect.provide(logs.layer))
  })

  it.live("housekeeping counts the expired tasks it deletes (nessus_ttl_deletions_total)", () => {
    const prefix = uniquePrefix()
    const dataDir = tempDir("ttl")
    const registry = new Prometheus.Registry()
    const scheduler = schedulerLayer(scannersYaml(simScanners(sim, ["o2"])), prefix, { retention: { cancelled: "1 millis" } })
    return Effect.gen(function*() {
      const s = yield* Scheduler.Scheduler
      const ids = [
        (yield* s.submit({ scanType: "untrusted", targets: "127.0.0.1", name: "expires 1" })).task.id,
        (yield* s.submit({ scanType: "untrusted", targets: "127.0.0.1", name: "expires 2" })).task.id
      ]
      for (const id of ids) yield* s.cancel(id)
      // A worker that claims nothing (no pools) and runs housekeeping every 100 ms.
      const worker = Worker.layerComplete({
        ...workerOptions(dataDir, { pools: [] }),
        housekeeping: { interval: "100 millis" },
        metrics: { registry, processMetrics: false }
      })
      yield* Effect.scoped(Effect.gen(function*() {
        yield* Layer.build(worker)
        const deleted = yield* eventually("ttl deletions", Effect.promise(() => metricTotal(registry, "nessus_ttl_deletions_total")), (n) => n >= 2)
        assert.strictEqual(deleted, 2)
      }))
      for (const id of ids) assert.isTrue(Exit.isFailure(yield* Effect.exit(s.get(id))), `${id} was deleted`)
    }).pipe(Effect.provide(scheduler), Effect.provide(captureLogs().layer))
  })
})

/** The OTLP/HTTP receiver of `config/testing/otlp.ts` for the current scope. */
const collector = Effect.acquireRelease(Effect.promise(startOtlpReceiver), (r) => Effect.promise(() => r.close()))

describe("traces", () => {
  it.live("with OTEL_EXPORTER_OTLP_ENDPOINT the worker process exports its task and Nessus request spans under the task's trace id", () =>
    Effect.gen(function*() {
      const otlp = yield* collector
      const prefix = uniquePrefix()
      const dir = tempDir("otlp")
      const file = join(dir, "scanners.yaml")
      writeFileSync(file, scannersYaml(simScanners(sim, ["o2"])))
      const settings = yield* WorkerConfig.load({
        REDIS_URL: redisUrl(),
        REDIS_KEY_PREFIX: prefix,
        SCANNER_CONFIG: file,
        DATA_DIR: join(dir, "data"),
        CREDENTIALS_KEY,
        METRICS_PORT: "0",
        HOUSEKEEPING_INTERVAL: "off",
        WORKER_POLL_INITIAL: "50 millis",
        WORKER_POLL_MAX: "200 millis",
        WORKER_IDLE_INTERVAL: "50 millis",
        WORKER_HEARTBEAT_INTERVAL: "300 millis",
        OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url,
        OTEL_EXPORTER_OTLP_HEADERS: `authorization=Bearer ${CANARY}`
      })
      assert.isTrue(Option.isSome(settings.otlp))
      assert.notInclude(JSON.stringify(settings), CANARY, "the collector's credentials stay redacted")
      const lines: Array<string> = []
      const scope = yield* Scope.make()
      yield* Layer.buildWithScope(Main.layer(settings).pipe(Layer.provide(Logging.layer({ level: "Debug", sink: (l) => lines.push(l) }))), scope)
      const task = yield* Effect.gen(function*() {
        const scheduler = yield* Scheduler.Scheduler
        const { task } = yield* scheduler.submit({ scanType: "untrusted", targets: "127.0.0.1", name: "traced" })
        const done = yield* awaitTask(task.id, isTerminal)
        assert.strictEqual(done.state, "completed", JSON.stringify(done.errors))
        return task
      }).pipe(Effect.provide(schedulerLayer(scannersYaml(simScanners(sim, ["o2"])), prefix)))
      // Closing the process's layer flushes the exporter.
      yield* Scope.close(scope, Exit.void)
      const traces = otlp.bodies.filter((b) => b.path === "/v1/traces")
      assert.isAbove(traces.length, 0, "spans were exported to <endpoint>/v1/traces")
      assert.match(traces[0]!.type, /protobuf/, "OTLP/HTTP protobuf by default")
      const all = Buffer.concat(traces.map((t) => t.body))
      // Protobuf carries the trace id as its 16 raw bytes; span names as UTF-8.
      assert.isTrue(all.includes(Buffer.from(task.traceId, "hex")), "a span carries the task's trace id")
      // The task span, the Nessus client's operation spans and Effect's HTTP client spans (one per request).
      for (const name of ["worker.task", "NessusClient.scans.launch", "NessusClient.scans.details", "http.request.method", "url.full"]) {
        assert.isTrue(all.includes(Buffer.from(name)), `${name} exported`)
      }
      // Effect records no header values by default; were a filter to enable them, X-Cookie/X-ApiKeys are redacted names.
      assert.isFalse(all.includes(Buffer.from("token=")), "no session cookie value in the spans")
      assert.isFalse(all.includes(Buffer.from(CANARY)), "no secret in the spans")
      const taskLines = lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l["task_id"] === task.id)
      assert.isAbove(taskLines.length, 2)
      assert.isTrue(taskLines.every((l) => l["trace_id"] === task.traceId && l["service"] === "worker" && l["scanner"] === "o2"))
    }).pipe(Effect.scoped))
})
