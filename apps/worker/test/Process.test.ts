/**
 * The built `nessus-mcp-worker` binary as a process: a worker killed with SIGKILL mid-scan is taken over
 * without a second launch; SIGTERM hands the lease back at once and exits quickly; `/metrics` and
 * `/health/*` answer; a bad configuration exits with status 2; SIGHUP and reload requests through Redis reload
 * the scanners file, and a broken file is refused while the worker keeps working. Run `pnpm --filter @nessus-mcp/worker build`
 * first (the test spawns `bin/nessus-mcp-worker.js`, which loads `dist/`).
 */
import { assert, describe, it } from "@effect/vitest"
import { Simulator } from "@nessus-mcp/nessus-simulator"
import { Scheduler } from "@nessus-mcp/scheduler"
import { Effect, Option } from "effect"
import { type ChildProcess, spawn } from "node:child_process"
import { readFileSync, writeFileSync } from "node:fs"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"
import { afterAll, beforeAll } from "vitest"
import { awaitTask, captureLogs, isTerminal, removeTempDirs, redisUrl, schedulerLayer, scannersYaml, tempDir, uniquePrefix, workerLayer } from "./support.js"

const bin = join(dirname(fileURLToPath(import.meta.url)), "..", "bin", "nessus-mcp-worker.js")

let sim: Simulator.RunningSimulator

beforeAll(async () => {
  sim = await Simulator.start({
    scanners: [
      { id: "k1", scanDurationMs: 1500, exportDelayMs: 30 },
      { id: "t1", scanDurationMs: 30_000, exportDelayMs: 30 },
      { id: "r1", scanDurationMs: 300, exportDelayMs: 30 },
      { id: "r2", scanDurationMs: 300, exportDelayMs: 30 }
    ]
  })
})

afterAll(async () => {
  await sim.close()
  removeTempDirs()
})

interface Child {
  readonly process: ChildProcess
  readonly lines: Array<Record<string, unknown>>
  readonly exited: Promise<{ readonly code: number | null; readonly at: number }>
}

const startWorker = (env: Record<string, string>): Child => {
  const child = spawn(process.execPath, [bin], {
    env: { PATH: process.env["PATH"] ?? "", HOUSEKEEPING_INTERVAL: "off", LOG_LEVEL: "debug", METRICS_PORT: "0", ...env },
    stdio: ["ignore", "pipe", "pipe"]
  })
  const lines: Array<Record<string, unknown>> = []
  let buffer = ""
  child.stdout?.on("data", (chunk: Buffer) => {
    buffer += chunk.toString("utf8")
    let nl: number
    while ((nl = buffer.indexOf("\n")) >= 0) {
      const line = buffer.slice(0, nl)
      buffer = buffer.slice(nl + 1)
      try {
        lines.push(JSON.parse(line) as Record<string, unknown>)
      } catch {
        lines.push({ level: "raw", message: line })
      }
    }
  })
  child.stderr?.on("data", (chunk: Buffer) => lines.push({ level: "stderr", message: chunk.toString("utf8") }))
  const exited = new Promise<{ code: number | null; at: number }>((resolve) => child.once("exit", (code) => resolve({ code, at: Date.now() })))
  return { process: child, lines, exited }
}

const waitFor = <A>(what: string, probe: () => A | undefined, limitMs = 15_000) =>
  Effect.promise(async () => {
    const start = Date.now()
    while (Date.now() - start < limitMs) {
      const value = probe()
      if (value !== undefined) return value
      await new Promise((r) => setTimeout(r, 25))
    }
    throw new Error(`timed out waiting for ${what}`)
  })

const metricsUrl = (child: Child) =>
  waitFor("the metrics URL in the worker's log", () => {
    for (const l of child.lines) {
      const m = /metrics and health on (http:\/\/[^ ]+)/.exec(String(l["message"] ?? ""))
      if (m) return m[1]
    }
    return undefined
  })

