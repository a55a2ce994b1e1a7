/**
 * End to end over real transports and real processes: two `nessus-mcp-worker` processes and two `nessus-mcp`
 * servers (one launched over stdio by the SDK client, one on Streamable HTTP with a bearer token) share a real
 * Redis (the run's REDIS_URL, under a unique key prefix) and drive the Nessus simulator with two scanners of
 * capacity 2 on free ports. Needs `pnpm --filter @nessus-mcp/mcp-server build` and `--filter @nessus-mcp/worker build`.
 */
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { Credentials, Redis, ScannerConfig, Scheduler } from "@nessus-mcp/scheduler"
import { Simulator } from "@nessus-mcp/nessus-simulator"
import { Effect, Layer, ManagedRuntime } from "effect"
import { randomBytes } from "node:crypto"
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import {
  connectHttp,
  connectStdio,
  dumpRedis,
  freePort,
  type McpClient,
  type Proc,
  requireBuilt,
  scannersYaml,
  serverBin,
  spawnNode,
  waitFor,
  workerBin
} from "./support/e2e.js"

const redisUrl = process.env["REDIS_URL"] ?? ""
const run = randomBytes(4).toString("hex")
const prefix = `{e2e-${run}}:`
const canaryPassword = `canary-pw-${run}-login`
const canaryEscalation = `canary-pw-${run}-sudo`
const token = `e2e-token-${randomBytes(16).toString("hex")}`

let sim: Simulator.RunningSimulator
let dir: string
let scannerFile: string
let baseEnv: Record<string, string>
let workers: Array<Proc> = []
let httpServer: Proc
let httpBase: string
let stdio: McpClient & { readonly stderr: () => string }
let http: McpClient
let admin: ManagedRuntime.ManagedRuntime<Scheduler.Scheduler, unknown>

const startWorker = async (id: string) =>
  spawnNode(workerBin, [], {
    ...baseEnv,
    WORKER_ID: id,
    METRICS_PORT: String(await freePort()),
    WORKER_POLL_INITIAL: "150 millis",
    WORKER_POLL_MAX: "400 millis",
    WORKER_IDLE_INTERVAL: "100 millis",
    WORKER_HEARTBEAT_INTERVAL: "300 millis",
    WORKER_LEASE_DURATION: "2 seconds",
    HOUSEKEEPING_INTERVAL: "off"
  })

const withScheduler = <A>(f: (s: Scheduler.Scheduler["Service"]) => Effect.Effect<A, unknown>) =>
  admin.runPromise(Effect.gen(function*() {
    return yield* f(yield* Scheduler.Scheduler)
  }))

const task = (id: string) => withScheduler((s) => s.get(id))

/** Tasks that carried inline credentials (their logs are checked for the canaries). */
const inlineTasks: Array<string> = []

const statusOf = (client: McpClient, id: string) => client.call("get_scan_status", { task_id: id })

const until = (client: McpClient, id: string, done: (s: any) => boolean, timeoutMs = 30_000) =>
  waitFor(`task ${id}`, async () => {
    const s = await statusOf(client, id)
    return done(s) ? s : undefined
  }, timeoutMs)

const finished = (s: any) => ["completed", "failed", "timeout", "cancelled"].includes(s.status)

/** Scans the simulator launched for one task, by name (`nmcp-<task>-a<n>`), over both scanners. */
const launchesOf = (taskId: string) => {
  const stats = sim.stats()
  return Object.values(stats.instances).reduce(
    (n, i) => n + Object.entries(i.scans_launched).filter(([name]) => name.includes(taskId)).reduce((a, [, c]) => a + c, 0),
    0
  )
}

beforeAll(async () => {
  requireBuilt()
  assert.isNotEmpty(redisUrl, "the vitest global setup provides REDIS_URL")
  sim = await Simulator.start({
    scanners: [
      { id: "scanner1", port: 0, scanDurationMs: 1200, exportDelayMs: 50 },
      { id: "scanner2", port: 0, scanDurationMs: 1200, exportDelayMs: 50 }
    ]
  })
  dir = mkdtempSync(join(tmpdir(), "nessus-mcp-e2e-"))
  scannerFile = join(dir, "scanners.yaml")
  writeFileSync(scannerFile, scannersYaml(sim.scanners.map((s) => s.url)))
  baseEnv = {
    REDIS_URL: redisUrl,
    REDIS_KEY_PREFIX: prefix,
    SCANNER_CONFIG: scannerFile,
    DATA_DIR: join(dir, "data"),
    CREDENTIALS_KEY: Credentials.generateKey(),
    LOG_LEVEL: "debug"
  }
  workers = [await startWorker("worker-a"), await startWorker("worker-b")]
  const port = await freePort()
  httpBase = `http://127.0.0.1:${port}`
  httpServer = spawnNode(serverBin, ["--transport", "http", "--port", String(port)], { ...baseEnv, MCP_BEARER_TOKENS: `e2e:${token}` })
  await waitFor("the HTTP server to be ready", async () => ((await fetch(`${httpBase}/health/ready`)).status === 200 ? true : undefined), 20_000)
  stdio = await connectStdio(baseEnv)
  http = await connectHttp(`${httpBase}/mcp`, token)
  admin = ManagedRuntime.make(
    Scheduler.layerRedis({ prefix }).pipe(
      Layer.provide(Credentials.layer()),
      Layer.provide(ScannerConfig.layer({ path: scannerFile })),
      Layer.provide(Redis.layer({ url: redisUrl }))
    )
  )
}, 60_000)

