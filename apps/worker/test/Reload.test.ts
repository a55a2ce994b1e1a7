/**
 * The worker across reloads of the scanners file, in process: the scanner clients follow the file (new and
 * changed scanners get new clients, a removed scanner keeps its last-known client), and a scan on a scanner
 * a reload removed is still finished, also when this worker takes it over from one that died. Real Redis,
 * the simulator over real HTTP. (SIGHUP and reload requests on the built process: Process.test.ts.)
 */
import { assert, describe, it } from "@effect/vitest"
import { Simulator } from "@nessus-mcp/nessus-simulator"
import { Credentials, Redis, ScannerConfig, Scheduler, Task } from "@nessus-mcp/scheduler"
import { Effect, Layer, Option, Redacted } from "effect"
import { writeFileSync } from "node:fs"
import { join } from "node:path"
import * as Prometheus from "prom-client"
import { afterAll, beforeAll } from "vitest"
import { ScannerClients, WorkerMetrics } from "../src/index.js"
import {
  awaitTask,
  captureLogs,
  CREDENTIALS_KEY,
  isTerminal,
  redisUrl,
  removeTempDirs,
  scannersYaml,
  schedulerOptions,
  tempDir,
  uniquePrefix,
  workerLayer
} from "./support.js"

let sim: Simulator.RunningSimulator

beforeAll(async () => {
  sim = await Simulator.start({
    scanners: [
      { id: "one", scanDurationMs: 300, exportDelayMs: 20 },
      { id: "two", scanDurationMs: 300, exportDelayMs: 20 }
    ]
  })
})

afterAll(async () => {
  await sim.close()
  removeTempDirs()
})

const scannersFile = () => {
  const file = join(tempDir("reload"), "scanners.yaml")
  const write = (scanners: ReadonlyArray<{ readonly id: string; readonly on: "one" | "two"; readonly capacity?: number }>, password = "nessus") =>
    writeFileSync(
      file,
      scannersYaml(scanners.map((s) => ({ id: s.id, url: sim.scanner(s.on).url, capacity: s.capacity ?? 2 }))).replaceAll(
        "password: nessus",
        `password: ${password}`
      )
    )
  return { file, write }
}

describe("ScannerClients across reloads", () => {
  it.live("a new scanner gets a client, a changed one a new client, a removed one keeps its last-known client", () => {
    const { file, write } = scannersFile()
    write([{ id: "a", on: "one" }])
    const layer = ScannerClients.layer().pipe(
      Layer.provide(WorkerMetrics.layer({ registry: new Prometheus.Registry(), processMetrics: false, sharedState: false })),
      Layer.provide(Scheduler.layerMemory()),
      Layer.provide(Credentials.layer()),
      Layer.provideMerge(ScannerConfig.layer({ path: file })),
      Layer.orDie
    )
    return Effect.gen(function*() {
      const config = yield* ScannerConfig.ScannerConfig
      const clients = yield* ScannerClients.ScannerClients
      const a1 = yield* clients.forInstance("a")
      assert.strictEqual(a1.scanner.url, sim.scanner("one").url)
      assert.strictEqual((yield* clients.forInstance("a")).client, a1.client, "one client per scanner, reused")
      const missing = yield* Effect.flip(clients.forInstance("b"))
      assert.strictEqual(missing.reason, "config_invalid")

      // Reload: "a" moves to another URL, "b" is added.
      write([{ id: "a", on: "two" }, { id: "b", on: "one" }])
      yield* config.reload
      const a2 = yield* clients.forInstance("a")
      assert.notStrictEqual(a2.client, a1.client, "a changed URL gets a new client")
      assert.strictEqual(a2.scanner.url, sim.scanner("two").url)
      const b = yield* clients.forInstance("b")
      assert.strictEqual(b.scanner.url, sim.scanner("one").url)
      assert.strictEqual((yield* a1.client.serverStatus).status, "ready", "the replaced client still serves the tasks that started on it")

      // Reload: "a" is removed; it keeps its last-known definition and client.
      write([{ id: "b", on: "one" }])
      yield* config.reload
      assert.isUndefined(ScannerConfig.scannerOf(yield* config.current, "a"))
      const removed = yield* clients.forInstance("a")
      assert.strictEqual(removed.client, a2.client)
      assert.strictEqual(removed.scanner.url, sim.scanner("two").url)
      assert.strictEqual((yield* removed.client.serverStatus).status, "ready")
      assert.strictEqual((yield* clients.forInstance("b")).client, b.client, "an unchanged scanner keeps its client")

      // Reload: "a" is back with another password: a new client (the secret is part of what a client is built from).
      write([{ id: "a", on: "two" }, { id: "b", on: "one" }], "rotated")
      yield* config.reload
      const a3 = yield* clients.forInstance("a")
      assert.notStrictEqual(a3.client, a2.client, "a changed password gets a new client")
      assert.notStrictEqual((yield* clients.forInstance("b")).client, b.client)

      const never = yield* Effect.flip(clients.forInstance("never-configured"))
      assert.strictEqual(never.reason, "config_invalid")
      assert.include(never.message, "never saw it")
      assert.include(never.message, file)
    }).pipe(Effect.provide(layer))
  })

  it.live("a scan on a scanner a reload removed is finished after a takeover (running accounting intact)", () => {
    const { file, write } = scannersFile()
    write([{ id: "s1", on: "one" }, { id: "s2", on: "two" }])
    const prefix = uniquePrefix()
    const logs = captureLogs()
    // The scheduler and the worker share one reloadable ScannerConfig, as in the worker process.
    const scheduler = Scheduler.layerRedis(schedulerOptions(prefix)).pipe(
      Layer.provideMerge(Credentials.layer({ key: Redacted.make(CREDENTIALS_KEY) })),
      Layer.provideMerge(ScannerConfig.layer({ path: file })),
      Layer.provideMerge(Redis.layer({ url: redisUrl() })),
      Layer.orDie
    )
    // Starts new scans only on s1, so the task bound to s2 reaches it only as a takeover.
    const worker = workerLayer(tempDir("data"), { workerId: "rescuer", instances: ["s1"] })
    return Effect.gen(function*() {
      const scheduler = yield* Scheduler.Scheduler
      const { task } = yield* scheduler.submit({ scanType: "untrusted", targets: "127.0.0.1", name: "outlives its scanner", instance: "s2" })
      // A worker that claims the task and dies at once (never heartbeats).
      const claim = yield* scheduler.claim({ pool: "nessus", worker: "doomed" })
      assert.isTrue(Option.isSome(claim) && claim.value.task.id === task.id && claim.value.lease.instanceId === "s2")

      write([{ id: "s1", on: "one" }])
      yield* scheduler.reload
      assert.deepStrictEqual((yield* scheduler.scanners()).map((s) => s.instanceId), ["s1"])
      assert.strictEqual((yield* scheduler.queueStats("nessus")).running, 1, "the running task is still counted")

      const done = yield* awaitTask(task.id, isTerminal, "20 seconds")
      assert.strictEqual(done.state, "completed", JSON.stringify(done.errors))
      assert.strictEqual(done.instance, "s2")
      assert.isAtLeast(done.takeovers, 1)
      const name = Task.scanName(task.id, 1)
      assert.strictEqual(sim.scanner("two").stats().scans_launched[name], 1, "ran on the removed scanner, once")
      assert.strictEqual((yield* scheduler.queueStats("nessus")).running, 0, "its slot is freed")
    }).pipe(Effect.provide(worker.pipe(Layer.provideMerge(scheduler))), Effect.provide(logs.layer))
  })
})
