/**
 * The `tasks` topic: list, show and cancel in-process against a real Redis; `tasks wait` as the built binary
 * under a real terminal (a pty from `script`) and in a pipe, while the test drives the task through the
 * scheduler API (claim, setPhase with the progress, complete/fail) like a worker would; and the poll loop
 * itself on the `TestClock`. `tasks show` also reads the progress from the worker's status.json when the
 * task carries none.
 */
import { assert, describe, it } from "@effect/vitest"
import { Credentials, ScannerConfig, Scheduler } from "@nessus-mcp/scheduler"
import { Effect, Fiber, Layer, Option, Queue } from "effect"
import { TestClock } from "effect/testing"
import { spawn } from "node:child_process"
import { mkdirSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { afterAll, beforeAll } from "vitest"
import * as Follow from "../dist/Follow.js"
import { bin, cli, deadLetter, type Env, json, makeEnv, type Queue as TestQueue, shape, submit } from "./support.js"

let env: Env
beforeAll(async () => {
  env = await makeEnv("tasks")
})
afterAll(async () => {
  await env.close()
})

/** Claims the next task of a pool (the test plays the worker). */
const claim = (pool = "nessus") =>
  Effect.gen(function*() {
    const c = yield* (yield* Scheduler.Scheduler).claim({ pool, worker: "test-worker" })
    if (Option.isNone(c)) return yield* Effect.die(new Error("nothing to claim"))
    return c.value
  })

const writeProgress = (taskId: string, progress: number, phase: string) => {
  mkdirSync(join(env.dataDir, taskId), { recursive: true })
  writeFileSync(join(env.dataDir, taskId, "status.json"), JSON.stringify({ task_id: taskId, progress, phase, updated_at: new Date().toISOString() }))
}

describe("nessus-admin tasks list / show / cancel", () => {
  it("list filters by status, pool and target; show prints a task in full with its queue position", async () => {
    const q = env.queue("list")
    const a = await q.seed(submit("web tier", { targets: "192.0.2.0/28" }))
    const b = await q.seed(submit("db tier", { targets: "198.51.100.7" }))
    const c = await q.seed(submit("dmz", { pool: "dmz" }))
    const running = await q.seed(claim())
    await q.seed(Effect.gen(function*() {
      yield* (yield* Scheduler.Scheduler).setPhase(running.lease, "polling", { nessusScanId: 7 })
    }))
    writeProgress(a.id, 35, "polling")

    const all = await shape("tasks list", await cli("tasks", "list", ...q.flags, "--json"))
    assert.deepStrictEqual(all.tasks.map((t: { task_id: string }) => t.task_id), [c.id, b.id, a.id])
    assert.strictEqual(all.next_cursor, null)
    const byStatus = await shape("tasks list", await cli("tasks", "list", "--status", "running", ...q.flags, "--json"))
    assert.deepStrictEqual(byStatus.tasks.map((t: { task_id: string }) => t.task_id), [a.id])
    const byPool = await shape("tasks list", await cli("tasks", "list", "--pool", "dmz", ...q.flags, "--json"))
    assert.deepStrictEqual(byPool.tasks.map((t: { task_id: string }) => t.task_id), [c.id])
    const byTarget = await shape("tasks list", await cli("tasks", "list", "--target", "192.0.2.5", ...q.flags, "--json"))
    assert.deepStrictEqual(byTarget.tasks.map((t: { task_id: string }) => t.task_id), [a.id])
    const page = await shape("tasks list", await cli("tasks", "list", "--limit", "2", ...q.flags, "--json"))
    assert.strictEqual(page.tasks.length, 2)
    const rest = await shape("tasks list", await cli("tasks", "list", "--limit", "2", "--cursor", page.next_cursor, ...q.flags, "--json"))
    assert.deepStrictEqual(rest.tasks.map((t: { task_id: string }) => t.task_id), [a.id])

    const human = await cli("tasks", "list", ...q.flags, "--status", "running")
    assert.match(human.stdout, /TASK\s+STATE\s+PHASE\s+TYPE\s+POOL\s+SCANNER\s+TARGETS\s+CREATED\s+NAME/)
    assert.match(human.stdout, new RegExp(`${a.id}\\s+running\\s+polling\\s+untrusted\\s+nessus\\s+scanner\\d\\s+192\\.0\\.2\\.0/28\\s+\\d+s ago\\s+web tier`))
    const badStatus = await cli("tasks", "list", "--status", "sleeping", ...q.flags, "--json")
    assert.strictEqual(badStatus.code, 2)

    const show = await shape("tasks show", await cli("tasks", "show", a.id, ...q.flags, "--data-dir", env.dataDir, "--json"))
    assert.strictEqual(show.task.state, "running")
    assert.strictEqual(show.task.phase, "polling")
    assert.strictEqual(show.task.progress, 35)
    assert.strictEqual(show.task.nessus_scan_id, 7)
    assert.strictEqual(show.task.lease.owner, "test-worker")
    assert.strictEqual(show.position, null)
    const queued = await shape("tasks show", await cli("tasks", "show", b.id, ...q.flags, "--json"))
    assert.strictEqual(queued.position.position, 1)
    const text = await cli("tasks", "show", a.id, ...q.flags, "--data-dir", env.dataDir)
    assert.match(text.stdout, /State:\s+running \(polling, 35%\)/)
    assert.match(text.stdout, /Nessus scan:\s+7 \(nmcp-t_\S+-a1\)/)
    const queuedText = await cli("tasks", "show", b.id, ...q.flags)
    assert.match(queuedText.stdout, /Queue position 1 \(0 ahead, capacity 3, 1 running\), estimated wait/)
    const missing = await cli("tasks", "show", "t_0000000000000000000000", ...q.flags, "--json")
    assert.strictEqual(missing.code, 3)
    assert.strictEqual(json(missing).error.code, "not_found")
  })

  it("cancel removes a queued task, asks the worker to stop a running one, and refuses a finished one (exit 6)", async () => {
    const q = env.queue("cancel")
    const running = await q.seed(Effect.andThen(submit("to stop"), claim()))
    const queued = await q.seed(submit("to drop"))
    const a = await shape("tasks cancel", await cli("tasks", "cancel", queued.id, ...q.flags, "--json"))
    assert.deepStrictEqual(a, { task_id: queued.id, previous_state: "queued", state: "cancelled", outcome: "cancelled" })
    const b = await cli("tasks", "cancel", running.task.id, ...q.flags)
    assert.strictEqual(b.code, 0)
    assert.match(b.stdout, /its worker is stopping the running Nessus scan/)
    const seen = await q.seed(Effect.gen(function*() {
      return yield* Effect.flip((yield* Scheduler.Scheduler).heartbeat(running.lease))
    }))
    assert.strictEqual(seen.reason, "task_cancelled")
    const again = await cli("tasks", "cancel", queued.id, ...q.flags, "--json")
    assert.strictEqual(again.code, 6)
    assert.strictEqual((await shape("tasks cancel", again)).error.code, "invalid_transition")
  })
})

/** A spawned `tasks wait` whose output the test can wait on. */
const follow = (command: string, args: ReadonlyArray<string>) => {
  const child = spawn(command, [...args], { env: { ...process.env, NO_COLOR: "1" }, stdio: ["pipe", "pipe", "pipe"] })
  let out = ""
  let err = ""
  const waiters: Array<{ readonly re: RegExp; readonly resolve: () => void }> = []
  const check = () => {
    for (const w of [...waiters]) {
      if (w.re.test(out)) {
        waiters.splice(waiters.indexOf(w), 1)
        w.resolve()
      }
    }
  }
  child.stdout.on("data", (d) => {
    out += String(d)
    check()
  })
  child.stderr.on("data", (d) => (err += String(d)))
  const exited = new Promise<number>((resolve) => child.once("close", (code) => resolve(code ?? -1)))
  return {
    child,
    output: () => out,
    /** Resolves once stdout matches (the CLI reacted), or fails after 20 s with what it printed. */
    waitFor: (re: RegExp) =>
      new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`timed out waiting for ${re}; stdout so far:\n${JSON.stringify(out)}\nstderr:\n${err}`)), 20_000)
        waiters.push({ re, resolve: () => (clearTimeout(timer), resolve()) })
        check()
      }),
    exited
  }
}

