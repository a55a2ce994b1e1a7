/**
 * `pnpm bench:scheduling`: end-to-end scheduling throughput of the product on loopback, with real processes:
 *
 * - one throwaway `redis-server` (the shared queue; no persistence),
 * - the Nessus simulator with 5 scanners at **zero scan duration** (and zero export delay), each behind a
 *   recording proxy in this process that timestamps every `POST /scans/{id}/launch` as the scanner sees it,
 * - `nessus-mcp-worker` processes (12 slots in all for the 10 scanner slots), on a `scanners.yaml` with the
 *   5 scanners × `max_concurrent_scans: 2`,
 * - N untrusted scans submitted at once through the scheduler API (`Scheduler.submit` on Redis, as the MCP
 *   server does), then waited for until every task is terminal.
 *
 * It prints, for 3 worker processes × 4 slots and for 1 process × 12 slots (default worker settings otherwise):
 * scans per minute (first submission → last completion), the delay between a scanner slot
 * freeing (the task's completion, which releases the slot atomically) and the next scan launching on that
 * scanner (simulator-side launch timestamps), the same delay to the next claim (scheduler timestamps), Nessus API
 * calls per scan (`/_sim/stats` `api_calls`), and checks that no scanner exceeded its capacity.
 *
 * Target: p99 slot-free → next launch < 250 ms.
 */
import { Credentials, Redis, ScannerConfig, Scheduler, type Task } from "@nessus-mcp/scheduler"
import { Simulator } from "@nessus-mcp/nessus-simulator"
import { Effect, Layer, Redacted } from "effect"
import { type ChildProcess, spawn } from "node:child_process"
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import * as http from "node:http"
import { availableParallelism, loadavg, tmpdir } from "node:os"
import { join, resolve } from "node:path"
import { startRedisServer } from "../../config/testing/redis.ts"

const repo = resolve(import.meta.dirname, "../..")
const workerBin = join(repo, "apps/worker/bin/nessus-mcp-worker.js")
const scanners = 5
const capacity = 2
const scans = Number(process.env["BENCH_SCANS"] ?? 150)

const machine = () => `load average ${loadavg().map((l) => l.toFixed(2)).join(" ")} on ${availableParallelism()} cores, node ${process.version}`
const fmt = (n: number, digits = 1) => (Number.isFinite(n) ? n.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits }) : "n/a")
const quantile = (sorted: ReadonlyArray<number>, q: number) =>
  sorted.length === 0 ? Number.NaN : sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!

interface Launch {
  readonly scanner: string
  readonly at: number
}

/** A loopback proxy in front of one simulated scanner that records when launches reach it. */
const recordingProxy = (id: string, target: string, launches: Array<Launch>) =>
  new Promise<{ url: string; close: () => Promise<void> }>((done) => {
    const upstream = new URL(target)
    const agent = new http.Agent({ keepAlive: true })
    const server = http.createServer((req, res) => {
      if (req.method === "POST" && /^\/scans\/\d+\/launch\b/.test(req.url ?? "")) launches.push({ scanner: id, at: Date.now() })
      const forward = http.request(
        { agent, host: upstream.hostname, port: upstream.port, path: req.url, method: req.method, headers: req.headers },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers)
          answer.pipe(res)
        }
      )
      forward.once("error", () => res.destroy())
      req.pipe(forward)
    })
    server.listen(0, "127.0.0.1", () => {
      const address = server.address()
      done({
        url: `http://127.0.0.1:${typeof address === "object" && address !== null ? address.port : 0}`,
        close: () =>
          new Promise<void>((r) => {
            agent.destroy()
            server.closeAllConnections()
            server.close(() => r())
          })
      })
    })
  })

const startWorker = (env: Record<string, string>): ChildProcess =>
  spawn(process.execPath, [workerBin], { env: { ...process.env, ...env }, stdio: ["ignore", "ignore", "pipe"] })

interface Run {
  readonly label: string
  readonly scans: number
  readonly completed: number
  readonly seconds: number
  readonly perMinute: number
  readonly launchDelays: ReadonlyArray<number>
  readonly claimDelays: ReadonlyArray<number>
  readonly apiCallsPerScan: number
  readonly topCalls: ReadonlyArray<readonly [string, number]>
  readonly maxConcurrent: number
}

