/**
 * End-to-end behaviour of the worker, in process: a real Redis (one key prefix per test) and the simulator
 * over real HTTP. Each test builds its own scheduler and worker layers.
 */
import { assert, describe, it } from "@effect/vitest"
import { Simulator } from "@nessus-mcp/nessus-simulator"
import { Scheduler, Task } from "@nessus-mcp/scheduler"
import { Logging, Main, Worker, WorkerConfig } from "../src/index.js"
import { FindingsIndex } from "@nessus-mcp/validator"
import { Effect, Layer, Option, Redacted, Schedule, Scope } from "effect"
import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import * as Prometheus from "prom-client"
import { afterAll, beforeAll } from "vitest"
import {
  awaitTask,
  CANARY,
  CREDENTIALS_KEY,
  captureLogs,
  isTerminal,
  metricTotal,
  redisUrl,
  schedulerLayer,
  scannersYaml,
  simScanners,
  tempDir,
  uniquePrefix,
  workerLayer,
  workerOptions,
  removeTempDirs
} from "./support.js"

let sim: Simulator.RunningSimulator

beforeAll(async () => {
  sim = await Simulator.start({
    scanners: [
      { id: "scanner1", scanDurationMs: 400, exportDelayMs: 30 },
      { id: "scanner2", scanDurationMs: 400, exportDelayMs: 30 },
      { id: "slow", scanDurationMs: 20_000, exportDelayMs: 30 }
    ]
  })
})

afterAll(async () => {
  await sim.close()
  removeTempDirs()
})

const filesUnder = (dir: string): Array<string> =>
  readdirSync(dir).flatMap((name) => {
    const path = join(dir, name)
    return statSync(path).isDirectory() ? filesUnder(path) : [path]
  })

/** One scheduler + one worker over the given scanners; returns what tests inspect. */
const setup = (ids: ReadonlyArray<string>, extra: { readonly scheduler?: Partial<Scheduler.RedisOptions> } = {}) => {
  const prefix = uniquePrefix()
  const dataDir = tempDir("data")
  const registry = new Prometheus.Registry()
  const logs = captureLogs()
  const scheduler = schedulerLayer(scannersYaml(simScanners(sim, ids)), prefix, extra.scheduler)
  const layer = workerLayer(dataDir, {}, registry).pipe(Layer.provideMerge(scheduler))
  const run = <A, E>(effect: Effect.Effect<A, E, Scheduler.Scheduler>) =>
    effect.pipe(Effect.provide(layer), Effect.provide(logs.layer))
  return { prefix, dataDir, registry, logs, run, layer }
}

const launchedOnce = (instance: string, scanName: string | undefined) => {
  assert.isDefined(scanName)
  const stats = sim.scanner(instance).stats()
  assert.strictEqual(stats.scans_created[scanName as string], 1, "created exactly once")
  assert.strictEqual(stats.scans_launched[scanName as string], 1, "launched exactly once")
}

