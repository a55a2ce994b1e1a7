/**
 * The worker's pure parts: configuration, schedules (on the TestClock), failure classification, metric
 * labels, the metric names the dashboards rely on, and the janitor's "only our finished scans" rule.
 */
import { assert, describe, it } from "@effect/vitest"
import { NessusError } from "@nessus-mcp/nessus-client"
import { Simulator } from "@nessus-mcp/nessus-simulator"
import { Credentials, ScannerConfig, Scheduler, Task } from "@nessus-mcp/scheduler"
import { Duration, Effect, Exit, Fiber, Layer, Option, Ref, Schedule } from "effect"
import { TestClock } from "effect/testing"
import { existsSync, readFileSync } from "node:fs"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"
import { Janitor, ScannerClients, StatusServer, Worker, WorkerConfig, WorkerMetrics } from "../src/index.js"
import { scannersYaml } from "./support.js"

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..")

describe("WorkerConfig", () => {
  const base = { SCANNER_CONFIG: "/etc/nessus-mcp/scanners.yaml" }

  it.effect("defaults", () =>
    Effect.gen(function*() {
      const c = yield* WorkerConfig.load(base)
      assert.isTrue(Option.isNone(c.redisUrl))
      assert.strictEqual(c.redisKeyPrefix, "{nessus-mcp}:")
      assert.strictEqual(c.scannerConfig, "/etc/nessus-mcp/scanners.yaml")
      assert.strictEqual(c.concurrency, 4)
      assert.strictEqual(c.metricsHost, "127.0.0.1")
      assert.strictEqual(c.metricsPort, 9090)
      assert.strictEqual(Duration.toMillis(c.shutdownTimeout), 10_000)
      assert.strictEqual(Duration.toMillis(c.pollInitial), 2_000)
      assert.strictEqual(Duration.toMillis(c.pollMax), 30_000)
      assert.deepStrictEqual(Option.map(c.housekeepingInterval, Duration.toMillis), Option.some(3_600_000))
      assert.isTrue(Option.isNone(c.pools))
      assert.strictEqual(c.logLevel, "Info")
      assert.deepStrictEqual(c.retry, { retries: 3, base: c.retry.base, factor: 2, jitter: true })
      assert.strictEqual(Duration.toMillis(Duration.fromInputUnsafe(c.retry.base)), 1_000)
      assert.strictEqual(c.circuit.failureThreshold, 5)
      assert.strictEqual(Duration.toMillis(Duration.fromInputUnsafe(c.circuit.cooldown)), 300_000)
      assert.strictEqual(c.circuit.probeTimeout, "10 minutes")
    }))

  it.effect("retry and circuit policy", () =>
    Effect.gen(function*() {
      const c = yield* WorkerConfig.load({
        ...base,
        WORKER_RETRY_ATTEMPTS: "0",
        WORKER_RETRY_BASE: "250 millis",
        CIRCUIT_FAILURE_THRESHOLD: "2",
        CIRCUIT_COOLDOWN: "3 seconds"
      })
      assert.strictEqual(c.retry.retries, 0)
      assert.strictEqual(Duration.toMillis(Duration.fromInputUnsafe(c.retry.base)), 250)
      assert.strictEqual(c.circuit.failureThreshold, 2)
      assert.strictEqual(Duration.toMillis(Duration.fromInputUnsafe(c.circuit.cooldown)), 3_000)
    }))

  it.effect("lists, durations and switches", () =>
    Effect.gen(function*() {
      const c = yield* WorkerConfig.load({
        ...base,
        REDIS_URL: "redis://:pw@127.0.0.1:6379/0",
        WORKER_POOLS: "nessus, dmz,nessus",
        WORKER_INSTANCES: "scanner1",
        WORKER_POLL_INITIAL: "500 millis",
        HOUSEKEEPING_INTERVAL: "off",
        METRICS_HOST: "0.0.0.0",
        METRICS_PORT: "9464",
        LOG_LEVEL: "WARN"
      })
      assert.deepStrictEqual(c.pools, Option.some(["nessus", "dmz"]))
      assert.deepStrictEqual(c.instances, Option.some(["scanner1"]))
      assert.strictEqual(Duration.toMillis(c.pollInitial), 500)
      assert.isTrue(Option.isNone(c.housekeepingInterval))
      assert.strictEqual(c.metricsPort, 9464)
      assert.strictEqual(c.logLevel, "Warn")
      assert.notInclude(JSON.stringify(c), "pw@", "the Redis URL stays redacted")
    }))

  const refused = (env: Record<string, string>, mention: string) =>
    Effect.gen(function*() {
      const exit = yield* Effect.exit(WorkerConfig.load({ ...base, ...env }))
      assert.isTrue(Exit.isFailure(exit))
      assert.include(String(Exit.isFailure(exit) ? exit.cause : ""), mention)
    })

  it.effect("refuses bad values with the variable's name", () =>
    Effect.gen(function*() {
      yield* refused({ WORKER_CONCURRENCY: "0" }, "WORKER_CONCURRENCY")
      yield* refused({ METRICS_PORT: "70000" }, "METRICS_PORT")
      yield* refused({ LOG_LEVEL: "loud" }, "LOG_LEVEL")
      yield* refused({ WORKER_POOLS: "a b" }, "WORKER_POOLS")
      yield* refused({ WORKER_HEARTBEAT_INTERVAL: "2 minutes" }, "WORKER_HEARTBEAT_INTERVAL")
      yield* refused({ HOUSEKEEPING_INTERVAL: "soon" }, "HOUSEKEEPING_INTERVAL")
      yield* refused({ WORKER_RETRY_ATTEMPTS: "11" }, "WORKER_RETRY_ATTEMPTS must be a whole number between 0 and 10")
      yield* refused({ WORKER_RETRY_ATTEMPTS: "-1" }, "WORKER_RETRY_ATTEMPTS")
      yield* refused({ WORKER_RETRY_ATTEMPTS: "two" }, "WORKER_RETRY_ATTEMPTS")
      yield* refused({ WORKER_RETRY_BASE: "1 millis" }, "WORKER_RETRY_BASE must be a finite duration of at least")
      yield* refused({ WORKER_RETRY_BASE: "soon" }, "WORKER_RETRY_BASE")
      yield* refused({ CIRCUIT_FAILURE_THRESHOLD: "0" }, "CIRCUIT_FAILURE_THRESHOLD must be a whole number between 1 and 100")
      yield* refused({ CIRCUIT_FAILURE_THRESHOLD: "2.5" }, "CIRCUIT_FAILURE_THRESHOLD")
      yield* refused({ CIRCUIT_COOLDOWN: "2 days" }, "CIRCUIT_COOLDOWN must be a finite duration of at least 100ms and at most 1d")
      yield* refused({ CIRCUIT_COOLDOWN: "forever" }, "CIRCUIT_COOLDOWN")
    }))
})

