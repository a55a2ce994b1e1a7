/**
 * Test harness: a real Redis (REDIS_URL from the vitest global setup, one key prefix per test), the
 * simulator over real HTTP, and workers built from the package's own layers with fast timings.
 */
import { Credentials, Redis, ScannerConfig, Scheduler, Task } from "@nessus-mcp/scheduler"
import type { Simulator } from "@nessus-mcp/nessus-simulator"
import { type Duration, Effect, Layer, Redacted, Schedule } from "effect"
import { randomBytes } from "node:crypto"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import * as Prometheus from "prom-client"
import { Logging, Worker, WorkerMetrics } from "../src/index.js"

export const CANARY = "Canary-Pw-7f3a9c1e"
export const CREDENTIALS_KEY = randomBytes(32).toString("base64")

export const redisUrl = (): string => {
  const url = process.env["REDIS_URL"]
  if (url === undefined) throw new Error("REDIS_URL is not set (the vitest global setup starts a throwaway redis-server)")
  return url
}

export const uniquePrefix = (): string => `{wt-${randomBytes(5).toString("hex")}}:`

const created: Array<string> = []

/** A fresh temporary directory, removed by {@link removeTempDirs}. */
export const tempDir = (label: string): string => {
  const dir = mkdtempSync(join(tmpdir(), `nessus-worker-${label}-`))
  created.push(dir)
  return dir
}

/** Removes every directory made by {@link tempDir} (call from `afterAll`). */
export const removeTempDirs = (): void => {
  for (const dir of created.splice(0)) rmSync(dir, { recursive: true, force: true })
}

/** A scanners.yaml for simulator scanners (capacity 2 each by default). */
export const scannersYaml = (
  scanners: ReadonlyArray<{ readonly id: string; readonly url: string; readonly capacity?: number; readonly apiMode?: string }>
): string =>
  [
    "default_pool: nessus",
    "pools:",
    "  nessus:",
    "    allowed_targets: [127.0.0.0/8, 192.0.2.0/24]",
    "    scanners:",
    ...scanners.flatMap((s) => [
      `      - instance_id: ${s.id}`,
      `        name: Simulator ${s.id}`,
      `        url: ${s.url}`,
      "        username: nessus",
      "        password: nessus",
      `        api_mode: ${s.apiMode ?? "auto"}`,
      `        max_concurrent_scans: ${s.capacity ?? 2}`
    ]),
    "credentials:",
    "  linux-admin:",
    "    type: ssh",
    "    username: scanuser",
    "    password: scanpass",
    "    elevate_privileges_with: sudo",
    "    escalation_password: sudopass",
    ""
  ].join("\n")

export const simScanners = (sim: Simulator.RunningSimulator, ids: ReadonlyArray<string>, capacity = 2) =>
  ids.map((id) => ({ id, url: sim.scanner(id).url, capacity }))

/** Fast scheduler settings for tests. */
export const schedulerOptions = (prefix: string): Scheduler.RedisOptions => ({
  prefix,
  leaseDuration: "2 seconds",
  retry: { retries: 2, base: "100 millis", factor: 2, jitter: false }
})

/** Scheduler (Redis backend), its configuration and credentials, from a scanners.yaml text. */
export const schedulerLayer = (yaml: string, prefix: string, extra: Partial<Scheduler.RedisOptions> = {}) =>
  Scheduler.layerRedis({ ...schedulerOptions(prefix), ...extra }).pipe(
    Layer.provideMerge(Credentials.layer({ key: Redacted.make(CREDENTIALS_KEY) })),
    Layer.provideMerge(ScannerConfig.layerText(yaml)),
    Layer.provideMerge(Redis.layer({ url: redisUrl() })),
    Layer.orDie
  )

/** Fast worker settings for tests. */
export const workerOptions = (dataDir: string, extra: Partial<Worker.Options> = {}): Worker.Options => ({
  dataDir,
  concurrency: 4,
  poll: { initial: "50 millis", max: "200 millis", errorTolerance: "5 seconds" },
  heartbeatInterval: "300 millis",
  idleInterval: "50 millis",
  retry: { retries: 3, base: "20 millis", factor: 2, jitter: false },
  stopTimeout: "10 seconds",
  ...extra
})

/** A complete in-process worker (clients, metrics with its own registry, no housekeeping). */
export const workerLayer = (dataDir: string, extra: Partial<Worker.Options> = {}, registry = new Prometheus.Registry()) =>
  Worker.layerComplete({
    ...workerOptions(dataDir, extra),
    housekeeping: false,
    metrics: { registry, processMetrics: false },
    clients: { readRetry: { times: 3, base: "20 millis" }, exportPollInterval: { initial: "20 millis", max: "100 millis" }, requestTimeout: "5 seconds" }
  })

/** Captures log lines (JSON) for secret-leak checks. */
export const captureLogs = () => {
  const lines: Array<string> = []
  return { lines, layer: Logging.layer({ level: "Debug", sink: (line) => lines.push(line) }) }
}

/** Waits (real time) until the task satisfies `done`, failing after `limit`. */
export const awaitTask = (id: string, done: (t: Task.Task) => boolean, limit: Duration.Input = "30 seconds") =>
  Effect.gen(function*() {
    const scheduler = yield* Scheduler.Scheduler
    return yield* scheduler.get(id).pipe(
      Effect.repeat({ schedule: Schedule.spaced("50 millis"), until: done }),
      Effect.timeoutOrElse({
        duration: limit,
        orElse: () => Effect.flatMap(scheduler.get(id), (t) => Effect.die(new Error(`task ${id} did not reach the expected state in time: ${JSON.stringify({ state: t.state, phase: t.phase, errors: t.errors })}`)))
      })
    )
  })

export const isTerminal = (t: Task.Task) => Task.isTerminal(t.state)

/** Reads one metric's samples from a registry. */
export const samples = async (registry: Prometheus.Registry, name: string) => {
  const metric = registry.getSingleMetric(name)
  if (metric === undefined) return []
  return (await metric.get()).values
}

export const metricTotal = async (registry: Prometheus.Registry, name: string, labels: Record<string, string> = {}) =>
  (await samples(registry, name))
    .filter((v) => Object.entries(labels).every(([k, val]) => (v.labels as Record<string, unknown>)[k] === val))
    .reduce((n, v) => n + v.value, 0)

export type { WorkerMetrics }
