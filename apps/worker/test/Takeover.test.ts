/**
 * Lease edge cases of the worker: a takeover from a late phase by a worker that does not share the dead
 * worker's data directory (another host), and a cancellation that lands while an attempt is failing.
 */
import { assert, describe, it } from "@effect/vitest"
import { Simulator } from "@nessus-mcp/nessus-simulator"
import { Scheduler, type Task } from "@nessus-mcp/scheduler"
import { Effect, Layer, Option, Schedule } from "effect"
import { existsSync } from "node:fs"
import * as Prometheus from "prom-client"
import { afterAll, beforeAll } from "vitest"
import { ScannerClients, WorkerMetrics } from "../src/index.js"
import {
  awaitTask,
  captureLogs,
  isTerminal,
  removeTempDirs,
  schedulerLayer,
  scannersYaml,
  simScanners,
  tempDir,
  uniquePrefix,
  workerLayer
} from "./support.js"

let sim: Simulator.RunningSimulator

beforeAll(async () => {
  sim = await Simulator.start({
    scanners: [{ id: "late1", scanDurationMs: 100, exportDelayMs: 10 }, { id: "gate1", scanApi: true }]
  })
})

afterAll(async () => {
  await sim.close()
  removeTempDirs()
})

describe("worker lease edge cases", () => {
  it.live("phase validating without the export on this host: exported again and completed, launched once", () => {
    const prefix = uniquePrefix()
    const scheduler = schedulerLayer(scannersYaml(simScanners(sim, ["late1"])), prefix)
    const clients = ScannerClients.layer({ requestTimeout: "5 seconds" }).pipe(
      Layer.provide(WorkerMetrics.layer({ registry: new Prometheus.Registry(), processMetrics: false }))
    )
    return Effect.gen(function*() {
      const s = yield* Scheduler.Scheduler
      const { task } = yield* s.submit({ scanType: "untrusted", targets: "127.0.0.1", name: "validated elsewhere" })
      // A worker on another host ran the scan up to validation, then died (its export stays on its disk).
      const claim = Option.getOrThrow(yield* s.claim({ pool: "nessus", worker: "doomed" }))
      assert.strictEqual(claim.task.id, task.id)
      const { client } = yield* (yield* ScannerClients.ScannerClients).forInstance("late1")
      const folderId = yield* client.ensureFolder("nessus-mcp")
      const created = yield* client.createScan({ name: claim.scanName, targets: "127.0.0.1", template: "basic", folderId })
      yield* client.launchScan(created.id)
      yield* client.scanProgress(created.id).pipe(
        Effect.repeat({ schedule: Schedule.spaced("50 millis"), until: (p) => p.status === "completed" }),
        Effect.timeout("10 seconds")
      )
      const phases: ReadonlyArray<Task.Phase> = ["creating", "launched", "polling", "exporting", "validating"]
      for (const phase of phases) yield* s.setPhase(claim.lease, phase, { nessusScanId: created.id, progress: 100 })

      const dataDir = tempDir("rescuer")
      const done = yield* awaitTask(task.id, isTerminal, "10 seconds").pipe(
        Effect.provide(workerLayer(dataDir, { workerId: "rescuer" }))
      )
      assert.strictEqual(done.state, "completed", JSON.stringify(done.errors))
      assert.isAtLeast(done.takeovers, 1)
      assert.strictEqual(done.nessusScanId, created.id)
      assert.isTrue(existsSync(done.artifacts?.nessus ?? ""), "exported again on this host")
      const stats = sim.scanner("late1").stats()
      assert.strictEqual(stats.scans_created[claim.scanName], 1, "created once")
      assert.strictEqual(stats.scans_launched[claim.scanName], 1, "never launched a second time")
      assert.strictEqual((yield* s.queueStats("nessus")).running, 0, "its slot is freed")
    }).pipe(Effect.provide(Layer.provideMerge(clients, scheduler)), Effect.provide(captureLogs().layer))
  })

  it.live("a task cancelled while its attempt fails permanently: the lease is handed back at once", () => {
    const prefix = uniquePrefix()
    // A long lease and a rare heartbeat: only the worker's own hand-back can free the slot within the test.
    const scheduler = schedulerLayer(scannersYaml([{ id: "gate1", url: sim.scanner("gate1").url, apiMode: "api" }]), prefix, { leaseDuration: "60 seconds" })
    const worker = workerLayer(tempDir("gate"), { workerId: "gated", heartbeatInterval: "30 seconds" })
    return Effect.gen(function*() {
      const s = yield* Scheduler.Scheduler
      // Every request takes 700 ms and the scan creation is refused (412, api mode): the attempt fails
      // permanently about 2 s after the claim, well after the cancellation below.
      sim.scanner("gate1").setFaults({ latencyMs: 700, scanCreate412: true })
      const { task } = yield* s.submit({ scanType: "untrusted", targets: "127.0.0.1", name: "cancelled while failing" })
      yield* awaitTask(task.id, (t) => t.state === "running", "10 seconds")
      yield* s.cancel(task.id)
      const freed = yield* s.scanners().pipe(
        Effect.repeat({ schedule: Schedule.spaced("50 millis"), until: (all) => all[0]?.running === 0 }),
        Effect.timeoutOption("8 seconds")
      )
      sim.scanner("gate1").setFaults({})
      assert.isTrue(Option.isSome(freed), "the slot is freed without waiting for the lease to expire")
      const done = yield* s.get(task.id)
      assert.strictEqual(done.state, "cancelled")
      assert.isUndefined(done.lease)
    }).pipe(Effect.provide(Layer.provideMerge(worker, scheduler)), Effect.provide(captureLogs().layer))
  })
})