describe("schedules", () => {
  it.effect("polling is fast first, then slower, capped (TestClock)", () =>
    Effect.gen(function*() {
      const polls = yield* Ref.make(0)
      const fiber = yield* Effect.forkChild(
        Effect.repeat(Ref.update(polls, (n) => n + 1), Worker.pollSchedule({ initial: "2 seconds", factor: 2, max: "10 seconds" }))
      )
      const counts: Array<number> = []
      // Polls at 0, 2, 6, 14, 24, 34 s (delays 2, 4, 8, then capped at 10).
      for (const step of [0, 2, 4, 8, 10, 10]) {
        yield* TestClock.adjust(Duration.seconds(step))
        counts.push(yield* Ref.get(polls))
      }
      assert.deepStrictEqual(counts, [1, 2, 3, 4, 5, 6])
      yield* TestClock.adjust("9 seconds")
      assert.strictEqual(yield* Ref.get(polls), 6, "no poll before the 10 s cap elapsed")
      yield* Fiber.interrupt(fiber)
    }))

  it.effect("an idle claim slot waits, a busy one goes again at once (TestClock)", () =>
    Effect.gen(function*() {
      const calls = yield* Ref.make(0)
      const outcomes = [true, true, false, false]
      const fiber = yield* Effect.forkChild(
        Effect.repeat(Ref.getAndUpdate(calls, (n) => n + 1).pipe(Effect.map((n) => outcomes[n] ?? false)), Worker.claimSchedule("1 second"))
      )
      yield* TestClock.adjust("1 millis")
      assert.strictEqual(yield* Ref.get(calls), 3, "two busy iterations run back to back, then the first idle one")
      yield* TestClock.adjust("1 second")
      assert.strictEqual(yield* Ref.get(calls), 4)
      yield* Fiber.interrupt(fiber)
    }))
})

