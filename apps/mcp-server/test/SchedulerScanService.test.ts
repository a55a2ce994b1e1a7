/**
 * The product `ScanService` over the real scheduler (in-memory backend) and real findings indexes built by the
 * validator from the shared fixtures, driven through the SDK client over the stdio serving entry. The worker's
 * side is played with the scheduler's own worker API (claim, setPhase, complete, fail) so every state and error
 * path is reached quickly and deterministically; the end-to-end suite runs the real worker.
 */
import { assert, describe, it } from "@effect/vitest"
import { Credentials, ScannerConfig, Scheduler } from "@nessus-mcp/scheduler"
import { FindingsIndex } from "@nessus-mcp/validator"
import { Effect, Layer, Option } from "effect"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import * as Logging from "../src/Logging.js"
import * as Metrics from "../src/Metrics.js"
import * as SchedulerScanService from "../src/SchedulerScanService.js"
import * as ServerConfig from "../src/ServerConfig.js"
import { connectLinked, errorOf } from "./support/harness.js"

const fixtures = fileURLToPath(new URL("../../../../shared/fixtures/nessus/", import.meta.url))
const credentialedYes = join(fixtures, "pytenable__example.nessus") // 1 host, 230 items, sev 135/2/9/77/7, credentialed yes
const credentialedNo = join(fixtures, "libnessus__nessus_report_local_3.nessus") // 3 hosts, credentialed no

const yaml = `
default_pool: nessus
pools:
  nessus:
    allowed_targets: [192.0.2.0/24, 198.51.100.0/24, "*.example.com"]
    max_targets: 300
    scanners:
      - { instance_id: scanner1, name: One, url: "http://127.0.0.1:9", username: u, password: p, max_concurrent_scans: 1 }
      - { instance_id: scanner2, name: Two, url: "http://127.0.0.1:10", username: u, password: p, max_concurrent_scans: 1 }
  lab:
    allowed_targets: [203.0.113.0/24]
    scanners:
      - { instance_id: lab1, name: Lab, url: "http://127.0.0.1:11", username: u, password: p, max_concurrent_scans: 1 }
credentials:
  linux-admin: { type: ssh, username: scanuser, password: scanpass, elevate_privileges_with: sudo, escalation_password: sudopass }
`

const dataDir = mkdtempSync(join(tmpdir(), "nessus-mcp-svc-"))

const testLayer = Layer.unwrap(Effect.gen(function*() {
  const config = yield* ServerConfig.load({}, { DATA_DIR: dataDir })
  const backend = Scheduler.layerMemory().pipe(
    Layer.provideMerge(Credentials.layer()),
    Layer.provideMerge(ScannerConfig.layerText(yaml))
  )
  return Layer.mergeAll(SchedulerScanService.layer, Metrics.layer, Logging.layer({ service: "nessus-mcp", level: "Warn", sink: () => {} })).pipe(
    Layer.provideMerge(backend),
    Layer.provide(Layer.succeed(ServerConfig.ServerConfig, config))
  )
})).pipe(Layer.orDie)

const call = (client: { callTool: (p: { name: string; arguments: Record<string, unknown> }) => Promise<any> }, name: string, args: Record<string, unknown> = {}) =>
  Effect.promise(() => client.callTool({ name, arguments: args }))

const ok = (result: any) => {
  assert.isUndefined(result.isError, JSON.stringify(result.content))
  return result.structuredContent as any
}

/** Plays a worker: claims the next task, runs it to `validating`, indexes `fixture` like the worker does. */
const runAsWorker = (fixture: string, scanType: "untrusted" | "authenticated" | "authenticated_privileged") =>
  Effect.gen(function*() {
    const scheduler = yield* Scheduler.Scheduler
    const claim = Option.getOrThrow(yield* scheduler.claim({ worker: "test-worker" }))
    yield* scheduler.setPhase(claim.lease, "launched", { nessusScanId: 42 })
    yield* scheduler.setPhase(claim.lease, "validating")
    const built = yield* FindingsIndex.build(fixture, join(dataDir, claim.task.id, "index"), { scanType })
    return { claim, built }
  })