afterAll(async () => {
  await stdio?.close()
  await http?.close()
  await Promise.all([...workers, httpServer].filter((p) => p !== undefined).map((p) => p.stop()))
  await admin?.dispose()
  await sim?.close()
  if (dir) rmSync(dir, { recursive: true, force: true })
}, 60_000)

describe("e2e: MCP clients, two workers, Redis, simulator", () => {
  it("refuses a missing or wrong bearer token with 401 before anything else", async () => {
    const body = JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list", params: {} })
    const headers = { "content-type": "application/json", accept: "application/json, text/event-stream" }
    const missing = await fetch(`${httpBase}/mcp`, { method: "POST", headers, body })
    assert.strictEqual(missing.status, 401)
    assert.include(missing.headers.get("www-authenticate") ?? "", "Bearer")
    const wrong = await fetch(`${httpBase}/mcp`, { method: "POST", headers: { ...headers, authorization: `Bearer ${token}x` }, body })
    assert.strictEqual(wrong.status, 401)
  })

  it("lists the ten tools on both transports, with live pool figures from Redis", async () => {
    for (const client of [stdio, http]) {
      const { tools } = await client.client.listTools()
      assert.strictEqual(tools.length, 10)
    }
    const pools = await stdio.call("list_pools")
    assert.deepStrictEqual(pools, { pools: [{ pool: "nessus", scanners: 2, capacity: 4, is_default: true }], default_pool: "nessus" })
    const scanners = await http.call("list_scanners")
    assert.deepStrictEqual(scanners.scanners.map((s: any) => [s.id, s.capacity, s.url]), sim.scanners.map((s, i) => [`scanner${i + 1}`, 2, s.url]))
  })

  it("refuses out-of-scope targets on both transports without queuing anything", async () => {
    for (const client of [stdio, http]) {
      const refused = await client.raw("run_untrusted_scan", { targets: "192.0.2.5, 203.0.113.7", name: "outside" })
      assert.isTrue(refused.isError)
      const error = JSON.parse(refused.content[0].text).error
      assert.strictEqual(error.code, "TARGET_OUT_OF_SCOPE")
      assert.include(error.message, "203.0.113.7")
    }
    const listed = await http.call("list_tasks", { target: "203.0.113.7" })
    assert.deepStrictEqual(listed.tasks, [])
  })

  it("runs an untrusted (HTTP) and an authenticated (stdio) scan to completion; pages and filters the findings", async () => {
    const untrusted = await http.call("run_untrusted_scan", { targets: "192.0.2.10-192.0.2.12", name: "e2e untrusted" })
    assert.strictEqual(untrusted.status, "queued")
    assert.isNumber(untrusted.queue_position)
    assert.isNumber(untrusted.estimated_wait_minutes)
    const authenticated = await stdio.call("run_authenticated_scan", {
      targets: "192.0.2.20",
      name: "e2e authenticated",
      scan_type: "authenticated",
      credential: "linux-admin",
      scanner_instance: "scanner2"
    })
    assert.strictEqual(authenticated.scanner_url, sim.scanners[1]!.url)
    // each status is read through the other transport: both servers see the same Redis
    const a = await until(stdio, untrusted.task_id, finished)
    const b = await until(http, authenticated.task_id, finished)
    assert.strictEqual(a.status, "completed")
    assert.strictEqual(a.authentication_status, "not_applicable")
    assert.strictEqual(a.results_summary.hosts_scanned, 3)
    assert.strictEqual(b.status, "completed")
    assert.strictEqual(b.authentication_status, "success")
    assert.strictEqual(b.scanner_instance, "scanner2")
    assert.isNumber(b.nessus_scan_id)

    let cursor: string | null = null
    const seen: Array<string> = []
    let total = 0
    do {
      const args: Record<string, unknown> = { task_id: a.task_id, profile: "minimal", page_size: 40 }
      if (cursor !== null) args["cursor"] = cursor
      const page = await stdio.call("get_scan_results", args)
      total = page.total
      for (const f of page.findings) seen.push(`${f.host}/${f.plugin_id}`)
      cursor = page.next_cursor
    } while (cursor !== null)
    assert.strictEqual(seen.length, total)
    assert.strictEqual(total, a.results_summary.severity_breakdown.info + a.results_summary.total_vulnerabilities)

    const high = await http.call("get_scan_results", { task_id: a.task_id, filters: { severity: ">=3" }, profile: "summary", page_size: 200 })
    assert.strictEqual(high.total, a.results_summary.severity_breakdown.critical + a.results_summary.severity_breakdown.high)
    assert.isTrue(high.findings.every((f: any) => f.severity >= 3))
    const oneHost = await http.call("get_scan_results", { task_id: a.task_id, filters: { host: "192.0.2.11" }, profile: "minimal", page_size: 200 })
    assert.isAbove(oneHost.total, 0)
    assert.isTrue(oneHost.findings.every((f: any) => f.host === "192.0.2.11"))
    const jsonl = await http.raw("get_scan_results", { task_id: b.task_id, format: "jsonl", page_size: 2 })
    const lines = jsonl.content[0].text.split("\n").map((l: string) => JSON.parse(l))
    assert.deepStrictEqual(lines.map((l: any) => l.type), ["schema", "scan_metadata", "vulnerability", "vulnerability", "pagination"])
    const bad = await http.raw("get_scan_results", { task_id: a.task_id, filters: { severity: "very" } })
    assert.strictEqual(JSON.parse(bad.content[0].text).error.code, "INVALID_FILTER")
    const unknown = await stdio.raw("get_scan_status", { task_id: "t_AAAAAAAAAAAAAAAAAAAAAA" })
    assert.strictEqual(JSON.parse(unknown.content[0].text).error.code, "TASK_NOT_FOUND")
  })

  it("surfaces failed authentication (failed + troubleshooting) and failed escalation (partial), with inline credentials", async () => {
    const wrong = await http.call("run_authenticated_scan", {
      targets: "192.0.2.30",
      name: "e2e wrong password",
      scan_type: "authenticated",
      ssh_username: "scanuser",
      ssh_password: canaryPassword
    })
    const escalation = await stdio.call("run_authenticated_scan", {
      targets: "192.0.2.31",
      name: "e2e wrong sudo",
      scan_type: "authenticated_privileged",
      ssh_username: "scanuser",
      ssh_password: "scanpass",
      elevate_privileges_with: "sudo",
      escalation_password: canaryEscalation
    })
    inlineTasks.push(wrong.task_id, escalation.task_id)
    const failed = await until(stdio, wrong.task_id, finished)
    assert.strictEqual(failed.status, "failed")
    assert.strictEqual(failed.authentication_status, "failed")
    assert.include(failed.error_message, "192.0.2.30")
    assert.deepStrictEqual(failed.troubleshooting.affected_hosts, ["192.0.2.30"])
    assert.isAbove(failed.troubleshooting.next_steps.length, 0)
    const readable = await http.call("get_scan_results", { task_id: wrong.task_id, profile: "minimal" })
    assert.isAbove(readable.total, 0)
    const partial = await until(http, escalation.task_id, finished)
    assert.strictEqual(partial.status, "completed")
    assert.strictEqual(partial.authentication_status, "partial")
    assert.isAbove(partial.warnings.length, 0)
    const queue = await http.call("get_queue_status")
    assert.isAtLeast(queue.dlq_size, 1)
  })

  it("cancels a running scan: stopped on Nessus and its slot freed", async () => {
    const submitted = await http.call("run_untrusted_scan", { targets: "192.0.2.40", name: "e2e cancel running" })
    await until(stdio, submitted.task_id, (s) => s.status === "running" && s.nessus_scan_id !== null)
    const cancelled = await stdio.call("cancel_scan", { task_id: submitted.task_id })
    assert.deepStrictEqual([cancelled.previous_status, cancelled.outcome], ["running", "stop_requested"])
    const after = await statusOf(http, submitted.task_id)
    assert.strictEqual(after.status, "cancelled")
    await waitFor("the scan to be stopped on Nessus", async () => {
      const stops = Object.values(sim.stats().instances).reduce((n, i) => n + (i.api_calls["POST /scans/{id}/stop"] ?? 0), 0)
      return stops >= 1 ? true : undefined
    })
    await waitFor("the slot to be freed", async () => ((await http.call("get_pool_status")).running_scans === 0 ? true : undefined))
    const again = await http.raw("cancel_scan", { task_id: submitted.task_id })
    assert.strictEqual(JSON.parse(again.content[0].text).error.code, "NOT_CANCELLABLE")
  })

  it("runs 30 scans submitted at once without exceeding any scanner's capacity, FIFO; queued ones cancel cleanly", async () => {
    const submissions = await Promise.all(
      Array.from({ length: 30 }, (_, i) => http.call("run_untrusted_scan", { targets: `198.51.100.${i + 1}`, name: `burst ${i}` }))
    )
    // queue order = submission order as the queue recorded it (list_tasks is newest first)
    const listed = await stdio.call("list_tasks", { limit: 100, target: "198.51.100.0/24" })
    const order: Array<string> = listed.tasks.map((t: any) => t.task_id).reverse()
    assert.sameMembers(order, submissions.map((s) => s.task_id))
    const queued = await http.call("get_queue_status")
    assert.isAtLeast(queued.queue_depth, 20)
    assert.isTrue(queued.next_tasks.every((t: any) => Object.keys(t).sort().join() === "name,scan_type,task_id"))
    const tail = order.slice(-2)
    for (const id of tail) {
      const c = await stdio.call("cancel_scan", { task_id: id })
      assert.deepStrictEqual([c.previous_status, c.outcome], ["queued", "cancelled"])
    }
    const rest = order.slice(0, -2)
    const done = await waitFor("28 scans to finish", async () => {
      const all = await Promise.all(rest.map((id) => statusOf(http, id)))
      return all.every(finished) ? all : undefined
    }, 90_000, 500)
    assert.isTrue(done.every((s) => s.status === "completed"), JSON.stringify(done.map((s) => s.status)))
    for (const [id, instance] of Object.entries(sim.stats().instances)) {
      assert.isAtMost(instance.max_concurrent_running, 2, `scanner ${id} ran more scans at once than its capacity`)
    }
    // FIFO: a task never starts clearly after one queued behind it (same-moment claims by two workers may tie)
    const started = done.map((s) => Date.parse(s.started_at))
    for (let i = 0; i < started.length; i++) {
      for (let j = i + 1; j < started.length; j++) assert.isAtMost(started[i]!, started[j]! + 250, `task ${i} started after task ${j}`)
    }
    for (const id of tail) {
      assert.strictEqual((await statusOf(http, id)).status, "cancelled")
      assert.strictEqual(launchesOf(id), 0)
    }
  }, 120_000)

  it("finishes a scan whose worker was SIGKILLed mid-scan on the other worker, without launching it twice", async () => {
    const submitted = await stdio.call("run_untrusted_scan", { targets: "192.0.2.50", name: "e2e takeover" })
    await until(http, submitted.task_id, (s) => s.status === "running" && (s.phase === "launched" || s.phase === "polling"))
    const owner = (await task(submitted.task_id)).lease?.owner
    const victim = workers.find((_, i) => owner === ["worker-a", "worker-b"][i])
    assert.isDefined(victim, `lease owner ${owner}`)
    await victim!.stop("SIGKILL")
    const done = await until(stdio, submitted.task_id, finished, 30_000)
    assert.strictEqual(done.status, "completed")
    const after = await task(submitted.task_id)
    assert.isAtLeast(after.takeovers, 1)
    assert.notStrictEqual(after.lease?.owner ?? "", owner)
    assert.strictEqual(launchesOf(submitted.task_id), 1)
    for (const instance of Object.values(sim.stats().instances)) {
      for (const [name, count] of Object.entries(instance.scans_launched)) assert.strictEqual(count, 1, name)
    }
  }, 60_000)

  it("never shows inline credentials in tool output, Redis, the dead-letter queue or any log line", async () => {
    const dlq = await withScheduler((s) => s.dlqList())
    assert.isAtLeast(dlq.total, 1)
    const places: Record<string, string> = {
      "stdio tool results": stdio.transcript.join("\n"),
      "http tool results": http.transcript.join("\n"),
      "redis": await dumpRedis(redisUrl),
      "dead-letter queue": JSON.stringify(dlq),
      "stdio server log": stdio.stderr(),
      "http server log": httpServer.output(),
      "worker logs": workers.map((w) => w.output()).join("\n")
    }
    assert.include(places["redis"]!, prefix, "the dump covers this run's keys")
    assert.strictEqual(inlineTasks.length, 2)
    for (const id of inlineTasks) assert.include(places["worker logs"]!, id, "the logs cover the inline-credential scans")
    for (const [where, text] of Object.entries(places)) {
      assert.isAbove(text.length, 0, where)
      for (const canary of [canaryPassword, canaryEscalation]) assert.notInclude(text, canary, `${canary} leaked into ${where}`)
    }
  })
})