describe("classification and labels", () => {
  const err = (fields: ConstructorParameters<typeof NessusError.NessusError>[0]) => new NessusError.NessusError(fields)

  it("maps Nessus errors to the scheduler's failure reasons", () => {
    assert.strictEqual(Worker.failureReasonOf(err({ reason: "Unauthorized", operation: "session.create", status: 401 })), "auth_rejected")
    assert.strictEqual(Worker.failureReasonOf(err({ reason: "ScanApiUnavailable", operation: "scans.create", status: 412 })), "api_unavailable")
    assert.strictEqual(Worker.failureReasonOf(err({ reason: "ServerError", operation: "scans.details", status: 503 })), "http_5xx")
    assert.strictEqual(Worker.failureReasonOf(err({ reason: "RateLimited", operation: "scans.details", status: 429 })), "rate_limited")
    assert.strictEqual(Worker.failureReasonOf(err({ reason: "Timeout", operation: "scans.details" })), "timeout")
    assert.strictEqual(Worker.failureReasonOf(err({ reason: "Transport", operation: "scans.list", code: "ECONNREFUSED" })), "scanner_down")
    assert.strictEqual(Worker.failureReasonOf(err({ reason: "Transport", operation: "scans.list", code: "ECONNRESET" })), "network")
    assert.strictEqual(Worker.failureReasonOf(err({ reason: "Transport", operation: "scans.list", code: "DEPTH_ZERO_SELF_SIGNED_CERT" })), "internal")
    assert.strictEqual(Worker.failureReasonOf(err({ reason: "InvalidRequest", operation: "scans.create", status: 400 })), "invalid_targets")
  })

  it("labels endpoints without ids or tokens", () => {
    assert.strictEqual(ScannerClients.endpointOf("get", "https://n:8834/scans/42?history_id=7"), "GET /scans/{id}")
    assert.strictEqual(ScannerClients.endpointOf("POST", "http://127.0.0.1:1/scans/42/export"), "POST /scans/{id}/export")
    assert.strictEqual(ScannerClients.endpointOf("GET", "http://127.0.0.1:1/tokens/abcdef0123/download"), "GET /tokens/{token}/download")
  })
})

const memoryScheduler = (yaml: string) =>
  Scheduler.layerMemory().pipe(
    Layer.provideMerge(Credentials.layer()),
    Layer.provideMerge(ScannerConfig.layerText(yaml)),
    Layer.orDie
  )

describe("metrics registry", () => {
  const yaml = scannersYaml([{ id: "scanner1", url: "http://127.0.0.1:9" }, { id: "scanner2", url: "http://127.0.0.1:9", capacity: 3 }])

  it.effect("exposes every metric name the alerts and dashboard expect from a worker", () =>
    Effect.gen(function*() {
      const metrics = yield* WorkerMetrics.WorkerMetrics
      const text = (yield* metrics.scrape).body
      const names = new Set(metrics.registry.getMetricsAsArray().map((m) => m.name))
      assert.include(text, `nessus_scanner_capacity{pool="nessus",scanner_instance="scanner2"} 3`)
      assert.include(text, `nessus_pool_queue_depth{pool="nessus"} 0`)
      const file = join(repoRoot, "config", "prometheus", "metric-names.json")
      // Names only the MCP server records (tool calls happen there).
      const mcpOnly = new Set(["nessus_api_requests_total"])
      const expected = existsSync(file)
        ? Object.entries((JSON.parse(readFileSync(file, "utf8")) as { application: Record<string, { exposed_by: string }> }).application)
          .filter(([name, m]) => m.exposed_by === "worker" || m.exposed_by === "all" || (m.exposed_by === "any" && !mcpOnly.has(name)))
          .map(([name]) => name)
        : ["nessus_scans_total", "nessus_worker_last_heartbeat_timestamp_seconds", "process_cpu_seconds_total"]
      assert.isAbove(expected.length, 2)
      const missing = expected.filter((n) => !names.has(n) && !text.includes(`${n} `) && !text.includes(`${n}{`))
      assert.deepStrictEqual(missing, [])
    }).pipe(Effect.provide(WorkerMetrics.layer().pipe(Layer.provide(memoryScheduler(yaml))))))
})

