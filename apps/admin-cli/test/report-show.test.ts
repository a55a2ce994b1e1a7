/**
 * `report show`: a task's findings from the index a worker wrote under DATA_DIR/<task>/index (built here with
 * the validator, as the worker does), compared with what `FindingsIndex.query` (the MCP tool's query) returns.
 */
import { assert, describe, it } from "@effect/vitest"
import { Scheduler } from "@nessus-mcp/scheduler"
import { FindingsIndex } from "@nessus-mcp/validator"
import { Effect, Option } from "effect"
import { join } from "node:path"
import { afterAll, beforeAll } from "vitest"
import { cli, type Env, fixtures, json, makeEnv, type Queue, shape, submit } from "./support.js"

let env: Env
let q: Queue
let taskId: string
let indexDir: string

beforeAll(async () => {
  env = await makeEnv("report")
  q = env.queue("show")
  const task = await q.seed(submit("report scan"))
  taskId = task.id
  indexDir = join(env.dataDir, task.id, "index")
  const nessus = join(fixtures, "libnessus__nessus_report_test_local.nessus")
  await Effect.runPromise(FindingsIndex.build(nessus, indexDir, { scanType: "untrusted" }))
  await q.seed(Effect.gen(function*() {
    const s = yield* Scheduler.Scheduler
    const c = Option.getOrThrow(yield* s.claim({ pool: "nessus", worker: "w" }))
    yield* s.complete(c.lease, { authenticationStatus: "not_applicable", artifacts: { nessus, index: indexDir } })
  }))
})
afterAll(async () => {
  await env.close()
})

describe("nessus-admin report show", () => {
  it("serves the same page as the MCP tool's query (brief profile, 20 per page) with the paging fields", async () => {
    const r = await cli("report", "show", taskId, "--data-dir", env.dataDir, ...q.flags, "--json")
    assert.strictEqual(r.code, 0, r.stderr)
    const doc = await shape("report show", r)
    const expected = await Effect.runPromise(FindingsIndex.query(indexDir, { profile: "brief", page_size: 20 }))
    assert.strictEqual(doc.task_id, taskId)
    assert.strictEqual(doc.state, "completed")
    assert.strictEqual(doc.profile, "brief")
    assert.strictEqual(doc.total, 147)
    assert.strictEqual(doc.total_pages, expected.total_pages)
    assert.deepStrictEqual(doc.findings, JSON.parse(JSON.stringify(expected.findings)))
    assert.isString(doc.next_cursor)
    const next = await shape("report show", await cli("report", "show", taskId, "--cursor", doc.next_cursor, "--data-dir", env.dataDir, ...q.flags, "--json"))
    const page2 = await shape("report show", await cli("report", "show", taskId, "--page", "2", "--data-dir", env.dataDir, ...q.flags, "--json"))
    assert.strictEqual(next.page, 2)
    assert.deepStrictEqual(next.findings, page2.findings)
  })

  it("applies filters before the profile; a repeated field matches any of its values", async () => {
    const r = await shape(
      "report show",
      await cli("report", "show", taskId, "--profile", "minimal", "--filter", "severity=>=2", "--page-size", "100", "--data-dir", env.dataDir, ...q.flags, "--json")
    )
    const expected = await Effect.runPromise(FindingsIndex.query(indexDir, { profile: "minimal", filters: { severity: ">=2" }, page_size: 100 }))
    assert.strictEqual(r.total, expected.total)
    assert.strictEqual(r.total, 20) // critical 1 + high 0 + medium 19
    assert.deepStrictEqual(r.filters_applied, { severity: ">=2" })
    for (const f of r.findings) assert.isAtLeast(f.severity, 2)
    assert.deepStrictEqual(Object.keys(r.findings[0]).every((k) => ["host", "plugin_id", "severity", "cve", "cvss_base_score", "exploit_available"].includes(k)), true)
    const either = await shape(
      "report show",
      await cli("report", "show", taskId, "--filter", "severity=4", "--filter", "severity=1", "--data-dir", env.dataDir, ...q.flags, "--json")
    )
    assert.strictEqual(either.total, 1 + 8)
    const human = await cli("report", "show", taskId, "--profile", "summary", "--filter", "severity=4", "--data-dir", env.dataDir, ...q.flags)
    assert.strictEqual(human.code, 0)
    assert.match(human.stdout, /^report scan \(t_\S+, completed\): 1 finding\(s\) matching severity=4, page 1 of 1, profile summary/)
    assert.match(human.stdout, /HOST\s+PORT\s+SEVERITY\s+PLUGIN\s+CVSS\s+CVE\s+NAME\n192\.168\.1\.3\s+-\s+critical\s+69877\s+10\s+CVE-2012-0883,CVE-2012-2686,…\s+Mac OS X 10\.8 < 10\.8\.5/)
  })

  it("exit codes: bad filter 2, unknown task or missing index 3, results not ready 6", async () => {
    const bad = await cli("report", "show", taskId, "--filter", "severity=high", "--data-dir", env.dataDir, ...q.flags, "--json")
    assert.strictEqual(bad.code, 2)
    assert.strictEqual((await shape("report show", bad)).error.code, "invalid_filter")
    const malformed = await cli("report", "show", taskId, "--filter", "severity", "--data-dir", env.dataDir, ...q.flags, "--json")
    assert.strictEqual(malformed.code, 2)
    const missing = await cli("report", "show", "t_0000000000000000000000", "--data-dir", env.dataDir, ...q.flags, "--json")
    assert.strictEqual(missing.code, 3)
    const elsewhere = await cli("report", "show", taskId, "--data-dir", join(env.dir, "nowhere"), ...q.flags, "--json")
    assert.strictEqual(elsewhere.code, 0, "falls back to the index path the worker recorded")
    const noIndex = await q.seed(Effect.gen(function*() {
      const s = yield* Scheduler.Scheduler
      const t = yield* submit("no index")
      yield* s.complete(Option.getOrThrow(yield* s.claim({ pool: "nessus", worker: "w" })).lease)
      return t.id
    }))
    const unreadable = await cli("report", "show", noIndex, "--data-dir", env.dataDir, ...q.flags, "--json")
    assert.strictEqual(unreadable.code, 3)
    assert.strictEqual(json(unreadable).error.code, "index_unreadable")
    const queued = await q.seed(submit("not yet"))
    const notReady = await cli("report", "show", queued.id, "--data-dir", env.dataDir, ...q.flags, "--json")
    assert.strictEqual(notReady.code, 6)
    assert.strictEqual(json(notReady).error.code, "results_not_ready")
    assert.match(json(notReady).error.message, /is queued; its findings are readable once it completed/)
  })
})
