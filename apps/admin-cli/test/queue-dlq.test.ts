/** `queue stats` and the `dlq` topic against a real Redis, with tasks seeded through the scheduler library. */
import { assert, describe, it } from "@effect/vitest"
import { Scheduler } from "@nessus-mcp/scheduler"
import { Credentials } from "@nessus-mcp/scheduler"
import { Effect, Option, Redacted } from "effect"
import { TestClock } from "effect/testing"
import { afterAll, beforeAll } from "vitest"
import { spawn } from "node:child_process"
import { bin, cli, deadLetter, type Env, json, makeEnv, shape, submit } from "./support.js"

let env: Env
beforeAll(async () => {
  env = await makeEnv("queue")
})
afterAll(async () => {
  await env.close()
})

describe("nessus-admin queue stats", () => {
  it("shows depth, running, DLQ, capacity and the next tasks of the default pool, and of every pool with --all", async () => {
    const q = env.queue("t1")
    const [a, b] = await q.seed(Effect.all([submit("first"), submit("second")]))
    await q.seed(submit("dmz scan", { pool: "dmz" }))
    // one of the two nessus tasks runs
    await q.seed(Effect.gen(function*() {
      return yield* (yield* Scheduler.Scheduler).claim({ pool: "nessus", worker: "w1" })
    }))

    const one = await cli("queue", "stats", ...q.flags, "--json")
    assert.strictEqual(one.code, 0, one.stderr)
    const doc = await shape("queue stats", one)
    assert.strictEqual(doc.pools.length, 1)
    const nessus = doc.pools[0]
    assert.strictEqual(nessus.pool, "nessus")
    assert.isTrue(nessus.is_default)
    assert.strictEqual(nessus.queued, 1)
    assert.strictEqual(nessus.running, 1)
    assert.strictEqual(nessus.capacity, 3)
    assert.strictEqual(nessus.available, 2)
    assert.closeTo(nessus.utilisation, 1 / 3, 0.001)
    assert.deepStrictEqual(nessus.next.map((t: { task_id: string }) => t.task_id), [b!.id])
    assert.isNumber(nessus.oldest_queued_age_seconds)
    assert.strictEqual(a!.name, "first")

    const all = await shape("queue stats", await cli("queue", "stats", ...q.flags, "--all", "--json"))
    assert.deepStrictEqual(all.pools.map((p: { pool: string }) => p.pool), ["nessus", "dmz"])
    assert.strictEqual(all.pools[1].queued, 1)

    const human = await cli("queue", "stats", ...q.flags, "--pool", "dmz")
    assert.strictEqual(human.code, 0)
    assert.match(human.stdout, /POOL\s+QUEUED\s+DELAYED\s+RUNNING\s+DLQ\s+CAPACITY\s+AVAILABLE\s+UTILISATION\s+OLDEST QUEUED\s+AVG SCAN/)
    assert.match(human.stdout, /^dmz\s+1\s+0\s+0\s+0\s+2\s+2\s+0%/m)
    assert.match(human.stdout, /Next in dmz:\nTASK\s+TYPE\s+AGE\s+NAME\nt_\S+\s+untrusted\s+\d+s\s+dmz scan/)
  })

  it("utilisation is running scans / capacity: a pool whose circuit is open is not busy", async () => {
    const q = env.queue("circuit")
    await q.seed(Effect.gen(function*() {
      const s = yield* Scheduler.Scheduler
      for (let i = 0; i < 5; i++) yield* s.reportScanner("dmz1", "failure")
      yield* submit("runs on nessus")
      yield* s.claim({ pool: "nessus", worker: "w1" })
    }))
    const doc = await shape("queue stats", await cli("queue", "stats", ...q.flags, "--all", "--json"))
    const [nessus, dmz] = doc.pools
    // dmz: no slot is available (open circuit) but nothing runs there, so 0, not 100 %.
    assert.deepInclude(dmz, { pool: "dmz", running: 0, capacity: 2, available: 0, utilisation: 0 })
    assert.deepInclude(nessus, { pool: "nessus", running: 1, capacity: 3, available: 2 })
    assert.closeTo(nessus.utilisation, 1 / 3, 0.001)
    const human = await cli("queue", "stats", ...q.flags, "--pool", "dmz")
    assert.match(human.stdout, /^dmz\s+0\s+0\s+0\s+0\s+2\s+0\s+0%/m)
  })

  it("points at the likely cause when tasks wait although slots are free", async () => {
    const q = env.queue("hint")
    await q.seed(Effect.andThen(TestClock.setTime(Date.now() - 10 * 60_000), submit("waiting for ten minutes")).pipe(Effect.provide(TestClock.layer())))
    const r = await cli("queue", "stats", ...q.flags)
    assert.strictEqual(r.code, 0)
    assert.match(r.stdout, /^nessus \(default\)\s+1\s+0\s+0\s+0\s+3\s+3\s+0%\s+10m 0\ds/m)
    assert.match(r.stdout, /Note: pool nessus has 3 free slot\(s\) yet its oldest task waits 10m 0\ds: are workers running for this pool, and are circuits closed/)
  })

  it("an unknown pool is a usage error (exit 2) and --pool with --all is refused", async () => {
    const q = env.queue("t2")
    const r = await cli("queue", "stats", ...q.flags, "--pool", "nope", "--json")
    assert.strictEqual(r.code, 2)
    const e = await shape("queue stats", r)
    assert.strictEqual(e.error.code, "unknown_pool")
    assert.match(e.error.message, /No pool named "nope".*pools: nessus, dmz/)
    const both = await cli("queue", "stats", ...q.flags, "--pool", "nessus", "--all", "--json")
    assert.strictEqual(both.code, 2)
    assert.strictEqual(json(both).error.code, "usage_error")
  })
})

