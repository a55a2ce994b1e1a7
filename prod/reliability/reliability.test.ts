/**
 * `pnpm test:reliability`: the whole system under load, crashes and scanner faults, with real processes on
 * 127.0.0.1 only: a `redis-server` with AOF in a temporary directory, the Nessus simulator CLI (5 scanners of
 * capacity 2 in the main pool, plus one licence-gated scanner in a `legacy` pool), 3 `nessus-mcp-worker`
 * processes, `nessus-mcp` on Streamable HTTP with a bearer token, and this file as the driver, through the MCP
 * SDK client.
 *
 * One scenario runs first (300 submissions at once, workers SIGKILLed at seeded moments and restarted, Redis
 * restarted once, one scanner down until its circuit opens (it then closes by itself: a short CIRCUIT_COOLDOWN,
 * then one probe scan), one scanner with 5xx/429 bursts, revoked sessions
 * and stuck exports, one scanner behind the 412 licence gate); the tests after it check one guarantee each on
 * what it recorded and on the final state of Redis, the simulator, the logs and DATA_DIR. The summary table is
 * printed at the end. `RELIABILITY_SEED` replays another chaos schedule (default 8).
 *
 * Needs `pnpm build` (the executables are spawned from their dist/).
 */
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { Credentials, Redis, ScannerConfig, Scheduler } from "@nessus-mcp/scheduler"
import { Effect, Layer, ManagedRuntime } from "effect"
import { Redis as IORedis } from "ioredis"
import { randomBytes } from "node:crypto"
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { freePort, type RedisServer, startRedisServer } from "../../config/testing/redis.js"
import {
  CAPACITY,
  chaos,
  FLAKY_FAULTS,
  LEGACY_SCANNER,
  MAIN_SCANNERS,
  MAIN_TASKS,
  scannersYaml,
  simulatorYaml,
  type Submission,
  submissions
} from "./support/scenario.js"
import {
  connectHttp,
  dumpRedis,
  exportFromScanner,
  findingsOfExport,
  mapLimit,
  type McpClient,
  type Proc,
  readTree,
  requireBuilt,
  serverBin,
  sleep,
  spawnNode,
  startSimulator,
  table,
  waitFor,
  workerBin
} from "./support/system.js"

const seed = Number(process.env["RELIABILITY_SEED"] ?? 8)
const run = randomBytes(4).toString("hex")
const prefix = `{rel-${run}}:`
const canary = { password: `canary-${run}-Pw`, sudo: `canary-${run}-Sudo` }
const token = `rel-token-${randomBytes(16).toString("hex")}`
const POOLS = ["nessus", "legacy"] as const
const TERMINAL = ["completed", "failed", "timeout", "cancelled"]
/**
 * The workers' circuit policy (CIRCUIT_FAILURE_THRESHOLD, CIRCUIT_COOLDOWN). The cooldown is short so s4's
 * circuit closes by itself within the run, and longer than the 2 s that s4 stays down after its circuit
 * opened, so the first probe finds it back (a failed probe would reopen it and cost a bound task an attempt).
 */
const CIRCUIT = { threshold: 5, cooldownMs: 6_000 }
/** Down for this long after the circuit opened: work meant for s4 must wait or go elsewhere meanwhile. */
const HOLD_DOWN_MS = 2_000

let dir: string
let redis: RedisServer
let simulator: Proc
let simUrls: Record<string, string>
let scannerFile: string
let baseEnv: Record<string, string>
let server: Proc
let serverBase: string
let mcp: McpClient
let admin: ManagedRuntime.ManagedRuntime<Scheduler.Scheduler, unknown>
/** Every worker process ever started (killed ones keep their output for the log checks). */
const workers: Array<Proc & { id: string; metricsPort: number; slot: number }> = []
let generation = 0

/** Set when the suite ends: chaos loops still running after a failure must not start new processes. */
let ended = false

const startWorker = async (slot: number) => {
  if (ended) throw new Error("the suite has ended")
  const id = `w${slot}-g${generation++}`
  const metricsPort = await freePort()
  const proc = spawnNode(id, workerBin, [], {
    ...baseEnv,
    WORKER_ID: id,
    WORKER_CONCURRENCY: "6",
    METRICS_PORT: String(metricsPort),
    WORKER_POLL_INITIAL: "100 millis",
    WORKER_POLL_MAX: "300 millis",
    WORKER_IDLE_INTERVAL: "100 millis",
    WORKER_HEARTBEAT_INTERVAL: "750 millis",
    WORKER_LEASE_DURATION: "3 seconds",
    WORKER_SHUTDOWN_TIMEOUT: "5 seconds",
    HOUSEKEEPING_INTERVAL: "off",
    // Shorter in-place retries: an attempt against the dead s4 fails in ~9 s instead of ~15-20 s (still 3
    // retries, enough to absorb s5's bursts without a task-level retry).
    WORKER_RETRY_ATTEMPTS: "3",
    WORKER_RETRY_BASE: "250 millis",
    CIRCUIT_FAILURE_THRESHOLD: String(CIRCUIT.threshold),
    CIRCUIT_COOLDOWN: `${CIRCUIT.cooldownMs} millis`
  })
  const worker = Object.assign(proc, { id, metricsPort, slot })
  workers.push(worker)
  return worker
}
const liveWorkers = () => workers.filter((w) => !w.exited())