describe("Worker", () => {
  it.live("runs an untrusted scan to completion: export, verdict, findings index, metrics", () => {
    const prefix = uniquePrefix()
    const dataDir = tempDir("data")
    const registry = new Prometheus.Registry()
    const logs = captureLogs()
    const layer = workerLayer(dataDir, {}, registry).pipe(Layer.provideMerge(schedulerLayer(scannersYaml(simScanners(sim, ["scanner1"])), prefix)))
    return Effect.gen(function*() {
      const scheduler = yield* Scheduler.Scheduler
      const { task } = yield* scheduler.submit({ scanType: "untrusted", targets: "127.0.0.1", name: "web frontend" })
      const done = yield* awaitTask(task.id, isTerminal)
      assert.strictEqual(done.state, "completed", JSON.stringify(done.errors))
      assert.strictEqual(done.authenticationStatus, "not_applicable")
      const validation = done.validation as { hosts_scanned: number; total_vulnerabilities: number; severity_breakdown: Record<string, number>; file_size_kb: number; valid: boolean }
      assert.isTrue(validation.valid)
      assert.strictEqual(validation.hosts_scanned, 1)
      assert.isAbove(validation.file_size_kb, 0)
      assert.deepStrictEqual(Object.keys(validation.severity_breakdown).sort(), ["critical", "high", "info", "low", "medium"])
      assert.isDefined(done.artifacts)
      const artifacts = done.artifacts as Record<string, string>
      assert.strictEqual(artifacts["nessus"], join(dataDir, task.id, "scan.nessus"))
      const page = yield* FindingsIndex.query(artifacts["index"] as string, { profile: "minimal", page_size: 5 })
      assert.isAbove(page.total, 0)
      assert.isTrue(Object.prototype.hasOwnProperty.call(page.findings[0], "plugin_id"))
      const status = JSON.parse(readFileSync(artifacts["status"] as string, "utf8"))
      assert.strictEqual(status.progress, 100)
      assert.strictEqual(done.progress, 100, "the progress reported at every poll lands on the task")
      assert.strictEqual(status.validation.hosts_scanned, 1)
      assert.deepStrictEqual(filesUnder(join(dataDir, task.id)).filter((f) => f.endsWith(".part")), [], "no temporary export left")
      launchedOnce("scanner1", done.scanName)
      assert.strictEqual(yield* Effect.promise(() => metricTotal(registry, "nessus_scans_total", { scan_type: "untrusted", status: "completed" })), 1)
      assert.strictEqual(yield* Effect.promise(() => metricTotal(registry, "nessus_validation_total", { pool: "nessus", result: "not_applicable" })), 1)
      assert.isAbove(yield* Effect.promise(() => metricTotal(registry, "nessus_nessus_api_calls_total", { scanner_instance: "scanner1", endpoint: "POST /scans/{id}/launch", status: "200" })), 0)
      const lines = logs.lines.map((l) => JSON.parse(l) as Record<string, unknown>)
      const taskLines = lines.filter((l) => l["task_id"] === task.id)
      assert.isAbove(taskLines.length, 2)
      assert.isTrue(taskLines.every((l) => l["service"] === "worker" && l["trace_id"] === task.traceId && l["scanner"] === "scanner1" && typeof l["time"] === "string"))
    }).pipe(Effect.provide(layer), Effect.provide(logs.layer))
  })

  it.live("runs an authenticated scan with a named credential: verdict success", () => {
    const env = setup(["scanner1"])
    return env.run(Effect.gen(function*() {
      const scheduler = yield* Scheduler.Scheduler
      const { task } = yield* scheduler.submit({ scanType: "authenticated", targets: "127.0.0.1", name: "db", credential: "linux-admin" })
      const done = yield* awaitTask(task.id, isTerminal)
      assert.strictEqual(done.state, "completed", JSON.stringify(done.errors))
      assert.strictEqual(done.authenticationStatus, "success")
      assert.strictEqual((done.validation as { credentialed_hosts: number }).credentialed_hosts, 1)
      launchedOnce("scanner1", done.scanName)
    }))
  })

  it.live("fails a scan whose credentials were rejected (authentication_failed, DLQ) and keeps its findings readable; the canary password never leaks", () => {
    const env = setup(["scanner1"])
    return env.run(Effect.gen(function*() {
      const scheduler = yield* Scheduler.Scheduler
      const { task } = yield* scheduler.submit({
        scanType: "authenticated",
        targets: "127.0.0.1",
        name: "wrong password",
        inlineCredential: { type: "ssh", username: "scanuser", password: Redacted.make(CANARY) }
      })
      const done = yield* awaitTask(task.id, isTerminal)
      assert.strictEqual(done.state, "failed")
      const last = done.errors[done.errors.length - 1]
      assert.strictEqual(last?.reason, "authentication_failed")
      assert.include(last?.message, "127.0.0.1")
      assert.include(last?.message, "Troubleshooting")
      assert.strictEqual(done.errors.length, 1, "permanent: no retry")
      const dlq = yield* scheduler.dlqList("nessus")
      assert.deepStrictEqual(dlq.entries.map((e) => e.task.id), [task.id])
      const paths = { index: join(env.dataDir, task.id, "index"), status: join(env.dataDir, task.id, "status.json") }
      const page = yield* FindingsIndex.query(paths.index, { profile: "minimal" })
      assert.isAbove(page.total, 0, "findings stay readable")
      const status = JSON.parse(readFileSync(paths.status, "utf8"))
      assert.strictEqual(status.authentication_status, "failed")
      assert.deepStrictEqual(status.validation.failed_hosts, ["127.0.0.1"])
      assert.isAbove(status.validation.troubleshooting.length, 2)
      launchedOnce("scanner1", done.scanName)
      // the failed task carries its validation summary, authentication status and artifacts location
      assert.strictEqual(done.authenticationStatus, "failed")
      const validation = done.validation as { valid: boolean; error: { code: string } | null; failed_hosts: ReadonlyArray<string>; troubleshooting: ReadonlyArray<string> }
      assert.strictEqual(validation.error?.code, "authentication_failed")
      assert.deepStrictEqual(validation.failed_hosts, ["127.0.0.1"])
      assert.deepStrictEqual(validation.troubleshooting, status.validation.troubleshooting)
      assert.deepStrictEqual(done.artifacts, { nessus: join(env.dataDir, task.id, "scan.nessus"), index: paths.index, status: paths.status })
      const entry = yield* scheduler.dlqInspect(task.id)
      assert.strictEqual(entry.task.authenticationStatus, "failed")
      assert.deepStrictEqual(entry.task.artifacts, done.artifacts)

      // The canary password: nowhere in logs, Redis, the DLQ, metrics or artifacts.
      const everywhere = [
        ...env.logs.lines,
        ...(yield* scheduler.dump),
        JSON.stringify(dlq),
        JSON.stringify(yield* scheduler.dlqInspect(task.id)),
        ...filesUnder(join(env.dataDir, task.id)).map((f) => readFileSync(f, "latin1"))
      ]
      assert.isAbove(everywhere.length, 5)
      for (const text of everywhere) assert.notInclude(text, CANARY)
      assert.notInclude(yield* Effect.promise(() => env.registry.metrics()), CANARY)
    }))
  })

  it.live("a privileged scan whose escalation fails is partial: completed, valid, with a warning", () => {
    const env = setup(["scanner1"])
    return env.run(Effect.gen(function*() {
      const scheduler = yield* Scheduler.Scheduler
      const { task } = yield* scheduler.submit({
        scanType: "authenticated_privileged",
        targets: "127.0.0.1",
        name: "priv",
        inlineCredential: {
          type: "ssh",
          username: "scanuser",
          password: Redacted.make("scanpass"),
          elevatePrivilegesWith: "sudo",
          escalationPassword: Redacted.make("not-the-sudo-password")
        }
      })
      const done = yield* awaitTask(task.id, isTerminal)
      assert.strictEqual(done.state, "completed", JSON.stringify(done.errors))
      assert.strictEqual(done.authenticationStatus, "partial")
      const validation = done.validation as { valid: boolean; warnings: ReadonlyArray<string> }
      assert.isTrue(validation.valid)
      assert.isAbove(validation.warnings.length, 0)
    }))
  })

  it.live("cancelling a running task stops the scan on Nessus and frees the slot", () => {
    const env = setup(["slow"])
    return env.run(Effect.gen(function*() {
      const scheduler = yield* Scheduler.Scheduler
      const { task } = yield* scheduler.submit({ scanType: "untrusted", targets: "127.0.0.1", name: "to cancel" })
      const running = yield* awaitTask(task.id, (t) => t.phase === "polling" && (t.progress ?? 0) > 0)
      assert.isBelow(running.progress ?? 100, 100, "the progress moves while the scan runs")
      assert.strictEqual(sim.scanner("slow").stats().running_now, 1)
      yield* scheduler.cancel(task.id)
      yield* Effect.gen(function*() {
        const [s] = yield* scheduler.scanners()
        if (s === undefined || s.running !== 0) return yield* Effect.fail("still running")
      }).pipe(Effect.retry({ schedule: Schedule.spaced("50 millis"), times: 200 }))
      const done = yield* scheduler.get(task.id)
      assert.strictEqual(done.state, "cancelled")
      const stats = sim.scanner("slow").stats()
      assert.strictEqual(stats.running_now, 0, "the scan was stopped on the scanner")
      assert.strictEqual(stats.scans_launched[done.scanName as string], 1)
      assert.isAbove(stats.api_calls["POST /scans/{id}/stop"] ?? 0, 0)
    }))
  })

  it.live("a worker restricted to some instances starts scans only there (the scheduler filters its claims)", () => {
    const env = setup(["scanner1", "scanner2"])
    const layer = workerLayer(env.dataDir, { instances: ["scanner2"] }).pipe(
      Layer.provideMerge(schedulerLayer(scannersYaml(simScanners(sim, ["scanner1", "scanner2"])), env.prefix))
    )
    return Effect.gen(function*() {
      const scheduler = yield* Scheduler.Scheduler
      const pooled = [
        (yield* scheduler.submit({ scanType: "untrusted", targets: "127.0.0.1", name: "pool 1" })).task.id,
        (yield* scheduler.submit({ scanType: "untrusted", targets: "127.0.0.1", name: "pool 2" })).task.id
      ]
      const bound = (yield* scheduler.submit({ scanType: "untrusted", targets: "127.0.0.1", name: "for scanner1", instance: "scanner1" })).task
      const done = yield* Effect.forEach(pooled, (id) => awaitTask(id, isTerminal))
      assert.deepStrictEqual(done.map((t) => [t.state, t.instance]), [["completed", "scanner2"], ["completed", "scanner2"]])
      for (const t of done) launchedOnce("scanner2", t.scanName)
      const waiting = yield* scheduler.get(bound.id)
      assert.strictEqual(waiting.state, "queued", "a task bound to a scanner the worker may not use stays queued")
      assert.strictEqual(sim.scanner("scanner1").stats().scans_created[Task.scanName(bound.id, 1)], undefined)
      yield* scheduler.cancel(bound.id)
    }).pipe(Effect.provide(layer), Effect.provide(env.logs.layer))
  })

  it.live("retries a transient 5xx burst in place without creating or launching twice", () => {
    const env = setup(["scanner2"])
    return env.run(Effect.gen(function*() {
      const scheduler = yield* Scheduler.Scheduler
      sim.scanner("scanner2").setFaults({ errorBurst: { status: 503, count: 6 } })
      const { task } = yield* scheduler.submit({ scanType: "untrusted", targets: "127.0.0.1", name: "flaky" })
      const done = yield* awaitTask(task.id, isTerminal).pipe(Effect.ensuring(Effect.sync(() => sim.scanner("scanner2").setFaults({}))))
      assert.strictEqual(done.state, "completed", JSON.stringify(done.errors))
      assert.strictEqual(done.attempt, 1, "absorbed by in-place retries")
      launchedOnce("scanner2", done.scanName)
      assert.isAbove(yield* Effect.promise(() => metricTotal(env.registry, "nessus_retries_total", { reason: "http_5xx" })), 0)
      assert.isAbove(yield* Effect.promise(() => metricTotal(env.registry, "nessus_nessus_api_calls_total", { scanner_instance: "scanner2", status: "503" })), 0)
    }))
  })

  it.live("a scanner that is down fails the attempt, opens its circuit, and the task completes after the cooldown", () => {
    const registry = new Prometheus.Registry()
    const prefix = uniquePrefix()
    const dataDir = tempDir("data")
    const logs = captureLogs()
    const layer = workerLayer(dataDir, { retry: { retries: 1, base: "10 millis", factor: 2, jitter: false } }, registry).pipe(
      Layer.provideMerge(schedulerLayer(scannersYaml(simScanners(sim, ["scanner2"])), prefix, {
        circuit: { failureThreshold: 1, cooldown: "300 millis", probeTimeout: "10 seconds" }
      }))
    )
    return Effect.gen(function*() {
      const scheduler = yield* Scheduler.Scheduler
      sim.scanner("scanner2").setFaults({ down: true })
      const { task } = yield* scheduler.submit({ scanType: "untrusted", targets: "127.0.0.1", name: "down" })
      const first = yield* awaitTask(task.id, (t) => t.errors.length >= 1).pipe(
        Effect.ensuring(Effect.sync(() => sim.scanner("scanner2").setFaults({})))
      )
      assert.include(["scanner_down", "network"], first.errors[0]?.reason)
      const done = yield* awaitTask(task.id, isTerminal)
      assert.strictEqual(done.state, "completed", JSON.stringify(done.errors))
      assert.strictEqual(done.attempt, 2)
      const transitions = (yield* scheduler.circuitTransitions()).map((t) => `${t.from}->${t.to}`).reverse()
      assert.deepStrictEqual(transitions, ["closed->open", "open->half_open", "half_open->closed"])
      assert.strictEqual(yield* Effect.promise(() => metricTotal(registry, "nessus_circuit_opens_total", { scanner_instance: "scanner2" })), 1)
      assert.strictEqual(yield* Effect.promise(() => metricTotal(registry, "nessus_scans_total", { status: "retrying" })), 1)
      assert.isAbove(yield* Effect.promise(() => metricTotal(registry, "nessus_retries_total")), 1)
      assert.isAbove(yield* Effect.promise(() => metricTotal(registry, "nessus_nessus_api_calls_total", { status: "error" })), 0)
    }).pipe(Effect.provide(layer), Effect.provide(logs.layer))
  })

  it.live("the process takes its retry and circuit policy from the environment: WORKER_RETRY_*, CIRCUIT_* (Main.layer)", () =>
    Effect.gen(function*() {
      const prefix = uniquePrefix()
      const dir = tempDir("policy")
      const file = join(dir, "scanners.yaml")
      const yaml = scannersYaml(simScanners(sim, ["scanner2"]))
      writeFileSync(file, yaml)
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
        WORKER_RETRY_ATTEMPTS: "0",
        WORKER_RETRY_BASE: "50 millis",
        CIRCUIT_FAILURE_THRESHOLD: "2",
        CIRCUIT_COOLDOWN: "300 millis"
      })
      assert.deepStrictEqual(settings.retry, { retries: 0, base: settings.retry.base, factor: 2, jitter: true })
      yield* Layer.buildWithScope(Main.layer(settings).pipe(Layer.provide(Logging.layer({ level: "Warn", sink: () => undefined }))), yield* Scope.Scope)
      yield* Effect.gen(function*() {
        const scheduler = yield* Scheduler.Scheduler
        sim.scanner("scanner2").setFaults({ down: true })
        const { task } = yield* scheduler.submit({ scanType: "untrusted", targets: "127.0.0.1", name: "policy from env" })
        // No in-place retries: the first failure is reported after the client's own read retries (~2 s); the
        // default policy (3 retries after 1 s, 2 s, 4 s, each redoing those reads) would take over 12 s.
        const first = yield* awaitTask(task.id, (t) => t.errors.length >= 1, "6 seconds").pipe(
          Effect.tapError(() => Effect.sync(() => sim.scanner("scanner2").setFaults({})))
        )
        assert.include(["scanner_down", "network"], first.errors[0]?.reason)
        // The second consecutive failure opens the circuit (threshold 2, not the default 5)...
        const opened = yield* scheduler.circuitTransitions().pipe(
          Effect.repeat({ schedule: Schedule.spaced("50 millis"), until: (ts) => ts.some((t) => t.to === "open") }),
          Effect.timeout("10 seconds"),
          Effect.ensuring(Effect.sync(() => sim.scanner("scanner2").setFaults({})))
        )
        assert.strictEqual(opened.find((t) => t.to === "open")?.reason, "2 consecutive failures")
        // ...and it closes by itself after the 300 ms cooldown (not 5 minutes) through a successful probe.
        const done = yield* awaitTask(task.id, isTerminal, "20 seconds")
        assert.strictEqual(done.state, "completed", JSON.stringify(done.errors))
        assert.strictEqual(done.attempt, 3)
        const transitions = (yield* scheduler.circuitTransitions()).map((t) => `${t.from}->${t.to}`).reverse()
        assert.deepStrictEqual(transitions, ["closed->open", "open->half_open", "half_open->closed"])
      }).pipe(Effect.provide(schedulerLayer(yaml, prefix)))
    }).pipe(Effect.scoped))

  it.live("a permanent failure (412 API not available with api_mode api) goes straight to the DLQ", () => {
    const prefix = uniquePrefix()
    const dataDir = tempDir("data")
    const logs = captureLogs()
    const yaml = scannersYaml([{ id: "scanner1", url: sim.scanner("scanner1").url, apiMode: "api" }])
    const layer = workerLayer(dataDir).pipe(Layer.provideMerge(schedulerLayer(yaml, prefix)))
    return Effect.gen(function*() {
      const scheduler = yield* Scheduler.Scheduler
      sim.scanner("scanner1").setFaults({ scanCreate412: true })
      const { task } = yield* scheduler.submit({ scanType: "untrusted", targets: "127.0.0.1", name: "gated" })
      const done = yield* awaitTask(task.id, isTerminal).pipe(Effect.ensuring(Effect.sync(() => sim.scanner("scanner1").setFaults({}))))
      assert.strictEqual(done.state, "failed")
      assert.strictEqual(done.errors.length, 1)
      assert.strictEqual(done.errors[0]?.reason, "api_unavailable")
      assert.include(done.errors[0]?.message, "web-ui")
      assert.isTrue(Option.isSome(Option.fromUndefinedOr((yield* scheduler.dlqList("nessus")).entries.find((e) => e.task.id === task.id))))
    }).pipe(Effect.provide(layer), Effect.provide(logs.layer))
  })

  it.live("housekeeping stops a scan that ran past the maximum duration on Nessus and marks the task timeout", () => {
    const prefix = uniquePrefix()
    const dataDir = tempDir("data")
    const logs = captureLogs()
    const registry = new Prometheus.Registry()
    const layer = Worker.layerComplete({
      ...workerOptions(dataDir),
      housekeeping: { interval: "300 millis", scanRetention: "1 hour" },
      metrics: { registry, processMetrics: false }
    }).pipe(Layer.provideMerge(schedulerLayer(scannersYaml(simScanners(sim, ["slow"])), prefix, { maxScanDuration: "1 second" })))
    return Effect.gen(function*() {
      const scheduler = yield* Scheduler.Scheduler
      const { task } = yield* scheduler.submit({ scanType: "untrusted", targets: "127.0.0.1", name: "runs forever" })
      const done = yield* awaitTask(task.id, isTerminal, "20 seconds")
      assert.strictEqual(done.state, "timeout")
      assert.strictEqual(done.errors[done.errors.length - 1]?.reason, "timeout")
      const stats = sim.scanner("slow").stats()
      assert.strictEqual(stats.running_now, 0, "stopped on the scanner")
      assert.strictEqual(stats.scans_launched[done.scanName as string], 1)
      assert.isTrue((yield* scheduler.dlqList("nessus")).entries.some((e) => e.task.id === task.id))
      const timeouts = yield* Effect.promise(() => metricTotal(registry, "nessus_scans_total", { status: "timeout" })).pipe(
        Effect.repeat({ schedule: Schedule.spaced("50 millis"), until: (n) => n > 0, times: 100 })
      )
      assert.strictEqual(timeouts, 1)
    }).pipe(Effect.provide(layer), Effect.provide(logs.layer))
  })

  it.live("several workers over several tasks never exceed a scanner's capacity", () =>
    Effect.promise(() => Simulator.start({ scanners: [{ id: "c1", scanDurationMs: 300, exportDelayMs: 20 }, { id: "c2", scanDurationMs: 300, exportDelayMs: 20 }] })).pipe(
      Effect.flatMap((capSim) => {
        const prefix = uniquePrefix()
        const dataDir = tempDir("data")
        const logs = captureLogs()
        const scheduler = schedulerLayer(scannersYaml(capSim.scanners.map((s) => ({ id: s.id, url: s.url, capacity: 2 }))), prefix)
        const workers = Layer.mergeAll(workerLayer(dataDir, { workerId: "w1" }), workerLayer(dataDir, { workerId: "w2" }))
        return Effect.gen(function*() {
          const s = yield* Scheduler.Scheduler
          const ids: Array<string> = []
          for (let i = 0; i < 10; i++) ids.push((yield* s.submit({ scanType: "untrusted", targets: "127.0.0.1", name: `cap ${i}` })).task.id)
          const done = yield* Effect.forEach(ids, (id) => awaitTask(id, isTerminal, "60 seconds"))
          assert.deepStrictEqual(done.map((t) => t.state), ids.map(() => "completed"))
          const stats = capSim.stats().instances
          for (const id of ["c1", "c2"]) {
            assert.isAtMost(stats[id]?.max_concurrent_running ?? 99, 2, `capacity of ${id}`)
          }
          const launches = Object.values(stats).flatMap((st) => Object.values(st.scans_launched))
          assert.strictEqual(launches.length, 10)
          assert.isTrue(launches.every((n) => n === 1))
          assert.deepStrictEqual(new Set(done.map((t) => t.lease)).size, 1, "no lease left")
        }).pipe(
          Effect.provide(workers.pipe(Layer.provideMerge(scheduler))),
          Effect.provide(logs.layer),
          Effect.ensuring(Effect.promise(() => capSim.close()))
        )
      })
    ))
})