/** Drives a task through a worker's life while a `tasks wait` follows it. */
const drive = async (q: TestQueue, taskId: string, waitFor: (re: RegExp) => Promise<void>, patterns: { readonly launched: RegExp; readonly polling: RegExp }) => {
  const c = await q.seed(claim())
  assert.strictEqual(c.task.id, taskId)
  await q.seed(Effect.gen(function*() {
    yield* (yield* Scheduler.Scheduler).setPhase(c.lease, "launched", { nessusScanId: 3, progress: 40 })
  }))
  await waitFor(patterns.launched)
  await q.seed(Effect.gen(function*() {
    yield* (yield* Scheduler.Scheduler).setPhase(c.lease, "polling", { progress: 80 })
  }))
  await waitFor(patterns.polling)
  return c
}

describe("nessus-admin tasks wait", () => {
  it("in a pipe: one plain line per change, then the final state; exit 0 when completed", async () => {
    const q = env.queue("pipe")
    const task = await q.seed(submit("followed in a pipe"))
    const w = follow(process.execPath, [bin, "tasks", "wait", task.id, "--interval", "100ms", "--data-dir", env.dataDir, ...q.flags])
    await w.waitFor(new RegExp(`^\\d\\d:\\d\\d ${task.id} queued\\n`, "m"))
    const c = await drive(q, task.id, w.waitFor, {
      launched: new RegExp(`^\\d\\d:\\d\\d ${task.id} running launched 40%$`, "m"),
      polling: new RegExp(`^\\d\\d:\\d\\d ${task.id} running polling 80%$`, "m")
    })
    await q.seed(Effect.gen(function*() {
      yield* (yield* Scheduler.Scheduler).complete(c.lease, { authenticationStatus: "not_applicable" })
    }))
    assert.strictEqual(await w.exited, 0)
    const out = w.output()
    assert.notInclude(out, "\r")
    assert.notInclude(out, "\x1b[")
    assert.match(out, new RegExp(`^\\d\\d:\\d\\d ${task.id} completed$`, "m"))
    assert.match(out, new RegExp(`Task ${task.id} completed \\(waited \\d+s\\), authentication not_applicable\\.`))
  })

  it("under a real terminal: a live progress bar with phase and percentage redrawn in place", async () => {
    const q = env.queue("pty")
    const task = await q.seed(submit("followed on a terminal"))
    const command = [process.execPath, bin, "tasks", "wait", task.id, "--interval", "100ms", "--data-dir", env.dataDir, ...q.flags]
      .map((a) => `'${a.replace(/'/g, "'\\''")}'`)
      .join(" ")
    const w = follow("script", ["-qfec", command, "/dev/null"])
    await w.waitFor(/\r\x1b\[2K\[░+\]\s+-%\s+queued/)
    const c = await drive(q, task.id, w.waitFor, {
      launched: /\r\x1b\[2K\[(█+)(░+)\]\s+40%\s+running · launched\s+\d\d:\d\d/,
      polling: /\r\x1b\[2K\[█+░+\]\s+80%\s+running · polling\s+\d\d:\d\d/
    })
    const bar40 = /\[(█+)(░+)\]\s+40%/.exec(w.output())!
    assert.closeTo(bar40[1]!.length / (bar40[1]!.length + bar40[2]!.length), 0.4, 0.05)
    await q.seed(Effect.gen(function*() {
      yield* (yield* Scheduler.Scheduler).fail(c.lease, { reason: "scan_failed", message: "Nessus aborted the scan" })
    }))
    assert.strictEqual(await w.exited, 1)
    const out = w.output()
    assert.match(out, /\r\x1b\[2K\[░+\]\s+-%\s+failed\s+\d\d:\d\d/)
    assert.match(out, new RegExp(`Task ${task.id} ended failed \\(waited \\d+s\\): scan_failed: Nessus aborted the scan\\.`))
    assert.include(out, `Why: nessus-admin dlq inspect ${task.id}`)
    // the live line is redrawn in place, never printed as one line per poll
    assert.isBelow(out.split("\n").length, 6)
  })

  it("--json prints only the final task; the exit code follows the final state", async () => {
    const q = env.queue("json")
    const failed = await q.seed(deadLetter("already failed"))
    const r = await cli("tasks", "wait", failed, ...q.flags, "--json")
    assert.strictEqual(r.code, 1)
    const doc = await shape("tasks wait", r)
    assert.strictEqual(doc.task.state, "failed")
    assert.strictEqual(doc.task.errors[0].reason, "auth_rejected")
    const cancelled = await q.seed(submit("cancelled"))
    await cli("tasks", "cancel", cancelled.id, ...q.flags)
    const c = await cli("tasks", "wait", cancelled.id, ...q.flags)
    assert.strictEqual(c.code, 1)
    assert.match(c.stdout, /ended cancelled/)
    const missing = await cli("tasks", "wait", "t_0000000000000000000000", ...q.flags, "--json")
    assert.strictEqual(missing.code, 3)
  })
})

describe("Follow.follow (the poll loop)", () => {
  const config = `pools:\n  p:\n    allowed_targets: [192.0.2.0/24]\n    scanners:\n      - { instance_id: s1, url: "http://127.0.0.1:1", username: u, password: p }\n`
  const layer = Scheduler.layerMemory().pipe(Layer.provideMerge(Credentials.layer()), Layer.provideMerge(ScannerConfig.layerText(config)))

  it.effect("polls on its Schedule, reports each change once, and returns the terminal task", () =>
    Effect.gen(function*() {
      const scheduler = yield* Scheduler.Scheduler
      const { task } = yield* scheduler.submit({ scanType: "untrusted", name: "t", targets: "192.0.2.1" })
      const seen: Array<string> = []
      // each poll signals its end, so the test changes the task only between polls (a poll may read status.json)
      const polled = yield* Queue.unbounded<number>()
      const fiber = yield* Effect.forkChild(Follow.follow(task.id, {
        interval: 2000,
        dataDir: "/nonexistent",
        onChange: (u) => Effect.sync(() => seen.push(`${u.elapsedMs} ${u.task.state} ${u.task.phase ?? "-"} ${u.progress ?? "-"}`)),
        onTick: (u) => Effect.asVoid(Queue.offer(polled, u.elapsedMs))
      }))
      const next = (step: Effect.Effect<unknown, unknown>) =>
        Effect.gen(function*() {
          yield* Effect.orDie(step)
          yield* TestClock.adjust("2 seconds")
          return yield* Queue.take(polled)
        })
      assert.strictEqual(yield* Queue.take(polled), 0)
      assert.deepStrictEqual(seen, ["0 queued - -"])
      const c = yield* scheduler.claim({ worker: "w" })
      const lease = Option.getOrThrow(c).lease
      assert.strictEqual(yield* next(Effect.void), 2000) // the next poll sees it running
      assert.strictEqual(yield* next(Effect.void), 4000) // nothing changed: no new report
      assert.strictEqual(yield* next(scheduler.setPhase(lease, "polling", { progress: 30 })), 6000)
      assert.strictEqual(yield* next(scheduler.setPhase(lease, "polling", { progress: 60 })), 8000) // progress alone is a change
      assert.strictEqual(yield* next(scheduler.complete(lease)), 10000)
      const final = yield* Fiber.join(fiber)
      assert.strictEqual(final.task.state, "completed")
      assert.strictEqual(final.progress, 100)
      assert.deepStrictEqual(seen, ["0 queued - -", "2000 running creating -", "6000 running polling 30", "8000 running polling 60", "10000 completed - 100"])
    }).pipe(Effect.provide(layer)))

  it("renders a bar proportional to the percentage", () => {
    assert.strictEqual(Follow.bar(50, 10), "[█████░░░░░]")
    assert.strictEqual(Follow.bar(undefined, 5), "[░░░░░]")
    assert.strictEqual(Follow.bar(100, 5), "[█████]")
  })
})