describe("Janitor", () => {
  it.live("deletes only finished scans of this system, in its folder, older than the cut-off", () =>
    Effect.gen(function*() {
      const sim = yield* Effect.acquireRelease(
        Effect.promise(() => Simulator.start({ scanners: [{ id: "j1", scanDurationMs: 50, exportDelayMs: 10 }] })),
        (s) => Effect.promise(() => s.close())
      )
      const yaml = scannersYaml([{ id: "j1", url: sim.scanner("j1").url }])
      const clients = ScannerClients.layer().pipe(
        Layer.provideMerge(WorkerMetrics.layer({ processMetrics: false })),
        Layer.provideMerge(memoryScheduler(yaml))
      )
      return yield* Effect.gen(function*() {
        const { client, scanner } = yield* (yield* ScannerClients.ScannerClients).forInstance("j1")
        const ours = yield* client.ensureFolder("nessus-mcp")
        const own = (n: number) => Task.scanName(`t_${"a".repeat(21)}${n}`, 1)
        const launch = (name: string, folderId?: number) =>
          Effect.flatMap(client.createScan({ name, targets: "127.0.0.1", ...(folderId !== undefined ? { folderId } : {}) }), (s) =>
            Effect.as(client.launchScan(s.id), s.id))
        const finished = yield* launch(own(1), ours)
        const foreign = yield* launch("quarterly audit", ours)
        const elsewhere = yield* launch(own(2))
        const neverLaunched = (yield* client.createScan({ name: own(3), targets: "127.0.0.1", folderId: ours })).id
        yield* Effect.forEach([finished, foreign, elsewhere], (id) =>
          client.scanProgress(id).pipe(Effect.repeat({ schedule: Schedule.spaced("20 millis"), until: (p) => p.status === "completed", times: 200 })))
        const janitor = yield* Janitor.make({ dataDir: "/nonexistent" })
        const options = { before: new Date(Date.now() + 60_000), isOwnScanName: Task.isOwnScanName }
        assert.strictEqual(yield* janitor.deleteFinishedScans(scanner, { ...options, dryRun: true }), 1)
        assert.strictEqual(yield* janitor.deleteFinishedScans(scanner, { before: new Date(Date.now() - 60_000), isOwnScanName: Task.isOwnScanName, dryRun: false }), 0, "too recent")
        assert.strictEqual(yield* janitor.deleteFinishedScans(scanner, { ...options, dryRun: false }), 1)
        const left = new Set((yield* client.listScans()).map((s) => s.id))
        assert.isFalse(left.has(finished))
        for (const id of [foreign, elsewhere, neverLaunched]) assert.isTrue(left.has(id), `scan ${id} was not ours to delete`)
      }).pipe(Effect.provide(clients))
    }))
})

describe("StatusServer", () => {
  it.live("serves /health/live, a failing /health/ready with the reason, /metrics, and refuses the rest", () =>
    Effect.gen(function*() {
      const address = yield* StatusServer.serve({
        host: "127.0.0.1",
        port: 0,
        readiness: [
          { name: "config", run: Effect.void },
          { name: "scanners", run: Effect.fail("none of 1 scanner(s) answered (scanner1)") }
        ]
      })
      const get = (path: string, method = "GET") =>
        Effect.promise(() => fetch(`${address.url}${path}`, { method }).then(async (r) => ({ status: r.status, type: r.headers.get("content-type"), body: await r.text() })))
      assert.strictEqual((yield* get("/health/live")).status, 200)
      const ready = yield* get("/health/ready")
      assert.strictEqual(ready.status, 503)
      assert.deepStrictEqual(JSON.parse(ready.body), {
        status: "fail",
        checks: { config: { status: "ok" }, scanners: { status: "fail", reason: "none of 1 scanner(s) answered (scanner1)" } }
      })
      assert.strictEqual((yield* get("/health")).status, 503)
      const metrics = yield* get("/metrics")
      assert.strictEqual(metrics.status, 200)
      assert.match(metrics.type ?? "", /^text\/plain; version=0\.0\.4/)
      assert.include(metrics.body, "# TYPE nessus_scans_total counter")
      assert.strictEqual((yield* get("/nope")).status, 404)
      assert.strictEqual((yield* get("/metrics", "POST")).status, 405)
    }).pipe(
      Effect.provide(WorkerMetrics.layer({ processMetrics: false }).pipe(Layer.provide(memoryScheduler(scannersYaml([{ id: "scanner1", url: "http://127.0.0.1:9" }])))))
    ))
})