/**
 * Pairs each slot freed on a scanner (a completion, while work was still queued) with the next launch (or
 * claim) on that scanner that no earlier free slot took, and returns the delays in ms. The first `capacity`
 * launches of each scanner used slots that were free from the start and are not counted.
 */
const slotDelays = (frees: ReadonlyArray<Launch>, starts: ReadonlyArray<Launch>, backlogUntil: number): Array<number> => {
  const delays: Array<number> = []
  for (let s = 1; s <= scanners; s++) {
    const id = `scanner${s}`
    const free = frees.filter((f) => f.scanner === id && f.at <= backlogUntil).map((f) => f.at).sort((a, b) => a - b)
    const begun = starts.filter((l) => l.scanner === id).map((l) => l.at).sort((a, b) => a - b).slice(capacity)
    let j = 0
    for (const t of free) {
      while (j < begun.length && begun[j]! < t) j++
      if (j >= begun.length) break
      delays.push(begun[j]! - t)
      j++
    }
  }
  return delays.sort((a, b) => a - b)
}

const run = async (label: string, workers: number, workerConcurrency: number): Promise<Run> => {
  const dir = mkdtempSync(join(tmpdir(), "nessus-bench-scheduling-"))
  const redis = await startRedisServer()
  const sim = await Simulator.start({
    scanners: Array.from({ length: scanners }, (_, i) => ({ id: `scanner${i + 1}`, scanDurationMs: 0, exportDelayMs: 0 }))
  })
  const launches: Array<Launch> = []
  const proxies = await Promise.all(sim.scanners.map((s) => recordingProxy(s.id, s.url, launches)))
  const yaml = `default_pool: nessus
pools:
  nessus:
    allowed_targets: [192.0.2.0/24, 198.51.100.0/24]
    scanners:
${proxies.map((p, i) => `      - { instance_id: scanner${i + 1}, url: "${p.url}", username: nessus, password: nessus, max_concurrent_scans: ${capacity} }`).join("\n")}
`
  const scannersFile = join(dir, "scanners.yaml")
  writeFileSync(scannersFile, yaml)
  const prefix = `{bench-${process.pid}-${Date.now()}}:`
  const env = {
    REDIS_URL: redis.url,
    REDIS_KEY_PREFIX: prefix,
    SCANNER_CONFIG: scannersFile,
    DATA_DIR: join(dir, "data"),
    WORKER_CONCURRENCY: String(workerConcurrency),
    METRICS_PORT: "0",
    LOG_LEVEL: "warn",
    HOUSEKEEPING_INTERVAL: "off"
  }
  const children = Array.from({ length: workers }, () => startWorker(env))
  const stderr: Array<string> = []
  for (const c of children) c.stderr!.on("data", (d: Buffer) => stderr.length < 20 && stderr.push(d.toString().slice(0, 300)))

  const layer = Scheduler.layerRedis({ prefix }).pipe(
    Layer.provideMerge(Credentials.layer()),
    Layer.provideMerge(ScannerConfig.layer({ path: scannersFile, env: {} })),
    Layer.provide(Redis.layer({ url: Redacted.make(redis.url) }))
  )
  try {
    return await Effect.runPromise(Effect.gen(function*() {
      const scheduler = yield* Scheduler.Scheduler
      // Let the workers start and log in before the clock starts.
      yield* Effect.sleep("3 seconds")
      sim.reset()
      launches.length = 0
      const started = Date.now()
      const ids: Array<string> = []
      for (let i = 0; i < scans; i++) {
        const { task } = yield* scheduler.submit({ scanType: "untrusted", targets: `192.0.2.${(i % 250) + 1}`, name: `bench ${i}` })
        ids.push(task.id)
      }
      let tasks: Array<Task.Task> = []
      const deadline = Date.now() + 180_000
      for (;;) {
        tasks = []
        let cursor: string | undefined
        do {
          const page = yield* scheduler.list({ limit: 100, cursor })
          tasks.push(...page.tasks)
          cursor = page.cursor
        } while (cursor !== undefined)
        const open = tasks.filter((t) => t.state === "queued" || t.state === "running").length
        if (open === 0) break
        if (Date.now() > deadline) throw new Error(`${open} tasks still open after 180 s; worker stderr: ${stderr.join(" | ")}`)
        yield* Effect.sleep("200 millis")
      }
      const done = tasks.filter((t) => t.state === "completed")
      if (done.length !== scans) {
        const failed = tasks.filter((t) => t.state !== "completed").slice(0, 3).map((t) => `${t.state}: ${t.errors.at(-1)?.message ?? ""}`)
        throw new Error(`${scans - done.length} of ${scans} scans did not complete: ${failed.join("; ")}`)
      }
      const finishedAt = (t: Task.Task) => Date.parse(t.finishedAt!)
      const lastFinish = Math.max(...done.map(finishedAt))
      const seconds = (lastFinish - started) / 1000
      const frees = done.map((t) => ({ scanner: t.instance!, at: finishedAt(t) }))
      const claims = done.map((t) => ({ scanner: t.instance!, at: Date.parse(t.startedAt!) }))
      // Work was queued until the last task was claimed: slots freed after that had nothing to start.
      const backlogUntil = Math.max(...claims.map((c) => c.at))
      const stats = sim.stats()
      const calls = new Map<string, number>()
      let maxConcurrent = 0
      for (const s of Object.values(stats.instances)) {
        maxConcurrent = Math.max(maxConcurrent, s.max_concurrent_running)
        for (const [endpoint, n] of Object.entries(s.api_calls)) calls.set(endpoint, (calls.get(endpoint) ?? 0) + n)
      }
      const totalCalls = [...calls.values()].reduce((a, b) => a + b, 0)
      return {
        label,
        scans,
        completed: done.length,
        seconds,
        perMinute: (done.length / seconds) * 60,
        launchDelays: slotDelays(frees, launches, backlogUntil),
        claimDelays: slotDelays(frees, claims, backlogUntil),
        apiCallsPerScan: totalCalls / done.length,
        topCalls: [...calls].sort((a, b) => b[1] - a[1]).map(([k, n]) => [k, n / done.length] as const),
        maxConcurrent
      } satisfies Run
    }).pipe(Effect.scoped, Effect.provide(layer)))
  } finally {
    await Promise.all(children.map((c) =>
      new Promise<void>((r) => {
        if (c.exitCode !== null) return r()
        c.once("exit", () => r())
        c.kill("SIGTERM")
      })
    ))
    await Promise.all(proxies.map((p) => p.close()))
    await sim.close()
    await redis.dispose()
    rmSync(dir, { recursive: true, force: true })
  }
}