describe("SchedulerScanService over the in-memory scheduler", () => {
  it.live("queues, reports status and summary, and pages and filters findings from the index", () =>
    Effect.gen(function*() {
      const client = yield* connectLinked()
      const scheduler = yield* Scheduler.Scheduler
      const first = ok(yield* call(client, "run_untrusted_scan", { targets: "192.0.2.10", name: "web", scanner_instance: "scanner2" }))
      assert.strictEqual(first.status, "queued")
      assert.strictEqual(first.scanner_pool, "nessus")
      assert.strictEqual(first.scanner_instance, "scanner2")
      assert.strictEqual(first.scanner_url, "http://127.0.0.1:10")
      assert.strictEqual(first.queue_position, 1)
      assert.strictEqual(first.estimated_wait_minutes, 0)
      assert.match(first.task_id, /^t_/)
      assert.match(first.trace_id, /^[\da-f]{32}$/)

      const queued = ok(yield* call(client, "get_scan_status", { task_id: first.task_id }))
      assert.strictEqual(queued.status, "queued")
      assert.strictEqual(queued.queue_position, 1)
      assert.strictEqual(queued.authentication_status, "not_applicable")
      const results = yield* call(client, "get_scan_results", { task_id: first.task_id })
      assert.strictEqual(errorOf(results).code, "RESULTS_NOT_READY")

      const { claim, built } = yield* runAsWorker(credentialedYes, "untrusted")
      const running = ok(yield* call(client, "get_scan_status", { task_id: first.task_id }))
      assert.strictEqual(running.status, "running")
      assert.strictEqual(running.phase, "validating")
      assert.strictEqual(running.nessus_scan_id, 42)
      assert.strictEqual(running.scanner_instance, "scanner2")
      assert.isNull(running.queue_position)
      const pool = ok(yield* call(client, "get_pool_status", {}))
      assert.strictEqual(pool.running_scans, 1)
      assert.strictEqual(pool.utilization_pct, 50)
      const scanners = ok(yield* call(client, "list_scanners", {}))
      assert.deepStrictEqual(scanners.scanners.map((s: any) => [s.id, s.running_scans, s.utilization_pct, s.circuit_state]), [
        ["scanner1", 0, 0, "closed"],
        ["scanner2", 1, 100, "closed"],
        ["lab1", 0, 0, "closed"]
      ])

      yield* scheduler.complete(claim.lease, { validation: built.verdict, authenticationStatus: built.verdict.authentication_status })
      const done = ok(yield* call(client, "get_scan_status", { task_id: first.task_id }))
      assert.strictEqual(done.status, "completed")
      assert.strictEqual(done.progress, 100)
      assert.deepStrictEqual(done.results_summary.severity_breakdown, { critical: 7, high: 77, medium: 9, low: 2, info: 135 })
      assert.strictEqual(done.results_summary.hosts_scanned, 1)
      assert.strictEqual(done.results_summary.total_vulnerabilities, 95)
      assert.isNull(done.troubleshooting)

      // default: brief profile, 20 per page; the cursor carries the page size
      const page1 = ok(yield* call(client, "get_scan_results", { task_id: first.task_id }))
      assert.strictEqual(page1.profile, "brief")
      assert.strictEqual(page1.total, 230)
      assert.strictEqual(page1.page_size, 20)
      assert.strictEqual(page1.findings.length, 20)
      assert.include(page1.fields, "solution")
      assert.isBelow(JSON.stringify(page1).length, 100_000)
      const page2 = ok(yield* call(client, "get_scan_results", { task_id: first.task_id, cursor: page1.next_cursor }))
      assert.strictEqual(page2.page, 2)
      assert.notDeepEqual(page2.findings[0], page1.findings[0])
      const mismatch = yield* call(client, "get_scan_results", { task_id: first.task_id, cursor: page1.next_cursor, page_size: 5 })
      assert.strictEqual(errorOf(mismatch).code, "INVALID_CURSOR")
      const forged = yield* call(client, "get_scan_results", { task_id: first.task_id, cursor: "bm90LWEtY3Vyc29y" })
      assert.strictEqual(errorOf(forged).code, "INVALID_CURSOR")

      // filters apply before paging; every page of a filtered run holds only matching findings
      let cursor: string | null = null
      const seen: Array<number> = []
      do {
        const args: Record<string, unknown> = { task_id: first.task_id, profile: "minimal", filters: { severity: ">=3" }, page_size: 30 }
        if (cursor !== null) args["cursor"] = cursor
        const page = ok(yield* call(client, "get_scan_results", args))
        assert.strictEqual(page.total, 84)
        for (const f of page.findings) seen.push(f.severity)
        cursor = page.next_cursor
      } while (cursor !== null)
      assert.strictEqual(seen.length, 84)
      assert.isTrue(seen.every((s) => s >= 3))

      const fields = ok(yield* call(client, "get_scan_results", { task_id: first.task_id, fields: ["host", "plugin_id"], page: 2, page_size: 100 }))
      assert.deepStrictEqual(fields.fields, ["host", "plugin_id"])
      assert.deepStrictEqual(Object.keys(fields.findings[0]).sort(), ["host", "plugin_id"])
      const full = ok(yield* call(client, "get_scan_results", { task_id: first.task_id, profile: "full", page_size: 1 }))
      assert.include(full.fields, "plugin_output")

      const badFilter = yield* call(client, "get_scan_results", { task_id: first.task_id, filters: { severity: "high" } })
      assert.strictEqual(errorOf(badFilter).code, "INVALID_FILTER")
      assert.strictEqual(errorOf(badFilter).field, "filters.severity")

      const jsonl = yield* call(client, "get_scan_results", { task_id: first.task_id, profile: "minimal", filters: { severity: 4 }, format: "jsonl" })
      const lines = (jsonl.content[0].text as string).split("\n").map((l) => JSON.parse(l))
      assert.deepStrictEqual(lines.map((l) => l.type), ["schema", "scan_metadata", ...Array(7).fill("vulnerability"), "pagination"])
    }).pipe(Effect.provide(testLayer)))

  it.live("keeps every page within the agent's budget, cutting huge plugin outputs with a marker", () =>
    Effect.gen(function*() {
      const client = yield* connectLinked()
      const scheduler = yield* Scheduler.Scheduler
      const task = ok(yield* call(client, "run_untrusted_scan", { targets: "192.0.2.60", name: "big outputs" }))
      // 2 hosts, 147 items, some plugin outputs of hundreds of kB (a full page of 10 is ~850 000 characters raw)
      const { claim, built } = yield* runAsWorker(join(fixtures, "libnessus__nessus_report_test_local.nessus"), "untrusted")
      yield* scheduler.complete(claim.lease, { validation: built.verdict, authenticationStatus: built.verdict.authentication_status })
      let cursor: string | null = null
      let pages = 0
      let cut = 0
      do {
        const args: Record<string, unknown> = { task_id: task.task_id, profile: "full" }
        if (cursor !== null) args["cursor"] = cursor
        const page = ok(yield* call(client, "get_scan_results", args))
        assert.isBelow(JSON.stringify(page.findings).length, 61_000)
        cut += page.findings.filter((f: any) => Array.isArray(f.truncated_fields)).length
        cursor = page.next_cursor
        pages++
      } while (cursor !== null)
      assert.strictEqual(pages, 15)
      assert.isAbove(cut, 0)
    }).pipe(Effect.provide(testLayer)))

  it.live("surfaces failed authentication with troubleshooting and keeps the findings readable", () =>
    Effect.gen(function*() {
      const client = yield* connectLinked()
      const scheduler = yield* Scheduler.Scheduler
      const task = ok(yield* call(client, "run_authenticated_scan", { targets: "192.0.2.20-22", name: "auth", scan_type: "authenticated", credential: "linux-admin" }))
      const pending = ok(yield* call(client, "get_scan_status", { task_id: task.task_id }))
      assert.strictEqual(pending.authentication_status, "pending")
      const { claim, built } = yield* runAsWorker(credentialedNo, "authenticated")
      assert.strictEqual(built.verdict.authentication_status, "failed")
      const outcome = yield* scheduler.fail(claim.lease, { reason: "authentication_failed", message: built.verdict.error?.message ?? "authentication failed" })
      assert.strictEqual(outcome._tag, "DeadLettered")
      const failed = ok(yield* call(client, "get_scan_status", { task_id: task.task_id }))
      assert.strictEqual(failed.status, "failed")
      assert.strictEqual(failed.authentication_status, "failed")
      assert.isString(failed.error_message)
      assert.strictEqual(failed.troubleshooting.affected_hosts.length, 3)
      assert.include(failed.troubleshooting.likely_cause, "linux-admin")
      assert.isAbove(failed.troubleshooting.next_steps.length, 1)
      assert.strictEqual(failed.results_summary.hosts_scanned, 3)
      const findings = ok(yield* call(client, "get_scan_results", { task_id: task.task_id, profile: "minimal" }))
      assert.strictEqual(findings.total, 106)
      const queue = ok(yield* call(client, "get_queue_status", {}))
      assert.strictEqual(queue.dlq_size, 1)
    }).pipe(Effect.provide(testLayer)))

  it.live("refuses unknown ids, out-of-scope and too many targets, unknown pools and disabled inline credentials", () =>
    Effect.gen(function*() {
      const client = yield* connectLinked()
      for (const id of ["t_0000000000000000000000", "task_nope"]) {
        for (const tool of ["get_scan_status", "get_scan_results", "cancel_scan"]) {
          const r = yield* call(client, tool, { task_id: id })
          assert.isTrue(r.isError, `${tool} ${id}`)
          assert.strictEqual(errorOf(r).code, "TASK_NOT_FOUND")
        }
      }
      const scope = yield* call(client, "run_untrusted_scan", { targets: "192.0.2.5, 203.0.113.9", name: "x" })
      assert.strictEqual(errorOf(scope).code, "TARGET_OUT_OF_SCOPE")
      assert.include(errorOf(scope).message, "203.0.113.9")
      const tooMany = yield* call(client, "run_untrusted_scan", { targets: "198.51.100.0/23", name: "x" })
      assert.strictEqual(errorOf(tooMany).code, "TARGET_OUT_OF_SCOPE")
      const big = yield* call(client, "run_untrusted_scan", { targets: "192.0.2.0/24, 198.51.100.0/24", name: "x" })
      assert.strictEqual(errorOf(big).code, "TOO_MANY_TARGETS")
      const pool = yield* call(client, "run_untrusted_scan", { targets: "192.0.2.5", name: "x", scanner_pool: "nope" })
      assert.strictEqual(errorOf(pool).code, "POOL_NOT_FOUND")
      const scanner = yield* call(client, "run_untrusted_scan", { targets: "192.0.2.5", name: "x", scanner_instance: "lab1" })
      assert.strictEqual(errorOf(scanner).code, "SCANNER_NOT_FOUND")
      const credential = yield* call(client, "run_authenticated_scan", { targets: "192.0.2.5", name: "x", scan_type: "authenticated", credential: "nope" })
      assert.strictEqual(errorOf(credential).code, "CREDENTIAL_NOT_FOUND")
      const inline = yield* call(client, "run_authenticated_scan", { targets: "192.0.2.5", name: "x", scan_type: "authenticated", ssh_username: "u", ssh_password: "canary-pw-88" })
      assert.strictEqual(errorOf(inline).code, "INLINE_CREDENTIALS_DISABLED")
      assert.notInclude(JSON.stringify(inline), "canary-pw-88")
      const other = ok(yield* call(client, "get_pool_status", { scanner_pool: "lab" }))
      assert.strictEqual(other.total_capacity, 1)
      const pools = ok(yield* call(client, "list_pools"))
      assert.deepStrictEqual(pools, { pools: [{ pool: "nessus", scanners: 2, capacity: 2, is_default: true }, { pool: "lab", scanners: 1, capacity: 1, is_default: false }], default_pool: "nessus" })
      const key = ok(yield* call(client, "run_untrusted_scan", { targets: "192.0.2.5", name: "x", idempotency_key: "key-0001" }))
      const replay = ok(yield* call(client, "run_untrusted_scan", { targets: "192.0.2.5", name: "x", idempotency_key: "key-0001" }))
      assert.strictEqual(replay.task_id, key.task_id)
      assert.isTrue(replay.idempotent_replay)
      const conflict = yield* call(client, "run_untrusted_scan", { targets: "192.0.2.6", name: "x", idempotency_key: "key-0001" })
      assert.strictEqual(errorOf(conflict).code, "IDEMPOTENCY_CONFLICT")
    }).pipe(Effect.provide(testLayer)))

  it.live("lists newest first with target containment and overlap, maps timeout, and cancels queued and running tasks", () =>
    Effect.gen(function*() {
      const client = yield* connectLinked()
      const scheduler = yield* Scheduler.Scheduler
      const a = ok(yield* call(client, "run_untrusted_scan", { targets: "192.0.2.0/28", name: "a" }))
      const b = ok(yield* call(client, "run_untrusted_scan", { targets: "192.0.2.100-192.0.2.110", name: "b" }))
      const c = ok(yield* call(client, "run_untrusted_scan", { targets: "db1.example.com", name: "c" }))
      assert.strictEqual(c.queue_position, 3)
      const all = ok(yield* call(client, "list_tasks", { limit: 2 }))
      assert.deepStrictEqual(all.tasks.map((t: any) => t.task_id), [c.task_id, b.task_id])
      const more = ok(yield* call(client, "list_tasks", { limit: 2, cursor: all.next_cursor }))
      assert.strictEqual(more.tasks[0].task_id, a.task_id)
      const inside = ok(yield* call(client, "list_tasks", { target: "192.0.2.3" }))
      assert.deepStrictEqual(inside.tasks.map((t: any) => t.task_id), [a.task_id])
      const overlap = ok(yield* call(client, "list_tasks", { target: "192.0.2.96/28" }))
      assert.deepStrictEqual(overlap.tasks.map((t: any) => t.task_id), [b.task_id])
      const wide = ok(yield* call(client, "list_tasks", { target: "192.0.2.0/24" }))
      assert.deepStrictEqual(wide.tasks.map((t: any) => t.task_id), [b.task_id, a.task_id])
      const host = ok(yield* call(client, "list_tasks", { target: "DB1.example.com" }))
      assert.deepStrictEqual(host.tasks.map((t: any) => t.task_id), [c.task_id])
      const badTarget = yield* call(client, "list_tasks", { target: "1.2.3.4;ls" })
      assert.strictEqual(errorOf(badTarget).field, "target")
      const badCursor = yield* call(client, "list_tasks", { cursor: "zzz" })
      assert.strictEqual(errorOf(badCursor).code, "INVALID_CURSOR")

      const queue = ok(yield* call(client, "get_queue_status", {}))
      assert.deepStrictEqual(queue.next_tasks.map((t: any) => t.task_id), [a.task_id, b.task_id, c.task_id])
      assert.strictEqual(queue.queue_depth, 3)

      // a is claimed (running), b cancelled while queued, a stop requested while running, c times out
      const claimA = Option.getOrThrow(yield* scheduler.claim({ worker: "w" }))
      assert.strictEqual(claimA.task.id, a.task_id)
      const cancelB = ok(yield* call(client, "cancel_scan", { task_id: b.task_id }))
      assert.deepStrictEqual([cancelB.previous_status, cancelB.outcome], ["queued", "cancelled"])
      const cancelA = ok(yield* call(client, "cancel_scan", { task_id: a.task_id }))
      assert.deepStrictEqual([cancelA.previous_status, cancelA.outcome], ["running", "stop_requested"])
      const stopping = ok(yield* call(client, "get_scan_status", { task_id: a.task_id }))
      assert.strictEqual(stopping.status, "cancelled")
      assert.include(stopping.warnings.join(" "), "Cancelled while running")
      yield* scheduler.release(claimA.lease)
      const claimC = Option.getOrThrow(yield* scheduler.claim({ worker: "w" }))
      assert.strictEqual(claimC.task.id, c.task_id)
      yield* scheduler.timeout(c.task_id, "ran longer than allowed")
      const timedOut = ok(yield* call(client, "get_scan_status", { task_id: c.task_id }))
      assert.strictEqual(timedOut.status, "timeout")
      assert.include(timedOut.error_message, "longer")
      const onlyTimeout = ok(yield* call(client, "list_tasks", { status: "timeout" }))
      assert.deepStrictEqual(onlyTimeout.tasks.map((t: any) => t.task_id), [c.task_id])
      const again = yield* call(client, "cancel_scan", { task_id: b.task_id })
      assert.strictEqual(errorOf(again).code, "NOT_CANCELLABLE")
    }).pipe(Effect.provide(testLayer)))
})

process.on("exit", () => rmSync(dataDir, { recursive: true, force: true }))