const withScheduler = <A>(f: (s: Scheduler.Scheduler["Service"]) => Effect.Effect<A, unknown>) =>
  admin.runPromise(Effect.gen(function*() {
    return yield* f(yield* Scheduler.Scheduler)
  }))

const simStats = async (): Promise<{ instances: Record<string, any> }> => (await fetch(`${simUrls["s1"]}/_sim/stats`)).json() as any
const setFaults = async (instance: string, faults: Record<string, unknown>) => {
  const res = await fetch(`${simUrls[instance]}/_sim/faults`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(faults) })
  assert.strictEqual(res.status, 200, `faults on ${instance}: ${await res.text()}`)
}
const getFaults = async (instance: string): Promise<Record<string, any>> => (await fetch(`${simUrls[instance]}/_sim/faults`)).json() as any

// -- what the scenario records ---------------------------------------------------------------------------

interface Submitted {
  readonly submission: Submission
  readonly taskId: string
  readonly replay: boolean
}
const rec = {
  wallStart: 0,
  submitStartedAt: 0,
  submittedAt: 0,
  finishedAt: 0,
  calls: 0,
  submitted: [] as Array<Submitted>,
  duplicates: [] as Array<{ index: number; ids: Array<string>; replays: Array<boolean> }>,
  conflict: undefined as any,
  kills: [] as Array<{ atMs: number; worker: string; runningTasks: number }>,
  redisRestart: undefined as undefined | { atMs: number; downMs: number },
  flaky: [] as Array<{ label: string; atMs: number; consumed: boolean }>,
  outage: { downAtMs: 0, openedAtMs: -1, openSeenAtMs: -1, liftedAtMs: -1, closedSeenAtMs: -1 },
  circuitStatesSeen: new Map<string, Set<string>>(),
  maxRunningSeen: new Map<string, number>(),
  statuses: new Map<string, any>(),
  tasks: new Map<string, any>(),
  seq: new Map<string, number>(),
  fifo: { judged: 0, worstMs: 0 },
  metrics: [] as Array<string>,
  errors: [] as Array<string>
}
const taskIds = () => [...new Set(rec.submitted.map((s) => s.taskId))]
const expectationOf = (id: string) => rec.submitted.find((s) => s.taskId === id)!.submission

beforeAll(async () => {
  requireBuilt()
  rec.wallStart = Date.now()
  dir = mkdtempSync(join(tmpdir(), "nessus-mcp-reliability-"))
  redis = await startRedisServer({ appendonly: true, appendfsync: "everysec" })
  const simFile = join(dir, "simulator.yaml")
  writeFileSync(simFile, simulatorYaml(canary))
  const sim = await startSimulator(simFile)
  simulator = sim.proc
  simUrls = sim.urls
  scannerFile = join(dir, "scanners.yaml")
  writeFileSync(scannerFile, scannersYaml(simUrls))
  baseEnv = {
    REDIS_URL: redis.url,
    REDIS_KEY_PREFIX: prefix,
    SCANNER_CONFIG: scannerFile,
    DATA_DIR: join(dir, "data"),
    CREDENTIALS_KEY: Credentials.generateKey(),
    LOG_LEVEL: "debug"
  }
  const port = await freePort()
  serverBase = `http://127.0.0.1:${port}`
  server = spawnNode("mcp-server", serverBin, ["--transport", "http", "--port", String(port)], { ...baseEnv, MCP_BEARER_TOKENS: `driver:${token}` })
  for (let slot = 0; slot < 3; slot++) await startWorker(slot)
  await waitFor("the MCP server to be ready", async () => ((await fetch(`${serverBase}/health/ready`)).status === 200 ? true : undefined), 30_000)
  await waitFor("the workers to be ready", async () => {
    const codes = await Promise.all(workers.map((w) => fetch(`http://127.0.0.1:${w.metricsPort}/health/live`).then((r) => r.status)))
    return codes.every((c) => c === 200) ? true : undefined
  }, 30_000)
  mcp = await connectHttp(`${serverBase}/mcp`, token)
  admin = ManagedRuntime.make(
    Scheduler.layerRedis({ prefix }).pipe(
      Layer.provide(Credentials.layer()),
      Layer.provide(ScannerConfig.layer({ path: scannerFile })),
      Layer.provide(Redis.layer({ url: redis.url }))
    )
  )
}, 90_000)

afterAll(async () => {
  ended = true
  await mcp?.close()
  await Promise.all([...liveWorkers(), server].filter((p) => p !== undefined).map((p) => p.stop()))
  await admin?.dispose()
  await simulator?.stop()
  await redis?.dispose()
  if (dir && process.env["RELIABILITY_KEEP"] === undefined) rmSync(dir, { recursive: true, force: true })
}, 60_000)

// -- the scenario ------------------------------------------------------------------------------------------

const submit = (s: Submission) => {
  rec.calls++
  return mcp.call(s.tool, s.args)
}