const main = async () => {
  console.log(`Scheduling benchmark: ${scans} untrusted scans submitted at once, simulator with ${scanners} scanners × capacity ${capacity} at zero ` +
    `scan duration, nessus-mcp-worker processes with default settings, one redis-server; ${machine()}`)
  const runs = [await run("3 worker processes × 4 slots", 3, 4), await run("1 worker process × 12 slots", 1, 12)]
  console.log("")
  console.log("| workers | scans | wall (s) | scans/min | slot free → next launch p50 / p99 (ms) | slot free → next claim p50 / p99 (ms) | pairs | Nessus API calls/scan | max running per scanner |")
  console.log("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
  for (const r of runs) {
    console.log(`| ${r.label} | ${r.completed} | ${fmt(r.seconds, 1)} | ${fmt(r.perMinute, 0)} | ${fmt(quantile(r.launchDelays, 0.5), 0)} / ${fmt(quantile(r.launchDelays, 0.99), 0)} | ` +
      `${fmt(quantile(r.claimDelays, 0.5), 0)} / ${fmt(quantile(r.claimDelays, 0.99), 0)} | ${r.launchDelays.length} | ${fmt(r.apiCallsPerScan, 1)} | ${r.maxConcurrent} (capacity ${capacity}) |`)
  }
  console.log("")
  for (const r of runs) {
    console.log(`${r.label}: API calls per scan: ${r.topCalls.map(([k, n]) => `${k} ${fmt(n, 2)}`).join(", ")}`)
  }
  console.log("")
  console.log(`throughput of 1 process × 12 slots vs 3 processes × 4 slots: ${fmt(runs[1]!.perMinute / runs[0]!.perMinute, 2)}×`)
  for (const r of runs) {
    const p99 = quantile(r.launchDelays, 0.99)
    console.log(`${r.label}: p99 slot free → next launch ${fmt(p99, 0)} ms (target < 250 ms: ${p99 < 250 ? "met" : "MISSED"}); ` +
      `capacity ${r.maxConcurrent <= capacity ? "never exceeded" : "EXCEEDED"}`)
  }
  console.log(`(after the run: ${machine()})`)
}

await main()