const fixture = (instance: string) => {
  const dir = tempDir("proc")
  const yaml = scannersYaml([{ id: instance, url: sim.scanner(instance).url, capacity: 2 }])
  const file = join(dir, "scanners.yaml")
  writeFileSync(file, yaml)
  return { dir, yaml, file, prefix: uniquePrefix(), dataDir: join(dir, "data") }
}

describe("nessus-mcp-worker process", () => {
  it.live("a worker killed with SIGKILL mid-scan is taken over by another one, without a second launch", () => {
    const f = fixture("k1")
    return Effect.gen(function*() {
      const scheduler = yield* Scheduler.Scheduler
      const child = startWorker({
        REDIS_URL: redisUrl(),
        REDIS_KEY_PREFIX: f.prefix,
        SCANNER_CONFIG: f.file,
        DATA_DIR: f.dataDir,
        WORKER_ID: "doomed",
        WORKER_LEASE_DURATION: "1 second",
        WORKER_HEARTBEAT_INTERVAL: "200 millis",
        WORKER_POLL_INITIAL: "50 millis",
        WORKER_POLL_MAX: "100 millis",
        WORKER_IDLE_INTERVAL: "50 millis"
      })
      const { task } = yield* scheduler.submit({ scanType: "untrusted", targets: "127.0.0.1", name: "survives a crash" })
      const running = yield* awaitTask(task.id, (t) => t.phase === "polling" && t.lease?.owner === "doomed", "20 seconds")
      assert.isDefined(running.nessusScanId)
      child.process.kill("SIGKILL")
      const exit = yield* Effect.promise(() => child.exited)
      assert.isNull(exit.code)
      assert.strictEqual(sim.scanner("k1").stats().running_now, 1, "the scan keeps running on Nessus")

      const done = yield* awaitTask(task.id, isTerminal, "20 seconds").pipe(Effect.provide(workerLayer(join(f.dir, "data"), { workerId: "rescuer" })))
      assert.strictEqual(done.state, "completed", JSON.stringify(done.errors))
      assert.isAtLeast(done.takeovers, 1)
      assert.strictEqual(done.nessusScanId, running.nessusScanId)
      const stats = sim.scanner("k1").stats()
      assert.strictEqual(stats.scans_created[done.scanName as string], 1)
      assert.strictEqual(stats.scans_launched[done.scanName as string], 1, "never launched a second time")
    }).pipe(Effect.provide(schedulerLayer(f.yaml, f.prefix)), Effect.provide(captureLogs().layer))
  })

  it.live("SIGTERM hands the lease back at once and exits 0 quickly; /metrics and /health answer while it runs", () => {
    const f = fixture("t1")
    return Effect.gen(function*() {
      const scheduler = yield* Scheduler.Scheduler
      const child = startWorker({
        REDIS_URL: redisUrl(),
        REDIS_KEY_PREFIX: f.prefix,
        SCANNER_CONFIG: f.file,
        DATA_DIR: f.dataDir,
        WORKER_ID: "graceful",
        WORKER_POLL_INITIAL: "50 millis",
        WORKER_POLL_MAX: "100 millis",
        WORKER_IDLE_INTERVAL: "50 millis",
        WORKER_SHUTDOWN_TIMEOUT: "5 seconds"
      })
      const url = yield* metricsUrl(child)
      assert.match(url, /^http:\/\/127\.0\.0\.1:\d+$/)
      const live = yield* Effect.promise(() => fetch(`${url}/health/live`))
      assert.strictEqual(live.status, 200)
      const ready = yield* Effect.promise(() => fetch(`${url}/health/ready`).then(async (r) => ({ status: r.status, body: await r.json() as { checks: Record<string, { status: string }> } })))
      assert.strictEqual(ready.status, 200, JSON.stringify(ready.body))
      assert.deepStrictEqual(Object.keys(ready.body.checks).sort(), ["config", "data_dir", "redis", "scanners"])

      const { task } = yield* scheduler.submit({ scanType: "untrusted", targets: "127.0.0.1", name: "long scan" })
      yield* awaitTask(task.id, (t) => t.phase === "polling" && t.lease?.owner === "graceful", "20 seconds")
      const metrics = yield* Effect.promise(() => fetch(`${url}/metrics`).then(async (r) => ({ type: r.headers.get("content-type"), body: await r.text() })))
      assert.match(metrics.type ?? "", /^text\/plain; version=0\.0\.4/)
      assert.include(metrics.body, `nessus_scanner_active_scans{pool="nessus",scanner_instance="t1"} 1`)
      assert.include(metrics.body, `nessus_scanner_capacity{pool="nessus",scanner_instance="t1"} 2`)
      assert.include(metrics.body, "nessus_worker_last_heartbeat_timestamp_seconds")
      assert.include(metrics.body, "process_cpu_seconds_total")
      assert.match(metrics.body, /nessus_nessus_api_calls_total\{scanner_instance="t1",endpoint="POST \/scans\/\{id\}\/launch",status="200"\} 1/)

      const sentAt = Date.now()
      child.process.kill("SIGTERM")
      const exit = yield* Effect.promise(() => child.exited)
      assert.strictEqual(exit.code, 0, JSON.stringify(child.lines.slice(-5)))
      assert.isBelow(exit.at - sentAt, 3000, "exits well within the shutdown bound")

      const after = yield* scheduler.get(task.id)
      assert.strictEqual(after.state, "running")
      assert.isUndefined(after.lease, "the lease was handed back, not left to expire (60 s)")
      assert.strictEqual(sim.scanner("t1").stats().running_now, 1, "the Nessus scan keeps running")
      const next = yield* scheduler.claim({ pool: "nessus", worker: "next" })
      assert.isTrue(Option.isSome(next))
      if (Option.isSome(next)) {
        assert.isTrue(next.value.takeover)
        assert.strictEqual(next.value.task.phase, "polling")
        yield* scheduler.cancel(task.id)
      }
    }).pipe(Effect.provide(schedulerLayer(f.yaml, f.prefix)), Effect.provide(captureLogs().layer))
  })

  it.live("SIGHUP and a reload request through Redis reload the scanners file; a broken file is refused, the old one stays and the worker keeps working", () => {
    const dir = tempDir("reload")
    const file = join(dir, "scanners.yaml")
    const prefix = uniquePrefix()
    const r1 = (capacity: number) => ({ id: "r1", url: sim.scanner("r1").url, capacity })
    const r2 = { id: "r2", url: sim.scanner("r2").url, capacity: 2 }
    writeFileSync(file, scannersYaml([r1(1)]))
    return Effect.gen(function*() {
      const scheduler = yield* Scheduler.Scheduler
      const child = startWorker({
        REDIS_URL: redisUrl(),
        REDIS_KEY_PREFIX: prefix,
        SCANNER_CONFIG: file,
        DATA_DIR: join(dir, "data"),
        WORKER_ID: "reloader",
        WORKER_POLL_INITIAL: "50 millis",
        WORKER_POLL_MAX: "100 millis",
        WORKER_IDLE_INTERVAL: "50 millis"
      })
      const url = yield* metricsUrl(child)
      // The capacity gauges come from the worker's own scheduler, i.e. the configuration in force there.
      const capacities = Effect.promise(() =>
        fetch(`${url}/metrics`).then((r) => r.text()).then((body) =>
          Object.fromEntries([...body.matchAll(/^nessus_scanner_capacity\{pool="nessus",scanner_instance="(\w+)"\} (\d+)$/gm)].map((m) => [m[1], Number(m[2])]))
        )
      )
      // /metrics reuses one store read for 200 ms: wait for the expected figures rather than read once.
      const capacitiesBecome = (expected: Record<string, number>) =>
        Effect.gen(function*() {
          let last = yield* capacities
          for (let i = 0; i < 50 && JSON.stringify(last) !== JSON.stringify(expected); i++) {
            yield* Effect.sleep("100 millis")
            last = yield* capacities
          }
          assert.deepStrictEqual(last, expected)
        })
      const logged = (event: string, from: number) =>
        waitFor(`a ${event} log line`, () => child.lines.slice(from).find((l) => l["event"] === event))
      assert.deepStrictEqual(yield* capacities, { r1: 1 })
      const bound = (yield* scheduler.submit({ scanType: "untrusted", targets: "127.0.0.1", name: "for the new scanner", instance: "r2" })).task
      assert.strictEqual((yield* scheduler.get(bound.id)).state, "queued", "r2 is not in the worker's file yet")

      // SIGHUP: r1's capacity goes to 3 and r2 appears.
      writeFileSync(file, scannersYaml([r1(3), r2]))
      let mark = child.lines.length
      child.process.kill("SIGHUP")
      const reloaded = yield* logged("config_reloaded", mark)
      assert.strictEqual(reloaded["trigger"], "SIGHUP")
      assert.strictEqual(reloaded["file"], file)
      yield* capacitiesBecome({ r1: 3, r2: 2 })
      const done = yield* awaitTask(bound.id, isTerminal, "20 seconds")
      assert.deepStrictEqual([done.state, done.instance], ["completed", "r2"], JSON.stringify(done.errors))

      // A reload request through Redis (what `nessus-admin config reload` sends).
      writeFileSync(file, scannersYaml([r1(2), r2]))
      mark = child.lines.length
      const requested = yield* scheduler.requestReload({ requestedBy: "process-test" })
      assert.strictEqual(requested.listeners, 1, "the worker subscribed to reload requests")
      const byRequest = yield* logged("config_reloaded", mark)
      assert.include(String(byRequest["trigger"]), `reload request ${requested.request.id} from process-test`)
      yield* capacitiesBecome({ r1: 2, r2: 2 })

      // A broken file: refused with file, line and key; the previous configuration stays in force.
      const good = readFileSync(file, "utf8")
      const broken = good.replace("max_concurrent_scans: 2\n", "max_concurrent_scans: lots\n")
      const badLine = broken.split("\n").findIndex((l) => l.includes("lots")) + 1
      writeFileSync(file, broken)
      mark = child.lines.length
      child.process.kill("SIGHUP")
      const refused = yield* logged("config_reload_failed", mark)
      assert.strictEqual(refused["level"], "error")
      assert.strictEqual(refused["file"], file)
      assert.strictEqual(refused["line"], badLine)
      assert.include(String(refused["key"]), "max_concurrent_scans")
      assert.include(String(refused["message"]), "previous configuration stays in force")
      assert.isNull(child.process.exitCode, "still running")
      const after = (yield* scheduler.submit({ scanType: "untrusted", targets: "127.0.0.1", name: "after a refused reload" })).task
      const finished = yield* awaitTask(after.id, isTerminal, "20 seconds")
      assert.strictEqual(finished.state, "completed", JSON.stringify(finished.errors))
      // Well past the 200 ms reuse of a store read: still the configuration from before the broken file.
      assert.deepStrictEqual(yield* capacities, { r1: 2, r2: 2 })

      child.process.kill("SIGTERM")
      assert.strictEqual((yield* Effect.promise(() => child.exited)).code, 0)
    }).pipe(Effect.provide(schedulerLayer(scannersYaml([r1(3), r2]), prefix)), Effect.provide(captureLogs().layer))
  })

  it.live("a configuration error exits with status 2 and a message naming the variable", () =>
    Effect.gen(function*() {
      const child = startWorker({ WORKER_CONCURRENCY: "0", SCANNER_CONFIG: "/nonexistent.yaml" })
      const exit = yield* Effect.promise(() => child.exited)
      assert.strictEqual(exit.code, 2)
      const fatal = child.lines.find((l) => l["level"] === "fatal")
      assert.include(String(fatal?.["message"]), "WORKER_CONCURRENCY")
    }))
})