/** Watches the scanners through MCP every 300 ms: running scans and circuit states as agents see them. */
const monitor = (done: () => boolean) =>
  (async () => {
    while (!done()) {
      try {
        const { scanners } = await mcp.call("list_scanners")
        for (const s of scanners as Array<any>) {
          rec.maxRunningSeen.set(s.id, Math.max(rec.maxRunningSeen.get(s.id) ?? 0, s.running_scans))
          const seen = rec.circuitStatesSeen.get(s.id) ?? new Set<string>()
          seen.add(s.circuit_state)
          rec.circuitStatesSeen.set(s.id, seen)
        }
      } catch {
        // Redis is restarting: list_scanners is UNAVAILABLE for a moment.
      }
      await sleep(300)
    }
  })()

/**
 * s4 is down from before the first submission until its circuit has opened, and HOLD_DOWN_MS more; then it
 * comes back and nobody touches the circuit: after the cooldown a claim for s4 becomes the probe
 * (open → half-open), and its success closes it (half-open → closed).
 */
const outage = async (t0: () => number) => {
  await waitFor("the circuit of s4 to open", async () => {
    const { scanners } = await mcp.call("list_scanners", { scanner_pool: "nessus" })
    return scanners.find((s: any) => s.id === "s4")?.circuit_state === "open" ? true : undefined
  }, 150_000, 250)
  rec.outage.openSeenAtMs = Date.now() - t0()
  // Hold relative to when the circuit really opened (the store's clock), not to when the driver noticed it.
  const opened = await withScheduler((s) => s.circuitTransitions(1000)).then((ts: ReadonlyArray<any>) =>
    ts.find((t) => t.instanceId === "s4" && t.to === "open")
  )
  const openedAt = opened === undefined ? Date.now() : Date.parse(opened.at)
  rec.outage.openedAtMs = openedAt - t0()
  await sleep(Math.max(0, openedAt + HOLD_DOWN_MS - Date.now()))
  await setFaults("s4", {})
  rec.outage.liftedAtMs = Date.now() - t0()
  await waitFor("the circuit of s4 to close by itself (cooldown, then a successful probe)", async () => {
    const { scanners } = await mcp.call("list_scanners", { scanner_pool: "nessus" })
    return scanners.find((s: any) => s.id === "s4")?.circuit_state === "closed" ? true : undefined
  }, CIRCUIT.cooldownMs + 30_000, 250)
  rec.outage.closedSeenAtMs = Date.now() - t0()
}

const killWorkers = async (schedule: ReturnType<typeof chaos>, t0: number) => {
  for (const kill of schedule.kills) {
    await sleep(Math.max(0, t0 + kill.atMs - Date.now()))
    if (ended) return
    const live = liveWorkers()
    const victim = live[kill.victim % live.length]!
    const running = await withScheduler((s) => s.list({ state: "running", limit: 100 })).then(
      (p: any) => p.tasks.filter((t: any) => t.lease?.owner === victim.id).length,
      () => -1
    )
    // Its /metrics while busy, for the secret checks (a killed worker's metrics are gone afterwards).
    await fetch(`http://127.0.0.1:${victim.metricsPort}/metrics`).then((r) => r.text()).then((t) => rec.metrics.push(t), () => undefined)
    await victim.stop("SIGKILL")
    rec.kills.push({ atMs: Date.now() - t0, worker: victim.id, runningTasks: running })
    await sleep(kill.restartAfterMs)
    await startWorker(victim.slot)
  }
}

const restartRedis = async (schedule: ReturnType<typeof chaos>, t0: number) => {
  await sleep(Math.max(0, t0 + schedule.redisRestartAtMs - Date.now()))
  if (ended) return
  const at = Date.now()
  await redis.restart(false)
  rec.redisRestart = { atMs: at - t0, downMs: Date.now() - at }
}

const flakyScanner = async (schedule: ReturnType<typeof chaos>, t0: number) => {
  for (let i = 0; i < FLAKY_FAULTS.length; i++) {
    const step = FLAKY_FAULTS[i]!
    await sleep(Math.max(0, t0 + schedule.flakyAtMs[i]! - Date.now()))
    await setFaults("s5", step.faults)
    const entry = { label: step.label, atMs: Date.now() - t0, consumed: false }
    rec.flaky.push(entry)
    if (step.holdMs !== undefined) {
      await sleep(step.holdMs)
      await setFaults("s5", {})
      entry.consumed = true
    } else {
      // Counted faults are used up by the workers' requests (proof they were served); one-shot ones at once.
      entry.consumed = await waitFor(`s5 to serve "${step.label}"`, async () => {
        const f = await getFaults("s5")
        return f["errorBurst"] === undefined && f["rateLimit"] === undefined && f["revokeSessions"] !== true ? true : undefined
      }, 20_000, 100).catch(() => false)
    }
  }
  await setFaults("s5", {})
}

const allDone = async () => {
  for (const pool of POOLS) {
    const p = await mcp.call("get_pool_status", { scanner_pool: pool })
    if (p.queue_depth !== 0 || p.running_scans !== 0) return undefined
  }
  const page = await withScheduler((s) => s.list({ state: "queued", limit: 1 })) as any
  return page.tasks.length === 0 ? true : undefined
}