describe("nessus-admin dlq", () => {
  it("list shows the newest entries first with reason, attempts and failure time; inspect shows the whole entry", async () => {
    const q = env.queue("t3")
    const older = await q.seed(deadLetter("old failure", { message: "first failure" }))
    const newer = await q.seed(deadLetter("new failure", { pool: "dmz", message: "second failure" }))

    const list = await shape("dlq list", await cli("dlq", "list", ...q.flags, "--json"))
    const ids = list.entries.map((e: { task_id: string }) => e.task_id)
    assert.isAtLeast(list.total, 2)
    assert.isBelow(ids.indexOf(newer), ids.indexOf(older))
    const row = list.entries.find((e: { task_id: string }) => e.task_id === older)
    assert.deepInclude(row, { pool: "nessus", name: "old failure", scan_type: "untrusted", state: "failed", reason: "auth_rejected", message: "first failure", attempts: 1 })

    const onlyDmz = await shape("dlq list", await cli("dlq", "list", ...q.flags, "--pool", "dmz", "--limit", "1", "--json"))
    assert.deepStrictEqual(onlyDmz.entries.map((e: { task_id: string }) => e.task_id), [newer])

    const human = await cli("dlq", "list", ...q.flags)
    assert.match(human.stdout, /TASK\s+POOL\s+TYPE\s+REASON\s+ATTEMPTS\s+FAILED\s+MESSAGE/)
    assert.match(human.stdout, new RegExp(`${older}\\s+nessus\\s+untrusted\\s+auth_rejected\\s+1\\s+\\d+s ago\\s+first failure`))

    const inspect = await cli("dlq", "inspect", older, ...q.flags, "--json")
    assert.strictEqual(inspect.code, 0, inspect.stderr)
    const entry = await shape("dlq inspect", inspect)
    assert.strictEqual(entry.task.task_id, older)
    assert.strictEqual(entry.task.nessus_scan_id, 42)
    assert.deepStrictEqual(entry.last_error, { attempt: 1, at: entry.failed_at, reason: "auth_rejected", message: "first failure", phase: "launched", instance_id: entry.task.instance })
    const text = await cli("dlq", "inspect", older, ...q.flags)
    assert.match(text.stdout, /Last error: auth_rejected: first failure/)
    assert.match(text.stdout, /Failed attempts:\n\s+ATTEMPT\s+AT\s+REASON\s+PHASE\s+SCANNER\s+MESSAGE\n\s+1\s+\S+\s+auth_rejected\s+launched\s+scanner\d\s+first failure/)
    assert.match(text.stdout, new RegExp(`Retry it: nessus-admin dlq retry ${older}`))
  })

  it("never shows a secret: an inline scan credential appears as its user only (canary)", async () => {
    const CANARY = "canary-ssh-Pa55-91c2"
    const q = env.queue("secret", { credentialsKey: Credentials.generateKey() })
    const id = await q.seed(Effect.gen(function*() {
      const s = yield* Scheduler.Scheduler
      const { task } = yield* s.submit({
        scanType: "authenticated_privileged",
        name: "inline credential",
        targets: "192.0.2.20",
        inlineCredential: { type: "ssh", username: "scanuser", password: Redacted.make(CANARY), elevatePrivilegesWith: "sudo", escalationPassword: Redacted.make(CANARY) }
      })
      const c = Option.getOrThrow(yield* s.claim({ worker: "w" }))
      yield* s.fail(c.lease, { reason: "authentication_failed", message: "Authentication failed on 1 of 1 host(s)" })
      return task.id
    }))
    const outputs = []
    for (const argv of [["dlq", "inspect", id, "--json"], ["dlq", "inspect", id], ["dlq", "list", "--json"], ["tasks", "show", id, "--json"], ["tasks", "list", "--json"]]) {
      outputs.push(await cli(...argv, ...q.flags)) // one at a time: the in-process runner captures the global console
    }
    for (const r of outputs) {
      assert.strictEqual(r.code, 0, r.stderr)
      assert.notInclude(r.stdout + r.stderr, CANARY)
    }
    const entry = await shape("dlq inspect", outputs[0]!)
    assert.deepStrictEqual(entry.task.credential, { kind: "inline", type: "ssh", username: "scanuser", elevate_privileges_with: "sudo" })
    assert.match(outputs[1]!.stdout, /Credential:\s+inline ssh user scanuser \(elevation sudo\)/)
  })

  it("inspect of a task that is not dead-lettered exits 3; a malformed id exits 2", async () => {
    const q = env.queue("t4")
    const queued = await q.seed(submit("still queued"))
    const r = await cli("dlq", "inspect", queued.id, ...q.flags, "--json")
    assert.strictEqual(r.code, 3)
    assert.strictEqual((await shape("dlq inspect", r)).error.code, "not_found")
    const bad = await cli("dlq", "inspect", "nope", ...q.flags, "--json")
    assert.strictEqual(bad.code, 2)
    assert.strictEqual(json(bad).error.code, "invalid_input")
    const human = await cli("dlq", "inspect", "t_0000000000000000000000", ...q.flags)
    assert.strictEqual(human.code, 3)
    assert.strictEqual(human.stdout, "")
    assert.match(human.stderr, /No task t_0000000000000000000000/)
  })

  it("retry <id> requeues the task as a new attempt that a worker really claims again", async () => {
    const q = env.queue("t5")
    const id = await q.seed(deadLetter("retry me"))
    const r = await cli("dlq", "retry", id, ...q.flags, "--json")
    assert.strictEqual(r.code, 0, r.stderr)
    assert.deepStrictEqual(await shape("dlq retry", r), { retried: [{ task_id: id, pool: "nessus", state: "queued" }], failed: [] })
    const again = await q.seed(
      Effect.gen(function*() {
        const s = yield* Scheduler.Scheduler
        const c = yield* s.claim({ pool: "nessus", worker: "w2" })
        return c._tag === "Some" && c.value.task.id === id ? c.value : undefined
      })
    )
    assert.isDefined(again)
    assert.strictEqual(again!.task.attempt, 2)
    assert.strictEqual(again!.task.state, "running")
    const twice = await cli("dlq", "retry", id, ...q.flags, "--json")
    assert.strictEqual(twice.code, 3)
    assert.strictEqual(json(twice).error.code, "not_found")
  })

  it("retry --all needs --yes without a terminal, then requeues every entry of the pool", async () => {
    const q = env.queue("t6")
    const ids = await q.seed(Effect.all([deadLetter("all 1", { pool: "dmz" }), deadLetter("all 2", { pool: "dmz" })]))
    const refused = await cli("dlq", "retry", "--all", "--pool", "dmz", ...q.flags, "--json")
    assert.strictEqual(refused.code, 2)
    assert.strictEqual(json(refused).error.code, "confirmation_required")
    const usage = await cli("dlq", "retry", ...q.flags, "--json")
    assert.strictEqual(usage.code, 2)
    const done = await shape("dlq retry", await cli("dlq", "retry", "--all", "--pool", "dmz", "--yes", ...q.flags, "--json"))
    for (const id of ids) assert.include(done.retried.map((r: { task_id: string }) => r.task_id), id)
    assert.deepStrictEqual(done.failed, [])
    const after = await shape("dlq list", await cli("dlq", "list", "--pool", "dmz", ...q.flags, "--json"))
    assert.strictEqual(after.total, 0)
  })

  it("purge refuses without --yes when not interactive, honours --older-than, and purges with --yes", async () => {
    const q = env.queue("t7")
    await q.seed(deadLetter("purge me", { pool: "dmz" }))
    const refused = await cli("dlq", "purge", "--pool", "dmz", ...q.flags)
    assert.strictEqual(refused.code, 2)
    assert.match(refused.stderr, /Refusing without --yes/)
    const notOld = await shape("dlq purge", await cli("dlq", "purge", "--pool", "dmz", "--older-than", "7d", "--yes", ...q.flags, "--json"))
    assert.strictEqual(notOld.purged, 0)
    assert.isString(notOld.older_than)
    const badDuration = await cli("dlq", "purge", "--older-than", "soon", "--yes", ...q.flags, "--json")
    assert.strictEqual(badDuration.code, 2)
    assert.match(json(badDuration).error.message, /not a duration/)
    const purged = await shape("dlq purge", await cli("dlq", "purge", "--pool", "dmz", "--yes", ...q.flags, "--json"))
    assert.deepStrictEqual(purged, { purged: 1, older_than: null, pools: [{ pool: "dmz", purged: 1 }] })
    const human = await cli("dlq", "purge", "--pool", "dmz", "--yes", ...q.flags)
    assert.strictEqual(human.stdout.trim(), "Nothing to purge.")
  })

  it("purge and retry --all refuse without --yes outside a terminal before reading the queue: empty or unreachable, exit 2", async () => {
    const q = env.queue("t7-empty")
    const empty = await cli("dlq", "purge", ...q.flags)
    assert.strictEqual(empty.code, 2, empty.stdout)
    assert.notInclude(empty.stdout, "Nothing to purge")
    assert.match(empty.stderr, /Purging dead-letter entries needs confirmation\. Refusing without --yes/)
    const emptyJson = await cli("dlq", "purge", "--pool", "dmz", ...q.flags, "--json")
    assert.strictEqual(emptyJson.code, 2)
    assert.strictEqual(json(emptyJson).error.code, "confirmation_required")
    assert.match(json(emptyJson).error.message, /of pool dmz/)
    const retryAll = await cli("dlq", "retry", "--all", ...q.flags)
    assert.strictEqual(retryAll.code, 2, retryAll.stdout)
    assert.notInclude(retryAll.stdout, "Nothing to retry")
    // a Redis nobody listens on: had the command read the queue first, it would exit 4 (unavailable)
    const down = ["--redis-url", "redis://127.0.0.1:1", "--prefix", q.prefix, "--config", env.configFile]
    const unreadable = await cli("dlq", "purge", ...down, "--json")
    assert.strictEqual(unreadable.code, 2)
    assert.strictEqual(json(unreadable).error.code, "confirmation_required")
    const withYes = await cli("dlq", "purge", "--yes", ...down, "--json")
    assert.strictEqual(withYes.code, 4, withYes.stdout)
    // with --yes on an empty queue there is nothing to confirm: exit 0
    const nothing = await cli("dlq", "purge", "--yes", ...q.flags)
    assert.strictEqual(nothing.code, 0)
    assert.strictEqual(nothing.stdout.trim(), "Nothing to purge.")
  })

  it("purge on a terminal asks for confirmation: yes purges, anything else changes nothing (exit 1)", async () => {
    const answer = async (reply: string) => {
      const q = env.queue(`tty-${reply}`)
      await q.seed(deadLetter("asked about", { pool: "dmz" }))
      const command = [process.execPath, bin, "dlq", "purge", "--pool", "dmz", ...q.flags].map((a) => `'${a.replace(/'/g, "'\\''")}'`).join(" ")
      // `script` gives the CLI a real terminal (stdin and stdout are TTYs); the test types the answer
      const child = spawn("script", ["-qfec", command, "/dev/null"], { stdio: ["pipe", "pipe", "pipe"], env: { ...process.env, NO_COLOR: "1" } })
      let out = ""
      child.stdout.on("data", (d) => {
        out += String(d)
        if (out.includes("[y/N]") && !child.stdin.writableEnded) child.stdin.end(`${reply}\n`)
      })
      const code = await new Promise<number>((resolve) => child.once("close", (c) => resolve(c ?? -1)))
      const left = await q.seed(Effect.gen(function*() {
        return (yield* (yield* Scheduler.Scheduler).dlqList("dmz")).total
      }))
      return { code, out, left }
    }
    const [yes, no] = await Promise.all([answer("y"), answer("n")])
    assert.match(yes.out, /Purge 1 dead-letter entry from dmz\? This cannot be undone\. \[y\/N\]/)
    assert.strictEqual(yes.code, 0, yes.out)
    assert.match(yes.out, /Purged 1 dead-letter entry \(dmz: 1\)\./)
    assert.strictEqual(yes.left, 0)
    assert.strictEqual(no.code, 1, no.out)
    assert.match(no.out, /Aborted: nothing was changed\./)
    assert.strictEqual(no.left, 1)
  })
})