describe("reliability: 300 scans through crashes, a Redis restart and scanner faults", () => {
  it("runs the scenario: every submission is acknowledged and every task reaches a terminal state", async () => {
    const all = submissions(seed, run, canary)
    const schedule = chaos(seed)
    await setFaults("s4", { down: true })
    rec.outage.downAtMs = 0

    // 1. Submit everything at once; idempotent submissions twice, plus one conflicting reuse of a key.
    const t0 = Date.now()
    rec.submitStartedAt = t0
    const idem = all.filter((s) => s.kind === "untrusted-idempotent")
    const calls = all.map((s) => submit(s).then((r) => ({ s, r })))
    const dupCalls = idem.map((s) => submit(s).then((r) => ({ s, r })))
    const [firsts, dups] = await Promise.all([Promise.all(calls), Promise.all(dupCalls)])
    rec.submittedAt = Date.now()
    for (const { r, s } of firsts) rec.submitted.push({ submission: s, taskId: r.task_id, replay: r.idempotent_replay })
    for (const { r, s } of dups) {
      const first = firsts.find((f) => f.s.index === s.index)!.r
      rec.duplicates.push({ index: s.index, ids: [first.task_id, r.task_id], replays: [first.idempotent_replay, r.idempotent_replay] })
    }
    const reused = idem[0]!
    rec.conflict = await mcp.raw("run_untrusted_scan", { ...reused.args, targets: "198.51.100.254" })
    rec.calls++
    assert.strictEqual(firsts.length, all.length)

    // 2. Chaos while the queue drains, relative to the acknowledgement of the last submission.
    const t1 = rec.submittedAt
    let finished = false
    const watching = monitor(() => finished)
    const chaosDone = Promise.all([
      outage(() => t1),
      killWorkers(schedule, t1),
      restartRedis(schedule, t1),
      flakyScanner(schedule, t1)
    ])
    await chaosDone
    await waitFor("every task to reach a terminal state", () => allDone(), 200_000, 500)
    finished = true
    await watching
    rec.finishedAt = Date.now()

    // 3. Collect the final picture: statuses through MCP, tasks and queue order from the scheduler's store.
    const ids = taskIds()
    const statuses = await mapLimit(ids, 8, (id) => mcp.call("get_scan_status", { task_id: id }))
    ids.forEach((id, i) => rec.statuses.set(id, statuses[i]))
    const tasks = await mapLimit(ids, 8, (id) => withScheduler((s) => s.get(id)))
    ids.forEach((id, i) => rec.tasks.set(id, tasks[i]))
    const r = new IORedis(redis.url)
    for (const id of ids) rec.seq.set(id, Number(await r.hget(`${prefix}task:${id}`, "seq")))
    r.disconnect()
    const notTerminal = statuses.filter((s) => !TERMINAL.includes(s.status))
    assert.deepStrictEqual(notTerminal.map((s) => `${s.task_id}:${s.status}`), [])
    assert.isBelow(t0, rec.submittedAt)
  }, 240_000)

  it("made one task per logical submission: idempotent duplicates returned the same task, a changed reuse is a conflict", async () => {
    assert.strictEqual(rec.submitted.length, MAIN_TASKS + 3)
    assert.strictEqual(taskIds().length, MAIN_TASKS + 3, "one task per logical submission")
    assert.strictEqual(rec.duplicates.length, 30)
    for (const d of rec.duplicates) {
      assert.strictEqual(d.ids[0], d.ids[1], `submission ${d.index} sent twice made two tasks`)
      assert.sameMembers(d.replays, [false, true], `submission ${d.index}: exactly one of the two calls created the task`)
    }
    assert.isTrue(rec.conflict.isError)
    assert.strictEqual(JSON.parse(rec.conflict.content[0].text).error.code, "IDEMPOTENCY_CONFLICT")
    const r = new IORedis(redis.url)
    const indexed = await r.zcard(`${prefix}index`).finally(() => r.disconnect())
    assert.strictEqual(indexed, MAIN_TASKS + 3, "the store holds exactly the acknowledged tasks (none lost by the Redis restart, none extra)")
  })

  it("completed every task that could complete, and failed the others for their expected reason only", () => {
    const wrong: Array<string> = []
    for (const id of taskIds()) {
      const s = rec.statuses.get(id)
      const want = expectationOf(id).expect
      const t = rec.tasks.get(id)
      if (want.status === "completed") {
        if (s.status !== "completed") wrong.push(`${id} (${expectationOf(id).kind}) is ${s.status}: ${s.error_message}`)
      } else {
        const reason = t.errors.at(-1)?.reason
        if (s.status !== "failed" || reason !== want.reason) wrong.push(`${id} (${expectationOf(id).kind}) is ${s.status}/${reason}, expected failed/${want.reason}`)
      }
    }
    assert.deepStrictEqual(wrong, [])
    for (const id of taskIds()) {
      const { kind } = expectationOf(id)
      const s = rec.statuses.get(id)
      if (kind.startsWith("authenticated") || kind.startsWith("privileged")) assert.strictEqual(s.authentication_status, "success", `${id} ${kind}`)
      if (kind.startsWith("untrusted")) assert.strictEqual(s.authentication_status, "not_applicable", `${id} ${kind}`)
      if (kind === "inline-wrong-password") assert.strictEqual(s.authentication_status, "failed", `${id} ${kind}`)
    }
  })

  it("serves each completed task's findings exactly as the scanner exported them", async () => {
    const completed = taskIds().filter((id) => rec.statuses.get(id).status === "completed")
    const mismatches: Array<string> = []
    await mapLimit(completed, 6, async (id) => {
      const s = rec.statuses.get(id)
      const xml = await exportFromScanner(simUrls[s.scanner_instance]!, s.nessus_scan_id)
      const truth = findingsOfExport(xml)
      const served: Array<string> = []
      let cursor: string | null = null
      do {
        const args: Record<string, unknown> = { task_id: id, fields: ["host", "plugin_id", "port", "severity"], page_size: 200 }
        if (cursor !== null) args["cursor"] = cursor
        const page: any = await mcp.call("get_scan_results", args)
        for (const f of page.findings) served.push(`${f.host}|${f.plugin_id}|${f.port}|${f.severity}`)
        cursor = page.next_cursor
      } while (cursor !== null)
      const expected = truth.findings.map((f) => `${f.host}|${f.pluginId}|${f.port}|${f.severity}`)
      const bySeverity = [0, 1, 2, 3, 4].map((v) => truth.findings.filter((f) => f.severity === v).length)
      const summary = s.results_summary
      const breakdown = summary.severity_breakdown
      const problems = [
        summary.hosts_scanned !== truth.hosts.length && `hosts ${summary.hosts_scanned} vs ${truth.hosts.length}`,
        served.length !== expected.length && `findings ${served.length} vs ${expected.length}`,
        JSON.stringify([...served].sort()) !== JSON.stringify([...expected].sort()) && "the findings differ",
        JSON.stringify([breakdown.info, breakdown.low, breakdown.medium, breakdown.high, breakdown.critical]) !== JSON.stringify(bySeverity) &&
        `severities ${JSON.stringify(breakdown)} vs ${JSON.stringify(bySeverity)}`,
        summary.total_vulnerabilities !== expected.length - bySeverity[0]! && `total_vulnerabilities ${summary.total_vulnerabilities}`
      ].filter(Boolean)
      if (truth.hosts.length === 0 || expected.length === 0) problems.push("empty export")
      if (problems.length > 0) mismatches.push(`${id} on ${s.scanner_instance}: ${problems.join("; ")}`)
    })
    assert.deepStrictEqual(mismatches, [])
    assert.isAtLeast(completed.length, MAIN_TASKS - 6)
  })

  it("launched no scan twice, ran every completed task's final scan once, and completed no task twice", async () => {
    const stats = await simStats()
    const twice: Array<string> = []
    for (const [instance, st] of Object.entries(stats.instances)) {
      for (const [name, n] of Object.entries(st.scans_launched as Record<string, number>)) if (n !== 1) twice.push(`${instance} launched ${name} ${n}x`)
      for (const [name, n] of Object.entries(st.scans_created as Record<string, number>)) if (n !== 1) twice.push(`${instance} created ${name} ${n}x`)
    }
    assert.deepStrictEqual(twice, [])
    const launchedNames = new Set(Object.values(stats.instances).flatMap((st: any) => Object.keys(st.scans_launched)))
    const logs = workers.map((w) => w.output()).join("\n")
    const completions = new Map<string, number>()
    for (const line of logs.split("\n")) {
      if (!line.includes("task completed")) continue
      const id = /"task_id":"([^"]+)"/.exec(line)?.[1]
      if (id) completions.set(id, (completions.get(id) ?? 0) + 1)
    }
    for (const id of taskIds()) {
      const t = rec.tasks.get(id)
      assert.isAtMost(completions.get(id) ?? 0, 1, `task ${id} reported completed more than once`)
      if (t.state === "completed") {
        assert.isTrue(launchedNames.has(t.scanName), `completed task ${id}: its scan ${t.scanName} was launched`)
      }
    }
  })

  it("never ran more scans on a scanner than its capacity, as the scanners and the scheduler saw it", async () => {
    const stats = await simStats()
    for (const [instance, st] of Object.entries(stats.instances)) {
      assert.isAtMost(st.max_concurrent_running, CAPACITY, `${instance} ran ${st.max_concurrent_running} scans at once`)
    }
    for (const [instance, n] of rec.maxRunningSeen) assert.isAtMost(n, CAPACITY, `list_scanners showed ${n} running on ${instance}`)
    // The test is not vacuous: the steady scanners were full at some point.
    assert.strictEqual(stats.instances["s1"].max_concurrent_running, CAPACITY)
  })

  it("started tasks of equal standing in submission order (FIFO per pool)", () => {
    // Equal standing: main-pool tasks claimed once (no retry), not bound to an instance. Their claim time is
    // the claiming worker's clock read just before its atomic claim, so two claims racing from different
    // processes can be stamped out of order by the time between that read and the script running: up to a
    // few hundred ms on this loaded 2-core machine, and up to the reconnect delay (<= 2 s) around the Redis
    // restart, where a claim queued before the outage runs after one queued later. Hence 1 s of tolerance,
    // and claims within 3 s of the restart are left out.
    const restart = rec.redisRestart!
    const nearRestart = (ms: number) => ms >= rec.submittedAt + restart.atMs - 1_000 && ms <= rec.submittedAt + restart.atMs + restart.downMs + 3_000
    const equal = taskIds()
      .map((id) => rec.tasks.get(id))
      .filter((t) => t.pool === "nessus" && t.attempt === 1 && t.requestedInstance === undefined && t.startedAt !== undefined)
      .map((t) => ({ id: t.id, seq: rec.seq.get(t.id)!, started: Date.parse(t.startedAt) }))
      .filter((t) => !nearRestart(t.started))
      .sort((a, b) => a.seq - b.seq)
    assert.isAtLeast(equal.length, 200, "enough tasks of equal standing to judge the order")
    const inversions: Array<string> = []
    let latest = equal[0]!
    let worst = 0
    for (const t of equal) {
      worst = Math.max(worst, latest.started - t.started)
      if (t.started + 1_000 < latest.started) inversions.push(`${t.id} (seq ${t.seq}) started ${latest.started - t.started} ms before ${latest.id} (seq ${latest.seq})`)
      if (t.started > latest.started) latest = t
    }
    rec.fifo = { judged: equal.length, worstMs: worst }
    assert.deepStrictEqual(inversions, [])
  })

  it("survived the crashes: takeovers resumed scans, Redis came back with every task, nothing leaked", async () => {
    assert.strictEqual(rec.kills.length, 4)
    assert.isDefined(rec.redisRestart)
    const takenOver = [...rec.tasks.values()].filter((t) => t.takeovers > 0)
    assert.isAtLeast(takenOver.length, 1, "the SIGKILLs interrupted running tasks")
    for (const pool of POOLS) {
      const p = await mcp.call("get_pool_status", { scanner_pool: pool })
      assert.strictEqual(p.running_scans, 0, `${pool}: running scans after the run`)
    }
    const { scanners } = await mcp.call("list_scanners")
    for (const s of scanners) assert.strictEqual(s.running_scans, 0, `${s.id}: running scans after the run`)
    const r = new IORedis(redis.url)
    try {
      const live = await r.hgetall(`${prefix}scanners`)
      for (const [field, value] of Object.entries(live)) if (field.endsWith(":running")) assert.strictEqual(Number(value), 0, `Redis ${field}`)
      for (const pool of POOLS) assert.strictEqual(await r.zcard(`${prefix}leases:${pool}`), 0, `Redis leases:${pool}`)
    } finally {
      r.disconnect()
    }
    const stats = await simStats()
    for (const [instance, st] of Object.entries(stats.instances)) assert.strictEqual(st.running_now, 0, `${instance} still runs scans`)
  })

  it("rode out the scanner faults: s4's circuit opened and closed by itself, s5's bursts were absorbed, s3 used the web UI path, legacy failed for good", async () => {
    const transitions = await withScheduler((s) => s.circuitTransitions(1000)) as ReadonlyArray<any>
    const s4 = transitions.filter((t) => t.instanceId === "s4").reverse()
    const path = s4.map((t) => `${t.from}->${t.to}`)
    // closed → open → (cooldown) half-open → (probe succeeded) closed, as one unbroken chain, with no reset
    assert.strictEqual(path[0], "closed->open", path.join(", "))
    assert.includeMembers(path, ["closed->open", "open->half_open", "half_open->closed"])
    assert.strictEqual(path.at(-1), "half_open->closed", path.join(", "))
    for (let i = 1; i < s4.length; i++) assert.strictEqual(s4[i].from, s4[i - 1].to, `unbroken chain: ${path.join(", ")}`)
    assert.deepStrictEqual(s4.filter((t) => t.reason === "reset by operator"), [], "nobody reset the circuit")
    assert.match(s4[0].reason, new RegExp(`^${CIRCUIT.threshold} consecutive failures`), "CIRCUIT_FAILURE_THRESHOLD reached the workers")
    for (let i = 1; i < s4.length; i++) {
      if (s4[i].to !== "half_open") continue
      const waited = Date.parse(s4[i].at) - Date.parse(s4[i - 1].at)
      assert.isAtLeast(waited, CIRCUIT.cooldownMs, "the probe came after CIRCUIT_COOLDOWN")
      assert.isBelow(waited, CIRCUIT.cooldownMs + 30_000, "and not minutes later (the 5-minute default)")
    }
    assert.strictEqual(s4.at(-1).reason, "probe succeeded")
    assert.isTrue(rec.circuitStatesSeen.get("s4")?.has("open"), "list_scanners showed s4 open")
    const { scanners } = await mcp.call("list_scanners")
    assert.deepStrictEqual(scanners.map((s: any) => s.circuit_state), scanners.map(() => "closed"))
    const tasks = [...rec.tasks.values()]
    // Work that failed on s4 went elsewhere (pool tasks) or waited for it (tasks bound to s4), within the budget.
    const failuresOnS4 = tasks.flatMap((t) => t.errors.filter((e: any) => e.instanceId === "s4"))
    assert.isAtLeast(failuresOnS4.length, CIRCUIT.threshold, "five consecutive failures opened s4's circuit")
    for (const t of tasks.filter((t) => t.errors.some((e: any) => e.instanceId === "s4"))) {
      // Its outcome is the one it would have had anyway (completed, or the wrong-password scans' verdict).
      const want = expectationOf(t.id).expect
      assert.strictEqual(t.state, want.status, `${t.id} failed on s4, then ended ${t.state}`)
      if (want.status === "failed") assert.strictEqual(t.errors.at(-1)?.reason, want.reason)
      assert.isAtMost(t.attempt, 4, `${t.id} within the retry budget (3 retries)`)
    }
    for (const t of tasks.filter((t) => t.requestedInstance === "s4")) {
      assert.strictEqual(t.state, "completed")
      assert.strictEqual(t.instance, "s4")
    }
    const stats = await simStats()
    assert.isAbove(Object.keys(stats.instances["s4"].scans_launched).length, 0, "s4 took scans again after its circuit closed")
    // s5: every fault was served, and nothing failed for good because of them.
    assert.strictEqual(rec.flaky.length, FLAKY_FAULTS.length)
    for (const f of rec.flaky) assert.isTrue(f.consumed, `s5 served "${f.label}"`)
    assert.isAtLeast(stats.instances["s5"].sessions_created, 2, "revoked sessions were renewed")
    assert.isAbove(tasks.filter((t) => t.instance === "s5" && t.state === "completed").length, 0)
    // s3: scan creation is gated (412 without the web UI token); the worker used the token and ran scans.
    assert.isAbove(stats.instances["s3"].api_calls["GET /nessus6.js"] ?? 0, 0)
    assert.isAbove(tasks.filter((t) => t.instance === "s3" && t.state === "completed").length, 0)
    // legacy: api_mode api behind the gate is a permanent failure with a reason that says what to do.
    const legacy = tasks.filter((t) => t.pool === "legacy")
    assert.strictEqual(legacy.length, 3)
    const dlq = await withScheduler((s) => s.dlqList("legacy", { limit: 10 })) as any
    assert.strictEqual(dlq.total, 3)
    for (const e of dlq.entries) {
      assert.strictEqual(e.lastError.reason, "api_unavailable")
      assert.strictEqual(e.task.attempt, 1, "a permanent failure is not retried")
      assert.match(e.lastError.message, /412|API is not available|web-ui/i)
    }
    // Nothing in the main pool failed for a scanner reason.
    const main = await withScheduler((s) => s.dlqList("nessus", { limit: 100 })) as any
    assert.deepStrictEqual([...new Set(main.entries.map((e: any) => e.lastError.reason))], ["authentication_failed"])
  })

  it("never let the canary passwords out: Redis (every key, the AOF), logs, /metrics, tool outputs, the DLQ, DATA_DIR", async () => {
    const inline = rec.submitted.filter((s) => s.submission.inline).map((s) => s.taskId)
    assert.isAtLeast(inline.length, 50)
    const dlq = await withScheduler((s) => Effect.all(POOLS.map((p) => s.dlqList(p, { limit: 1000 }))))
    const dlqText = JSON.stringify(dlq)
    const inspected = await mapLimit((dlq as any).flatMap((d: any) => d.entries.map((e: any) => e.task.id)), 4, (id: string) => withScheduler((s) => s.dlqInspect(id)))
    const metrics = await Promise.all([
      fetch(`${serverBase}/metrics`).then((r) => r.text()),
      ...liveWorkers().map((w) => fetch(`http://127.0.0.1:${w.metricsPort}/metrics`).then((r) => r.text()))
    ])
    const artifacts = readTree(baseEnv["DATA_DIR"]!)
    const aof = readTree(join(redis.dir, "appendonlydir"))
    const places: Record<string, string> = {
      "Redis keys and values": await dumpRedis(redis.url),
      "Redis AOF files": aof.map((f) => f.text).join("\n"),
      "Redis log": readTree(redis.dir).filter((f) => f.path.endsWith(".log")).map((f) => f.text).join("\n"),
      "tool outputs": mcp.transcript.join("\n"),
      "dead-letter queue": dlqText + JSON.stringify(inspected),
      "MCP server log": server.output(),
      "worker logs": workers.map((w) => w.output()).join("\n"),
      "/metrics": [...rec.metrics, ...metrics].join("\n")
    }
    // Each place really covers the inline-credential tasks.
    const sample = inline[0]!
    assert.include(places["Redis keys and values"]!, `task:${sample}`)
    assert.include(places["worker logs"]!, sample)
    assert.include(places["MCP server log"]!, sample)
    assert.isTrue(artifacts.some((f) => f.path.includes(sample)))
    assert.include(places["dead-letter queue"]!, "authentication_failed")
    assert.include(places["/metrics"]!, "nessus_")
    assert.isAtLeast(rec.metrics.length + metrics.length, 5, "metrics of the server, the live workers and the killed ones")
    for (const [where, text] of Object.entries(places)) {
      assert.isAbove(text.length, 0, where)
      for (const secret of [canary.password, canary.sudo]) assert.notInclude(text, secret, `a canary leaked into ${where}`)
    }
    // DATA_DIR file by file (hundreds of exports and indexes are too much for one string).
    assert.isAbove(artifacts.length, MAIN_TASKS)
    const leaking = artifacts.filter((f) => f.text.includes(canary.password) || f.text.includes(canary.sudo)).map((f) => f.path)
    assert.deepStrictEqual(leaking, [], "a canary leaked into DATA_DIR")
  })

  it("prints the summary", async () => {
    const stats = await simStats()
    const tasks = [...rec.tasks.values()]
    const statuses = [...rec.statuses.values()]
    const failedBy = new Map<string, number>()
    for (const t of tasks) if (t.state === "failed") failedBy.set(t.errors.at(-1)?.reason ?? "?", (failedBy.get(t.errors.at(-1)?.reason ?? "?") ?? 0) + 1)
    const retryReasons = new Map<string, number>()
    for (const t of tasks) for (const e of t.errors) if (!(t.state === "failed" && e === t.errors.at(-1))) retryReasons.set(e.reason, (retryReasons.get(e.reason) ?? 0) + 1)
    const transitions = await withScheduler((s) => s.circuitTransitions(1000)) as ReadonlyArray<any>
    const wall = (ms: number) => `${(ms / 1000).toFixed(1)} s`
    const rows: Array<[string, string | number]> = [
      ["seed", seed],
      ["MCP submission calls (incl. 30 duplicates, 1 conflict)", rec.calls],
      ["tasks submitted (main pool + legacy)", `${taskIds().length} (${MAIN_TASKS} + 3)`],
      ["completed", statuses.filter((s) => s.status === "completed").length],
      ...[...failedBy].map(([reason, n]): [string, number] => [`failed: ${reason} (expected)`, n]),
      ["tasks retried (attempt > 1)", tasks.filter((t) => t.attempt > 1).length],
      ["retries by reason", [...retryReasons].map(([r, n]) => `${r} ${n}`).join(", ") || "0"],
      ["FIFO: tasks of equal standing judged, worst out-of-order start", `${rec.fifo.judged}, ${rec.fifo.worstMs} ms (tolerance 1000 ms)`],
      [
        "s4: failed attempts; tasks then finished elsewhere / on s4",
        (() => {
          const hit = tasks.filter((t) => t.errors.some((e: any) => e.instanceId === "s4"))
          return `${hit.reduce((n, t) => n + t.errors.filter((e: any) => e.instanceId === "s4").length, 0)}; ${
            hit.filter((t) => t.instance !== "s4").length
          } / ${hit.filter((t) => t.instance === "s4").length}`
        })()
      ],
      [
        "s4: tasks that failed there, by final state",
        (() => {
          const hit = tasks.filter((t) => t.errors.some((e: any) => e.instanceId === "s4"))
          const by = new Map<string, number>()
          for (const t of hit) by.set(t.state, (by.get(t.state) ?? 0) + 1)
          return [...by].map(([k, n]) => `${k} ${n}`).join(", ")
        })()
      ],
      ["tasks resumed after takeover", tasks.filter((t) => t.takeovers > 0).length],
      ["workers SIGKILLed (tasks they held)", rec.kills.map((k) => `${k.worker}@${wall(k.atMs)} (${k.runningTasks})`).join(", ")],
      ["Redis restarts (SIGTERM, AOF)", rec.redisRestart ? `1 at ${wall(rec.redisRestart.atMs)}, down ${rec.redisRestart.downMs} ms` : "none"],
      [
        "s4 outage",
        `down from the start, circuit opened at ${wall(rec.outage.openedAtMs)} (seen at ${wall(rec.outage.openSeenAtMs)}), up at ${
          wall(rec.outage.liftedAtMs)
        }, closed by its probe (cooldown ${wall(CIRCUIT.cooldownMs)}) seen at ${wall(rec.outage.closedSeenAtMs)}`
      ],
      ["circuit transitions", transitions.slice().reverse().map((t) => `${t.instanceId} ${t.from}->${t.to}`).join(", ")],
      ["s5 faults served", rec.flaky.map((f) => `${f.label}@${wall(f.atMs)}`).join(", ")],
      ["submission: 333 calls at once until all acknowledged", wall(rec.submittedAt - rec.submitStartedAt)],
      [
        "load: last acknowledgement to last terminal state (tasks not bound to s4 / all)",
        `${wall(Math.max(...tasks.filter((t) => t.requestedInstance === undefined && t.finishedAt).map((t) => Date.parse(t.finishedAt))) - rec.submittedAt)} / ${
          wall(rec.finishedAt - rec.submittedAt)
        }`
      ],
      ["wall time so far (setup + load + checks)", wall(Date.now() - rec.wallStart)]
    ]
    const scanners = table(
      ["scanner", "role", "scans launched", "max running (simulator)", "max running (list_scanners)", "capacity"],
      [...MAIN_SCANNERS.map((s) => [s.id, s.role] as const), [LEGACY_SCANNER, "legacy pool, api_mode api behind the 412 gate"] as const].map((
        [id, role]
      ) => [
        id,
        role,
        Object.keys(stats.instances[id].scans_launched).length,
        stats.instances[id].max_concurrent_running,
        rec.maxRunningSeen.get(id) ?? 0,
        CAPACITY
      ])
    )
    console.log(`\nReliability summary\n\n${table(["", "value"], rows)}\n\n${scanners}\n`)
    assert.isAbove(rows.length, 10)
  })
})
