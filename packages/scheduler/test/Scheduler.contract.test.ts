/**
 * The scheduler contract, run against both backends (memory and a real redis-server).
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer, Option, Redacted, Ref } from "effect"
import { TestClock } from "effect/testing"
import * as Housekeeping from "../src/Housekeeping.js"
import * as Scheduler from "../src/Scheduler.js"
import * as Task from "../src/Task.js"
import { type Backend, backends, baseConfig, errorOf, harness, logCapture, reasonOf, testKey } from "./harness.js"

const untrusted = (targets: string, extra: Partial<Task.SubmitRequest> = {}): Task.SubmitRequest => ({
  scanType: "untrusted",
  targets,
  name: "scan",
  ...extra
})

const claimSome = (scheduler: Scheduler.Service, worker: string, pool?: string) =>
  Effect.flatMap(scheduler.claim({ worker, pool }), (c) =>
    Option.isSome(c) ? Effect.succeed(c.value) : Effect.die(new Error(`${worker}: expected a claim`)))

const runningOf = (scheduler: Scheduler.Service, pool?: string) =>
  Effect.map(scheduler.scanners(pool), (list) => Object.fromEntries(list.map((s) => [s.instanceId, s.running])))

describe.each(backends)("Scheduler contract ($name)", (backend: Backend) => {
  const provide = <A, E, R>(effect: Effect.Effect<A, E, R>, options: Parameters<typeof harness>[1] = {}) =>
    Effect.provide(effect, harness(backend, options))

  it.effect("submits a queued task with its position, normalised targets and no secret", () =>
    provide(Effect.gen(function*() {
      const s = yield* Scheduler.Scheduler
      const { created, position, task } = yield* s.submit(untrusted("192.0.2.1, 192.0.2.0/30 scanme.example.com"))
      assert.isTrue(created)
      assert.strictEqual(task.state, "queued")
      assert.strictEqual(task.pool, "nessus")
      assert.deepStrictEqual(task.targets, ["192.0.2.1", "192.0.2.0/30", "scanme.example.com"])
      assert.match(task.id, /^t_[A-Za-z0-9_-]{22}$/)
      assert.match(task.createdAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/)
      assert.strictEqual(position?.position, 1)
      const again = yield* s.get(task.id)
      assert.strictEqual(again.id, task.id)
      assert.strictEqual((yield* s.queueStats()).queued, 1)
    })))

  it.effect("refuses bad submissions with specific reasons", () =>
    provide(Effect.gen(function*() {
      const s = yield* Scheduler.Scheduler
      assert.strictEqual(yield* reasonOf(s.submit(untrusted("192.0.2.1", { pool: "nope" }))), "unknown_pool")
      assert.strictEqual(yield* reasonOf(s.submit(untrusted("10.0.0.1"))), "targets_not_allowed")
      assert.strictEqual(yield* reasonOf(s.submit(untrusted("other.example.com"))), "targets_not_allowed")
      assert.strictEqual(yield* reasonOf(s.submit(untrusted("192.0.2.1;rm -rf /"))), "invalid_targets")
      assert.strictEqual(yield* reasonOf(s.submit(untrusted("<x>"))), "invalid_targets")
      assert.strictEqual(yield* reasonOf(s.submit(untrusted("192.0.2.0/24, 198.51.100.0/22"))), "targets_not_allowed")
      const many = yield* errorOf(s.submit(untrusted("192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24, 127.0.0.0/22")))
      assert.strictEqual(many.reason, "too_many_targets")
      assert.include(many.message, "1024")
      assert.strictEqual(yield* reasonOf(s.submit(untrusted("192.0.2.1", { instance: "solo1" }))), "unknown_scanner")
      assert.strictEqual(yield* reasonOf(s.submit(untrusted("192.0.2.1", { credential: "plain" }))), "invalid_input")
      assert.strictEqual(yield* reasonOf(s.submit({ scanType: "authenticated", targets: "192.0.2.1", name: "x" })), "invalid_input")
      assert.strictEqual(
        yield* reasonOf(s.submit({ scanType: "authenticated_privileged", targets: "192.0.2.1", name: "x", credential: "plain" })),
        "invalid_input"
      )
      assert.strictEqual(yield* reasonOf(s.submit({ scanType: "authenticated", targets: "192.0.2.1", name: "x", credential: "nope" })), "unknown_credential")
      assert.strictEqual(yield* reasonOf(s.submit(untrusted("192.0.2.1", { name: "" }))), "invalid_input")
      assert.strictEqual(yield* reasonOf(s.submit(untrusted("192.0.2.1", { idempotencyKey: "bad key!" }))), "invalid_input")
      assert.strictEqual(yield* reasonOf(s.get("../../etc/passwd")), "invalid_input")
      assert.strictEqual(yield* reasonOf(s.get("t_AAAAAAAAAAAAAAAAAAAAAA")), "not_found")
      assert.strictEqual((yield* s.queueStats()).queued, 0)
    })))

  it.effect("refuses inline credentials without a key, saying how to enable them", () =>
    provide(Effect.gen(function*() {
      const s = yield* Scheduler.Scheduler
      const e = yield* errorOf(s.submit({
        scanType: "authenticated",
        targets: "192.0.2.1",
        name: "x",
        inlineCredential: { type: "ssh", username: "root", password: Redacted.make("pw") }
      }))
      assert.strictEqual(e.reason, "inline_credentials_disabled")
      assert.include(e.message, "CREDENTIALS_KEY")
    })))

  it.effect("never stores or shows a secret (canary in inline credentials)", () =>
    provide(
      Effect.gen(function*() {
        const s = yield* Scheduler.Scheduler
        const canary = "CANARY-8f3b2c-pass"
        const sudoCanary = "CANARY-sudo-77d1"
        const { task } = yield* s.submit({
          scanType: "authenticated_privileged",
          targets: "192.0.2.7",
          name: "creds",
          idempotencyKey: "canary-key",
          inlineCredential: {
            type: "ssh",
            username: "root",
            password: Redacted.make(canary),
            elevatePrivilegesWith: "sudo",
            escalationPassword: Redacted.make(sudoCanary)
          }
        })
        assert.deepStrictEqual(task.credential, { kind: "inline", type: "ssh", username: "root", elevatePrivilegesWith: "sudo" })
        const claim = yield* claimSome(s, "w1")
        yield* s.fail(claim.lease, { reason: "auth_rejected", message: "login refused" })
        const outputs = [
          JSON.stringify(yield* s.get(task.id)),
          JSON.stringify(yield* s.list()),
          JSON.stringify(yield* s.dlqList()),
          JSON.stringify(yield* s.dlqInspect(task.id)),
          JSON.stringify(yield* s.queueStats()),
          JSON.stringify(yield* s.scanners())
        ]
        const stored = yield* s.dump
        assert.isAbove(stored.length, 3)
        for (const text of [...outputs, ...stored]) {
          assert.notInclude(text, canary)
          assert.notInclude(text, sudoCanary)
          assert.notInclude(text, Buffer.from(canary).toString("base64"))
        }
        const cred = yield* s.credentialFor(task.id)
        assert.isTrue(Option.isSome(cred))
        if (Option.isSome(cred)) {
          assert.strictEqual(Redacted.value(cred.value.password), canary)
          assert.strictEqual(Redacted.value(cred.value.escalationPassword as Redacted.Redacted<string>), sudoCanary)
          assert.notInclude(String(cred.value.password), canary)
        }
      }),
      { key: testKey }
    ))

  it.effect("resolves named credentials for the worker", () =>
    provide(Effect.gen(function*() {
      const s = yield* Scheduler.Scheduler
      const { task } = yield* s.submit({ scanType: "authenticated_privileged", targets: "192.0.2.1", name: "x", credential: "linux-admin" })
      assert.deepStrictEqual(task.credential, { kind: "named", name: "linux-admin" })
      const cred = yield* s.credentialFor(task.id)
      assert.isTrue(Option.isSome(cred))
      if (Option.isSome(cred)) {
        assert.strictEqual(cred.value.username, "scanuser")
        assert.strictEqual(Redacted.value(cred.value.password), "scanpass")
        assert.strictEqual(cred.value.elevatePrivilegesWith, "sudo")
      }
    })))

  it.effect("idempotency: 10 concurrent identical submissions make one task; different parameters conflict; keys live 48 h", () =>
    provide(Effect.gen(function*() {
      const s = yield* Scheduler.Scheduler
      const req = untrusted("192.0.2.9", { idempotencyKey: "k-1" })
      const results = yield* Effect.all(Array.from({ length: 10 }, () => s.submit(req)), { concurrency: "unbounded" })
      assert.strictEqual(new Set(results.map((r) => r.task.id)).size, 1)
      assert.strictEqual(results.filter((r) => r.created).length, 1)
      assert.strictEqual((yield* s.queueStats()).queued, 1)
      // the auto-chosen scanner is not part of the hash
      const claim = yield* claimSome(s, "w1")
      assert.isDefined(claim.task.instance)
      const again = yield* s.submit(req)
      assert.strictEqual(again.task.id, results[0]?.task.id)
      assert.isFalse(again.created)
      assert.strictEqual(again.task.state, "running")
      const conflict = yield* errorOf(s.submit({ ...req, name: "other name" }))
      assert.strictEqual(conflict.reason, "idempotency_conflict")
      assert.include(conflict.message, "k-1")
      yield* TestClock.adjust("49 hours")
      const fresh = yield* s.submit(req)
      assert.isTrue(fresh.created)
      assert.notStrictEqual(fresh.task.id, again.task.id)
    })))

  it.effect("claims FIFO onto the least-utilised scanner; instance-bound tasks only on their scanner", () =>
    provide(Effect.gen(function*() {
      const s = yield* Scheduler.Scheduler
      const a = yield* s.submit(untrusted("192.0.2.1", { name: "a" }))
      const b = yield* s.submit(untrusted("192.0.2.2", { name: "b", instance: "s3" }))
      const c = yield* s.submit(untrusted("192.0.2.3", { name: "c" }))
      const c1 = yield* claimSome(s, "w")
      assert.strictEqual(c1.task.id, a.task.id)
      assert.strictEqual(c1.task.phase, "creating")
      assert.strictEqual(c1.task.attempt, 1)
      assert.strictEqual(c1.task.instance, c1.lease.instanceId)
      assert.strictEqual(c1.scanName, Task.scanName(a.task.id, 1))
      assert.strictEqual(c1.scanner?.instanceId, c1.lease.instanceId)
      assert.isFalse(c1.takeover)
      // b (bound to s3) is older than c, so it goes next, onto s3
      const c2 = yield* claimSome(s, "w")
      assert.strictEqual(c2.task.id, b.task.id)
      assert.strictEqual(c2.lease.instanceId, "s3")
      const c3 = yield* claimSome(s, "w")
      assert.strictEqual(c3.task.id, c.task.id)
      // least-utilised: three scans spread over the three scanners
      assert.deepStrictEqual(yield* runningOf(s, "nessus"), { s1: 1, s2: 1, s3: 1 })
      assert.isTrue(Option.isNone(yield* s.claim({ worker: "w" })))
      // a bound task waits for its scanner even when others are free
      const bound = yield* s.submit(untrusted("192.0.2.4", { instance: "s3" }))
      yield* s.submit(untrusted("192.0.2.5", { instance: "s3" }))
      const c4 = yield* claimSome(s, "w")
      assert.strictEqual(c4.task.id, bound.task.id)
      assert.strictEqual(c4.lease.instanceId, "s3")
      assert.isTrue(Option.isNone(yield* s.claim({ worker: "w" })))
      yield* s.complete(c2.lease)
      const c5 = yield* claimSome(s, "w")
      assert.strictEqual(c5.lease.instanceId, "s3")
    })))

  it.effect("20 consumers racing over 3 scanners of capacity 2 never exceed capacity", () =>
    provide(Effect.gen(function*() {
      const s = yield* Scheduler.Scheduler
      const total = 36
      for (let i = 0; i < total; i++) yield* s.submit(untrusted(`192.0.2.${i + 1}`, { name: `t${i}` }))
      const held = new Map<string, number>()
      const done = yield* Ref.make(0)
      const violations: Array<string> = []
      let maxSeen = 0
      const checkStore = Effect.gen(function*() {
        for (const sc of yield* s.scanners("nessus")) {
          maxSeen = Math.max(maxSeen, sc.running)
          if (sc.running > sc.maxConcurrentScans) violations.push(`${sc.instanceId} running ${sc.running}`)
        }
      })
      const consumer = (n: number) =>
        Effect.gen(function*() {
          for (let spins = 0; spins < 2000; spins++) {
            if ((yield* Ref.get(done)) >= total) return
            const c = yield* s.claim({ worker: `c${n}` })
            if (Option.isNone(c)) {
              yield* Effect.yieldNow
              continue
            }
            const inst = c.value.lease.instanceId
            held.set(inst, (held.get(inst) ?? 0) + 1)
            if ((held.get(inst) ?? 0) > 2) violations.push(`${inst} held by ${held.get(inst)} consumers`)
            yield* checkStore
            yield* s.setPhase(c.value.lease, "launched", { nessusScanId: n })
            yield* Effect.yieldNow
            held.set(inst, (held.get(inst) ?? 0) - 1)
            yield* s.complete(c.value.lease)
            yield* checkStore
            yield* Ref.update(done, (x) => x + 1)
          }
        })
      yield* Effect.all(Array.from({ length: 20 }, (_, i) => consumer(i)), { concurrency: "unbounded" })
      assert.deepStrictEqual(violations, [])
      assert.strictEqual(yield* Ref.get(done), total)
      assert.strictEqual(maxSeen, 2)
      const completed = yield* s.list({ state: "completed", limit: 100 })
      assert.strictEqual(completed.tasks.length, total)
      assert.deepStrictEqual(yield* runningOf(s, "nessus"), { s1: 0, s2: 0, s3: 0 })
    })))

  it.effect("a consumer killed mid-task is taken over from its phase after lease expiry and the task completes once", () =>
    provide(Effect.gen(function*() {
      const s = yield* Scheduler.Scheduler
      const { task } = yield* s.submit(untrusted("192.0.2.10"))
      const a = yield* claimSome(s, "worker-a")
      yield* s.setPhase(a.lease, "launched", { nessusScanId: 4242 })
      yield* s.setPhase(a.lease, "polling")
      // worker-a dies: no more heartbeats
      yield* TestClock.adjust("30 seconds")
      assert.isTrue(Option.isNone(yield* s.claim({ worker: "worker-b" })), "lease still valid")
      yield* TestClock.adjust("31 seconds")
      const b = yield* claimSome(s, "worker-b")
      assert.isTrue(b.takeover)
      assert.strictEqual(b.task.id, task.id)
      assert.strictEqual(b.task.phase, "polling")
      assert.strictEqual(b.task.nessusScanId, 4242)
      assert.strictEqual(b.task.attempt, 1, "a takeover is not a new attempt (never relaunch)")
      assert.strictEqual(b.task.takeovers, 1)
      assert.strictEqual(b.lease.instanceId, a.lease.instanceId)
      assert.strictEqual(b.scanName, a.scanName)
      assert.deepStrictEqual(yield* runningOf(s, "nessus"), { s1: 0, s2: 0, s3: 0, [a.lease.instanceId]: 1 }, "the slot stays held across the takeover")
      // the zombie's late calls are refused
      assert.strictEqual(yield* reasonOf(s.heartbeat(a.lease)), "lease_lost")
      assert.strictEqual(yield* reasonOf(s.complete(a.lease)), "lease_lost")
      assert.strictEqual(yield* reasonOf(s.fail(a.lease, { reason: "network", message: "x" })), "lease_lost")
      yield* s.setPhase(b.lease, "exporting")
      yield* s.complete(b.lease, { authenticationStatus: "not_applicable", validation: { hosts: 1 }, artifacts: { nessus: "/data/x.nessus" } })
      const done = yield* s.get(task.id)
      assert.strictEqual(done.state, "completed")
      assert.strictEqual(done.authenticationStatus, "not_applicable")
      assert.deepStrictEqual(done.validation, { hosts: 1 })
      assert.strictEqual(yield* reasonOf(s.complete(b.lease)), "lease_lost")
      assert.strictEqual((yield* s.list({ state: "completed" })).tasks.length, 1)
      assert.deepStrictEqual(done.artifacts, { nessus: "/data/x.nessus" })
      assert.deepStrictEqual(yield* runningOf(s, "nessus"), { s1: 0, s2: 0, s3: 0 })
    })))

  it.effect("heartbeats keep the lease; a graceful release hands the task over at once", () =>
    provide(Effect.gen(function*() {
      const s = yield* Scheduler.Scheduler
      yield* s.submit(untrusted("192.0.2.10"))
      const a = yield* claimSome(s, "a")
      yield* TestClock.adjust("45 seconds")
      const renewed = yield* s.heartbeat(a.lease)
      assert.isAbove(renewed.expiresAt, a.lease.expiresAt)
      yield* TestClock.adjust("45 seconds")
      assert.isTrue(Option.isNone(yield* s.claim({ worker: "b" })))
      yield* s.release(renewed)
      const b = yield* claimSome(s, "b")
      assert.isTrue(b.takeover)
      assert.strictEqual(b.task.phase, "creating")
      assert.strictEqual(yield* reasonOf(s.heartbeat(renewed)), "lease_lost")
    })))

  it.effect("phases only move forward", () =>
    provide(Effect.gen(function*() {
      const s = yield* Scheduler.Scheduler
      yield* s.submit(untrusted("192.0.2.10"))
      const a = yield* claimSome(s, "a")
      yield* s.setPhase(a.lease, "polling", { nessusScanId: 7 })
      assert.strictEqual(yield* reasonOf(s.setPhase(a.lease, "creating")), "invalid_transition")
      yield* s.setPhase(a.lease, "polling")
      assert.strictEqual((yield* s.get(a.task.id)).nessusScanId, 7)
    })))

  it.effect("setPhase records the scan's progress on the task (get and list), kept across a takeover, cleared for a new attempt", () =>
    provide(Effect.gen(function*() {
      const s = yield* Scheduler.Scheduler
      const { task } = yield* s.submit(untrusted("192.0.2.10"))
      assert.isUndefined(task.progress)
      const a = yield* claimSome(s, "a")
      assert.isUndefined(a.task.progress)
      yield* s.setPhase(a.lease, "launched", { nessusScanId: 11, progress: 0 })
      assert.strictEqual((yield* s.get(task.id)).progress, 0)
      yield* s.setPhase(a.lease, "polling", { nessusScanId: 11, progress: 42.5 })
      const polled = yield* s.get(task.id)
      assert.strictEqual(polled.progress, 42.5)
      assert.strictEqual(polled.nessusScanId, 11)
      assert.strictEqual((yield* s.list({ state: "running" })).tasks[0]?.progress, 42.5)
      // a phase update without progress keeps the last one
      yield* s.setPhase(a.lease, "polling")
      assert.strictEqual((yield* s.get(task.id)).progress, 42.5)
      for (const bad of [-1, 100.5, Number.NaN, Number.POSITIVE_INFINITY]) {
        const e = yield* errorOf(s.setPhase(a.lease, "polling", { progress: bad }))
        assert.strictEqual(e.reason, "invalid_input")
        assert.include(e.message, "0 to 100")
      }
      assert.strictEqual((yield* s.get(task.id)).progress, 42.5, "a refused update changes nothing")
      // the lease still fences it
      yield* TestClock.adjust("61 seconds")
      const b = yield* claimSome(s, "b")
      assert.isTrue(b.takeover)
      assert.strictEqual(b.task.progress, 42.5, "a takeover resumes the same scan")
      assert.strictEqual(yield* reasonOf(s.setPhase(a.lease, "polling", { progress: 90 })), "lease_lost")
      yield* s.setPhase(b.lease, "polling", { progress: 100 })
      // a transient failure queues a new attempt (a new scan): its progress starts over
      const out = yield* s.fail(b.lease, { reason: "http_5xx", message: "HTTP 502" })
      assert.strictEqual(out._tag, "Retrying")
      assert.isUndefined(out.task.progress)
      assert.isUndefined((yield* s.get(task.id)).progress)
      yield* TestClock.adjust("2 seconds")
      const c = yield* claimSome(s, "c")
      assert.strictEqual(c.task.attempt, 2)
      assert.isUndefined(c.task.progress)
      yield* s.setPhase(c.lease, "polling", { progress: 100 })
      yield* s.complete(c.lease)
      const done = yield* s.get(task.id)
      assert.strictEqual(done.state, "completed")
      assert.strictEqual(done.progress, 100)
    })))

  it.effect("fail records the worker's results (validation, authentication status, artifacts) like complete", () =>
    provide(Effect.gen(function*() {
      const s = yield* Scheduler.Scheduler
      const { task } = yield* s.submit({ scanType: "authenticated", targets: "192.0.2.1", name: "auth", credential: "linux-admin" })
      const c = yield* claimSome(s, "w")
      yield* s.setPhase(c.lease, "validating", { nessusScanId: 5, progress: 100 })
      const validation = { valid: false, error: { code: "authentication_failed", message: "no host logged in" }, failed_hosts: ["192.0.2.1"] }
      const out = yield* s.fail(
        c.lease,
        { reason: "authentication_failed", message: "Authentication failed on 192.0.2.1." },
        { validation, authenticationStatus: "failed", artifacts: { nessus: "/data/x/scan.nessus", index: "/data/x/index" } }
      )
      assert.strictEqual(out._tag, "DeadLettered")
      assert.strictEqual(out.task.authenticationStatus, "failed")
      const failed = yield* s.get(task.id)
      assert.strictEqual(failed.state, "failed")
      assert.strictEqual(failed.authenticationStatus, "failed")
      assert.deepStrictEqual(failed.validation, validation)
      assert.deepStrictEqual(failed.artifacts, { nessus: "/data/x/scan.nessus", index: "/data/x/index" })
      assert.strictEqual(failed.errors[0]?.reason, "authentication_failed")
      const entry = yield* s.dlqInspect(task.id)
      assert.deepStrictEqual(entry.task.validation, validation)
      assert.strictEqual(entry.task.authenticationStatus, "failed")
      // a retried failure records its results too; parts not given leave the task unchanged
      const { task: t2 } = yield* s.submit(untrusted("192.0.2.2"))
      const c2 = yield* claimSome(s, "w")
      const retry = yield* s.fail(c2.lease, { reason: "timeout", message: "export timed out" }, { artifacts: { status: "/data/y/status.json" } })
      assert.strictEqual(retry._tag, "Retrying")
      const queued = yield* s.get(t2.id)
      assert.deepStrictEqual(queued.artifacts, { status: "/data/y/status.json" })
      assert.isUndefined(queued.validation)
      assert.isUndefined(queued.authenticationStatus)
      // without a result, nothing is recorded (the two-argument call is unchanged)
      const { task: t3 } = yield* s.submit(untrusted("192.0.2.3"))
      const c3 = yield* claimSome(s, "w")
      yield* s.fail(c3.lease, { reason: "invalid_targets", message: "refused" })
      const plain = yield* s.get(t3.id)
      assert.isUndefined(plain.validation)
      assert.isUndefined(plain.artifacts)
      // the lease fences it: a zombie cannot write results
      assert.strictEqual(yield* reasonOf(s.fail(c.lease, { reason: "internal", message: "late" }, { authenticationStatus: "success" })), "lease_lost")
      assert.strictEqual((yield* s.get(task.id)).authenticationStatus, "failed")
    })))

  it.effect("claim with an instance filter starts new work only on the listed scanners; takeovers are not filtered", () =>
    provide(Effect.gen(function*() {
      const s = yield* Scheduler.Scheduler
      const a = yield* s.submit(untrusted("192.0.2.1", { name: "a" }))
      const b = yield* s.submit(untrusted("192.0.2.2", { name: "b", instance: "s3" }))
      const c = yield* s.submit(untrusted("192.0.2.3", { name: "c", instance: "s1" }))
      const d = yield* s.submit(untrusted("192.0.2.4", { name: "d" }))
      const only = (worker: string, instances: ReadonlyArray<string>) => s.claim({ worker, instances })
      // a (pool task) goes to s1, the only listed scanner, although s2 and s3 are as free
      const c1 = yield* only("w1", ["s1"])
      assert.isTrue(Option.isSome(c1))
      if (Option.isSome(c1)) {
        assert.strictEqual(c1.value.task.id, a.task.id)
        assert.strictEqual(c1.value.lease.instanceId, "s1")
      }
      // s2: b (bound to s3) and c (bound to s1) are not for it; d is
      const c2 = yield* only("w2", ["s2", "not-a-scanner"])
      assert.isTrue(Option.isSome(c2))
      if (Option.isSome(c2)) {
        assert.strictEqual(c2.value.task.id, d.task.id)
        assert.strictEqual(c2.value.lease.instanceId, "s2")
      }
      assert.isTrue(Option.isNone(yield* only("w2", ["s2"])), "nothing left that may run on s2")
      assert.isTrue(Option.isNone(yield* only("w0", [])), "an empty filter starts nothing")
      assert.isTrue(Option.isNone(yield* s.claim({ worker: "w", pool: "solo", instances: ["s1", "s2", "s3"] })), "no scanner of the pool listed")
      // FIFO among what the filter allows: b (older, bound to s3) before c (bound to s1)
      const c3 = yield* only("w3", ["s1", "s3"])
      assert.isTrue(Option.isSome(c3) && c3.value.task.id === b.task.id && c3.value.lease.instanceId === "s3")
      const c4 = yield* only("w1", ["s1"])
      assert.isTrue(Option.isSome(c4) && c4.value.task.id === c.task.id && c4.value.lease.instanceId === "s1")
      // capacity still holds under the filter: s1 is full (a, c), the others are not
      const e = yield* s.submit(untrusted("192.0.2.5", { name: "e" }))
      assert.isTrue(Option.isNone(yield* only("w1", ["s1"])), "s1 is at max_concurrent_scans")
      assert.deepStrictEqual(yield* runningOf(s, "nessus"), { s1: 2, s2: 1, s3: 1 })
      const c5 = yield* only("w2", ["s1", "s2"])
      assert.isTrue(Option.isSome(c5) && c5.value.task.id === e.task.id && c5.value.lease.instanceId === "s2")
      // a lease that expired is taken over by any worker, whatever its filter (the scan must be finished)
      yield* TestClock.adjust("61 seconds")
      const taken: Array<string> = []
      for (let i = 0; i < 10; i++) {
        const t = yield* only("w9", ["s2"])
        if (Option.isNone(t)) break
        assert.isTrue(t.value.takeover)
        assert.strictEqual(t.value.scanner?.instanceId, t.value.lease.instanceId)
        taken.push(`${t.value.task.id}@${t.value.lease.instanceId}`)
      }
      assert.deepStrictEqual(
        taken.sort(),
        [`${a.task.id}@s1`, `${b.task.id}@s3`, `${c.task.id}@s1`, `${d.task.id}@s2`, `${e.task.id}@s2`].sort()
      )
      const inSolo = yield* s.submit(untrusted("192.0.2.9", { pool: "solo" }))
      const w = yield* claimSome(s, "w", "solo")
      assert.strictEqual(w.task.id, inSolo.task.id)
      yield* TestClock.adjust("61 seconds")
      const soloTakeover = yield* s.claim({ worker: "w", pool: "solo", instances: [] })
      assert.isTrue(Option.isSome(soloTakeover) && soloTakeover.value.takeover, "a filter without scanners of the pool still takes over")
      assert.strictEqual(yield* reasonOf(s.claim({ worker: "w", instances: [""] })), "invalid_input")
    })))

  it.effect("transient failures retry with backoff, then dead-letter; DLQ retry really reruns", () =>
    provide(Effect.gen(function*() {
      const s = yield* Scheduler.Scheduler
      const { task } = yield* s.submit(untrusted("192.0.2.10"))
      const delays: Array<number> = []
      for (let attempt = 1; attempt <= 3; attempt++) {
        const c = yield* claimSome(s, "w")
        assert.strictEqual(c.task.attempt, attempt)
        yield* s.setPhase(c.lease, "launched", { nessusScanId: attempt })
        const out = yield* s.fail(c.lease, { reason: "http_5xx", message: `HTTP 503 on attempt ${attempt}` })
        assert.strictEqual(out._tag, "Retrying")
        assert.strictEqual(out.task.state, "queued")
        assert.isUndefined(out.task.nessusScanId)
        const wait = out._tag === "Retrying" ? Date.parse(out.retryAt) - Date.parse(out.task.updatedAt) : 0
        delays.push(wait)
        assert.isTrue(Option.isNone(yield* s.claim({ worker: "w" })), "not before the backoff")
        const pos = yield* s.position(task.id)
        assert.isTrue(Option.isSome(pos) && (pos.value.estimatedWaitMs ?? 0) >= wait - 1)
        yield* TestClock.adjust(wait)
      }
      const base = [1000, 2000, 4000]
      delays.forEach((d, i) => {
        assert.isAtLeast(d, (base[i] as number) * 0.8 - 1)
        assert.isAtMost(d, (base[i] as number) * 1.2 + 1)
      })
      const last = yield* claimSome(s, "w")
      assert.strictEqual(last.task.attempt, 4)
      const out = yield* s.fail(last.lease, { reason: "http_5xx", message: "HTTP 503 again" })
      assert.strictEqual(out._tag, "DeadLettered")
      assert.strictEqual(out.task.state, "failed")
      assert.strictEqual(out.task.errors.length, 4)
      assert.deepStrictEqual(out.task.errors.map((e) => e.attempt), [1, 2, 3, 4])
      assert.strictEqual(out.task.errors[0]?.phase, "launched")
      const dlq = yield* s.dlqList()
      assert.strictEqual(dlq.total, 1)
      assert.strictEqual(dlq.entries[0]?.lastError?.message, "HTTP 503 again")
      // retry from the DLQ: a new attempt from queued, with a fresh retry budget
      const retried = yield* s.dlqRetry(task.id)
      assert.strictEqual(retried.state, "queued")
      assert.strictEqual((yield* s.dlqList()).total, 0)
      assert.strictEqual(yield* reasonOf(s.dlqInspect(task.id)), "not_found")
      const again = yield* claimSome(s, "w")
      assert.strictEqual(again.task.attempt, 5)
      assert.strictEqual(again.scanName, Task.scanName(task.id, 5))
      const retryOut = yield* s.fail(again.lease, { reason: "timeout", message: "read timeout" })
      assert.strictEqual(retryOut._tag, "Retrying")
      yield* TestClock.adjust("2 seconds")
      const fin = yield* claimSome(s, "w")
      yield* s.complete(fin.lease)
      const done = yield* s.get(task.id)
      assert.strictEqual(done.state, "completed")
      assert.strictEqual(done.errors.length, 5)
    })))

  it.effect("permanent failures go straight to the DLQ; DLQ lists newest first, paged; purge", () =>
    provide(Effect.gen(function*() {
      const s = yield* Scheduler.Scheduler
      const ids: Array<string> = []
      for (let i = 0; i < 5; i++) {
        const { task } = yield* s.submit(untrusted(`192.0.2.${i + 1}`, { name: `n${i}` }))
        ids.push(task.id)
        const c = yield* claimSome(s, "w")
        const out = yield* s.fail(c.lease, { reason: i % 2 === 0 ? "auth_rejected" : "invalid_targets", message: `bad ${i}` })
        assert.strictEqual(out._tag, "DeadLettered")
        yield* TestClock.adjust("1 minute")
      }
      const page1 = yield* s.dlqList("nessus", { offset: 0, limit: 2 })
      assert.strictEqual(page1.total, 5)
      assert.deepStrictEqual(page1.entries.map((e) => e.task.id), [ids[4], ids[3]])
      const page2 = yield* s.dlqList("nessus", { offset: 2, limit: 2 })
      assert.deepStrictEqual(page2.entries.map((e) => e.task.id), [ids[2], ids[1]])
      const entry = yield* s.dlqInspect(ids[0] as string)
      assert.strictEqual(entry.lastError?.reason, "auth_rejected")
      assert.strictEqual(entry.task.attempt, 1)
      // failed at t=0,1,2,3,4 min; now 5 min: purge those older than 2 min → ids 0, 1
      assert.strictEqual(yield* s.dlqPurge("nessus", { olderThan: 2 * 60_000, dryRun: true }), 2)
      assert.strictEqual(yield* s.dlqPurge("nessus", { dryRun: true }), 5)
      assert.strictEqual((yield* s.dlqList()).total, 5, "a dry run removes nothing")
      const purged = yield* s.dlqPurge("nessus", { olderThan: 2 * 60_000 })
      assert.strictEqual(purged, 2)
      assert.strictEqual((yield* s.dlqList()).total, 3)
      assert.strictEqual(yield* s.dlqPurge(), 3)
      assert.strictEqual((yield* s.dlqList()).total, 0)
    })))

  it.effect("circuit: failures open it, open scanners are skipped, cooldown half-opens, one probe closes or reopens", () =>
    provide(Effect.gen(function*() {
      const s = yield* Scheduler.Scheduler
      for (let i = 0; i < 5; i++) {
        yield* s.submit(untrusted("192.0.2.1", { pool: "solo", name: `f${i}` }))
        const c = yield* claimSome(s, "w", "solo")
        yield* s.fail(c.lease, { reason: "scanner_down", message: "connection refused", retryable: false })
      }
      const [open] = (yield* s.circuits).filter((c) => c.instanceId === "solo1")
      assert.strictEqual(open?.state, "open")
      assert.strictEqual(open?.consecutiveFailures, 5)
      assert.strictEqual(open?.retryAt, new Date(5 * 60_000).toISOString())
      // open: skipped by selection
      const { task: waiting } = yield* s.submit(untrusted("192.0.2.2", { pool: "solo" }))
      yield* s.submit(untrusted("192.0.2.3", { pool: "solo" }))
      assert.isTrue(Option.isNone(yield* s.claim({ worker: "w", pool: "solo" })))
      yield* TestClock.adjust("4 minutes")
      assert.isTrue(Option.isNone(yield* s.claim({ worker: "w", pool: "solo" })))
      yield* TestClock.adjust("1 minute")
      assert.strictEqual((yield* s.scanners("solo"))[0]?.circuit.state, "half_open")
      const probe = yield* claimSome(s, "w", "solo")
      assert.strictEqual(probe.task.id, waiting.id)
      // only one probe at a time, even with a free slot
      assert.isTrue(Option.isNone(yield* s.claim({ worker: "w", pool: "solo" })))
      const half = (yield* s.scanners("solo"))[0]?.circuit
      assert.strictEqual(half?.state, "half_open")
      assert.strictEqual(half?.probeTaskId, waiting.id)
      // the probe fails: reopen
      yield* s.fail(probe.lease, { reason: "http_5xx", message: "503", retryable: false })
      assert.strictEqual((yield* s.scanners("solo"))[0]?.circuit.state, "open")
      yield* TestClock.adjust("5 minutes")
      const probe2 = yield* claimSome(s, "w", "solo")
      yield* s.complete(probe2.lease)
      const closed = (yield* s.scanners("solo"))[0]?.circuit
      assert.strictEqual(closed?.state, "closed")
      assert.strictEqual(closed?.consecutiveFailures, 0)
      const transitions = (yield* s.circuitTransitions()).filter((t) => t.instanceId === "solo1").map((t) => `${t.from}>${t.to}`).reverse()
      assert.deepStrictEqual(transitions, ["closed>open", "open>half_open", "half_open>open", "open>half_open", "half_open>closed"])
    })))

  it.effect("circuit: reported failures open it and an operator reset closes it; other scanners keep working", () =>
    provide(Effect.gen(function*() {
      const s = yield* Scheduler.Scheduler
      for (let i = 0; i < 5; i++) yield* s.reportScanner("s1", "failure")
      assert.strictEqual((yield* s.scanners("nessus")).find((x) => x.instanceId === "s1")?.circuit.state, "open")
      for (let i = 0; i < 4; i++) yield* s.submit(untrusted(`192.0.2.${i + 1}`))
      const got = new Set<string>()
      for (let i = 0; i < 4; i++) got.add((yield* claimSome(s, "w")).lease.instanceId)
      assert.deepStrictEqual([...got].sort(), ["s2", "s3"])
      const reset = yield* s.resetCircuit("s1")
      assert.strictEqual(reset.state, "closed")
      yield* s.submit(untrusted("192.0.2.9"))
      assert.strictEqual((yield* claimSome(s, "w")).lease.instanceId, "s1")
      assert.strictEqual(yield* reasonOf(s.resetCircuit("nope")), "unknown_scanner")
    })))

  it.effect("cancel: queued at once, running through the worker, terminal refused", () =>
    provide(Effect.gen(function*() {
      const s = yield* Scheduler.Scheduler
      const q = yield* s.submit(untrusted("192.0.2.1"))
      const cancelled = yield* s.cancel(q.task.id)
      assert.strictEqual(cancelled.state, "cancelled")
      assert.isTrue(Option.isNone(yield* s.claim({ worker: "w" })))
      const r = yield* s.submit(untrusted("192.0.2.2"))
      const c = yield* claimSome(s, "w")
      const rc = yield* s.cancel(r.task.id)
      assert.strictEqual(rc.state, "cancelled")
      assert.isTrue(rc.cancelRequested)
      assert.strictEqual(yield* reasonOf(s.heartbeat(c.lease)), "task_cancelled")
      assert.strictEqual(yield* reasonOf(s.complete(c.lease)), "task_cancelled")
      assert.strictEqual((yield* runningOf(s, "nessus"))[c.lease.instanceId], 1, "the slot is held until the scan is stopped")
      yield* s.release(c.lease)
      assert.strictEqual((yield* runningOf(s, "nessus"))[c.lease.instanceId], 0)
      assert.strictEqual(yield* reasonOf(s.cancel(r.task.id)), "invalid_transition")
      // a dead worker's cancelled task frees its slot when the lease expires
      yield* s.submit(untrusted("192.0.2.3"))
      const d = yield* claimSome(s, "w")
      yield* s.cancel(d.task.id)
      yield* TestClock.adjust("61 seconds")
      assert.isTrue(Option.isNone(yield* s.claim({ worker: "w2" })))
      assert.deepStrictEqual(yield* runningOf(s, "nessus"), { s1: 0, s2: 0, s3: 0 })
    })))

  it.effect("queue position and estimated wait come from capacity, running scans and recent durations", () =>
    provide(Effect.gen(function*() {
      const s = yield* Scheduler.Scheduler
      const ids: Array<string> = []
      for (let i = 0; i < 6; i++) ids.push((yield* s.submit(untrusted(`192.0.2.${i + 1}`, { pool: "solo" }))).task.id)
      const first = yield* s.position(ids[0] as string)
      assert.isTrue(Option.isSome(first))
      if (Option.isSome(first)) {
        assert.strictEqual(first.value.ahead, 0)
        assert.strictEqual(first.value.estimatedWaitMs, 0)
        assert.strictEqual(first.value.averageBasis, "default")
        assert.strictEqual(first.value.capacity, 2)
      }
      // two scans of 10 minutes complete: the average becomes 10 minutes
      for (let i = 0; i < 2; i++) {
        const c = yield* claimSome(s, "w", "solo")
        yield* TestClock.adjust("10 minutes")
        yield* s.complete(c.lease)
      }
      // two start now; the other two wait
      yield* claimSome(s, "w", "solo")
      yield* claimSome(s, "w", "solo")
      yield* TestClock.adjust("4 minutes")
      const p4 = yield* s.position(ids[4] as string)
      const p5 = yield* s.position(ids[5] as string)
      assert.isTrue(Option.isSome(p4) && Option.isSome(p5))
      if (Option.isSome(p4) && Option.isSome(p5)) {
        assert.strictEqual(p4.value.averageBasis, "history")
        assert.strictEqual(p4.value.averageScanMs, 10 * 60_000)
        assert.strictEqual(p4.value.position, 1)
        assert.strictEqual(p4.value.running, 2)
        assert.strictEqual(p4.value.estimatedWaitMs, 6 * 60_000)
        assert.strictEqual(p5.value.position, 2)
        assert.strictEqual(p5.value.estimatedWaitMs, 6 * 60_000)
      }
      assert.isTrue(Option.isNone(yield* s.position(ids[0] as string)), "not queued any more")
    })))

  it.effect("lists tasks newest first with state, pool and CIDR-aware target filters and cursors", () =>
    provide(Effect.gen(function*() {
      const s = yield* Scheduler.Scheduler
      const a = yield* s.submit(untrusted("192.0.2.0/28"))
      const b = yield* s.submit(untrusted("198.51.100.7"))
      const c = yield* s.submit(untrusted("scanme.example.com, 203.0.113.5-203.0.113.9"))
      const d = yield* s.submit(untrusted("192.0.2.200", { pool: "solo" }))
      const ids = (f: Scheduler.ListFilter) => Effect.map(s.list(f), (p) => p.tasks.map((t) => t.id))
      assert.deepStrictEqual(yield* ids({}), [d.task.id, c.task.id, b.task.id, a.task.id])
      assert.deepStrictEqual(yield* ids({ target: "192.0.2.5" }), [a.task.id])
      assert.deepStrictEqual(yield* ids({ target: "192.0.2.0/24" }), [d.task.id, a.task.id])
      assert.deepStrictEqual(yield* ids({ target: "198.51.100.0/24" }), [b.task.id])
      assert.deepStrictEqual(yield* ids({ target: "203.0.113.8" }), [c.task.id])
      assert.deepStrictEqual(yield* ids({ target: "SCANME.example.com" }), [c.task.id])
      assert.deepStrictEqual(yield* ids({ target: "10.0.0.0/8" }), [])
      assert.deepStrictEqual(yield* ids({ pool: "solo" }), [d.task.id])
      yield* claimSome(s, "w")
      assert.deepStrictEqual(yield* ids({ state: "running" }), [a.task.id])
      const page1 = yield* s.list({ limit: 3 })
      assert.strictEqual(page1.tasks.length, 3)
      const page2 = yield* s.list({ limit: 3, cursor: page1.cursor })
      assert.deepStrictEqual(page2.tasks.map((t) => t.id), [a.task.id])
      assert.strictEqual(yield* reasonOf(s.list({ target: "a;b" })), "invalid_input")
    })))

  it.effect("housekeeping: terminal tasks expire a TTL after their last access; stale scans time out", () =>
    provide(Effect.gen(function*() {
      const s = yield* Scheduler.Scheduler
      const stopped: Array<string> = []
      const artifactsDeleted: Array<string> = []
      const cleaned: Array<string> = []
      const janitor = Housekeeping.ScanJanitor.of({
        stopScan: (task) => Effect.sync(() => stopped.push(task.id)),
        deleteArtifacts: (task) => Effect.sync(() => artifactsDeleted.push(task.id)),
        deleteFinishedScans: (scanner, o) => Effect.sync(() => (cleaned.push(`${scanner.instanceId}:${o.isOwnScanName("nmcp-t_AAAAAAAAAAAAAAAAAAAAAA-a1")}:${o.isOwnScanName("Weekly scan")}`), 1))
      })
      const run = (dryRun = false) => Housekeeping.run({ dryRun }).pipe(Effect.provideService(Housekeeping.ScanJanitor, janitor))

      const done = yield* s.submit(untrusted("192.0.2.1", { name: "done" }))
      const failed = yield* s.submit(untrusted("192.0.2.2", { name: "failed" }))
      const c1 = yield* claimSome(s, "w")
      yield* s.complete(c1.lease, { artifacts: { nessus: "/data/done.nessus" } })
      const c2 = yield* claimSome(s, "w")
      yield* s.fail(c2.lease, { reason: "auth_rejected", message: "no" })

      yield* TestClock.adjust("6 days")
      yield* s.get(done.task.id) // reading status counts as access
      yield* TestClock.adjust("6 days")
      assert.deepStrictEqual((yield* run()).expired, [])
      const preview = yield* run(true)
      assert.deepStrictEqual(preview.expired, [])
      yield* TestClock.adjust("2 days")
      const dry = yield* run(true)
      assert.deepStrictEqual(dry.expired.map((e) => e.taskId), [done.task.id])
      assert.strictEqual((yield* s.get(done.task.id)).state, "completed", "a dry run deletes nothing (and the read is an access)")
      yield* TestClock.adjust("7 days")
      const report = yield* run()
      assert.deepStrictEqual(report.expired.map((e) => e.taskId), [done.task.id])
      assert.deepStrictEqual(artifactsDeleted, [done.task.id])
      assert.strictEqual(yield* reasonOf(s.get(done.task.id)), "not_found")
      assert.strictEqual((yield* s.dlqInspect(failed.task.id)).task.state, "failed", "failed tasks live 30 days")
      yield* TestClock.adjust("10 days")
      assert.deepStrictEqual((yield* run()).expired.map((e) => e.taskId), [failed.task.id])
      assert.strictEqual((yield* s.dlqList()).total, 0)
      assert.deepStrictEqual(cleaned.slice(0, 4), ["s1:true:false", "s2:true:false", "s3:true:false", "solo1:true:false"])

      // a scan running past the maximum duration is stopped and marked timeout
      const long = yield* s.submit(untrusted("192.0.2.3", { name: "long" }))
      const c3 = yield* claimSome(s, "w")
      yield* s.setPhase(c3.lease, "polling", { nessusScanId: 99 })
      yield* TestClock.adjust("23 hours")
      yield* s.heartbeat(c3.lease)
      assert.deepStrictEqual((yield* run()).timedOut, [])
      yield* TestClock.adjust("2 hours")
      const r = yield* run()
      assert.deepStrictEqual(r.timedOut.map((t) => [t.taskId, t.nessusScanId]), [[long.task.id, 99]])
      assert.deepStrictEqual(stopped, [long.task.id])
      const t = yield* s.get(long.task.id)
      assert.strictEqual(t.state, "timeout")
      assert.strictEqual(t.errors[0]?.reason, "timeout")
      assert.deepStrictEqual(yield* runningOf(s, "nessus"), { s1: 0, s2: 0, s3: 0 })
      assert.strictEqual((yield* s.dlqList()).total, 1)
      assert.strictEqual(yield* reasonOf(s.heartbeat(c3.lease)), "lease_lost")
    })))

  it.effect("reload keeps running accounting and applies new capacity", () => {
    const source = { text: baseConfig }
    return provide(
      Effect.gen(function*() {
        const s = yield* Scheduler.Scheduler
        for (let i = 0; i < 4; i++) yield* s.submit(untrusted(`192.0.2.${i + 1}`, { pool: "solo" }))
        yield* claimSome(s, "w", "solo")
        yield* claimSome(s, "w", "solo")
        assert.isTrue(Option.isNone(yield* s.claim({ worker: "w", pool: "solo" })))
        source.text = baseConfig.replace("url: \"http://127.0.0.1:8837\", username: u, password: p, max_concurrent_scans: 2", "url: \"http://127.0.0.1:8837\", username: u, password: p, max_concurrent_scans: 3")
        const c = yield* s.reload
        assert.strictEqual(c.pools.find((p) => p.name === "solo")?.scanners[0]?.maxConcurrentScans, 3)
        const status = (yield* s.scanners("solo"))[0]
        assert.strictEqual(status?.running, 2)
        assert.strictEqual(status?.available, 1)
        yield* claimSome(s, "w", "solo")
        assert.isTrue(Option.isNone(yield* s.claim({ worker: "w", pool: "solo" })))
        // a bad file is refused and the previous configuration stays
        source.text = "pools: {}"
        assert.strictEqual(yield* reasonOf(s.reload), "config_invalid")
        assert.strictEqual((yield* s.scanners("solo"))[0]?.maxConcurrentScans, 3)
      }),
      { source }
    )
  })

  it.effect("an open circuit or a disabled scanner offers no available capacity; positions use usable capacity only", () => {
    const source = { text: baseConfig }
    return provide(
      Effect.gen(function*() {
        const s = yield* Scheduler.Scheduler
        for (let i = 0; i < 5; i++) yield* s.reportScanner("s3", "failure")
        const q = yield* s.queueStats("nessus")
        assert.deepStrictEqual([q.capacity, q.usableCapacity, q.available], [6, 4, 4])
        assert.strictEqual((yield* s.scanners("nessus")).find((x) => x.instanceId === "s3")?.available, 0)
        yield* s.submit(untrusted("192.0.2.1"))
        yield* claimSome(s, "w")
        const q1 = yield* s.queueStats("nessus")
        assert.deepStrictEqual([q1.usableCapacity, q1.available], [4, 3])
        const nessus = (yield* s.pools).pools.find((p) => p.name === "nessus")
        assert.deepStrictEqual([nessus?.capacity, nessus?.usableCapacity, nessus?.available], [6, 4, 3])
        // a disabled scanner counts for nothing either
        source.text = baseConfig.replace(`url: "http://127.0.0.1:8835", username: u, password: p, max_concurrent_scans: 2`, `url: "http://127.0.0.1:8835", username: u, password: p, max_concurrent_scans: 2, enabled: false`)
        yield* s.reload
        const q2 = yield* s.queueStats("nessus")
        // only s1 is left: its two slots, minus the claimed scan if it runs there
        assert.deepStrictEqual([q2.capacity, q2.usableCapacity, q2.available], [4, 2, 2 - ((yield* runningOf(s, "nessus"))["s1"] ?? 0)])
        assert.strictEqual((yield* s.scanners("nessus")).find((x) => x.instanceId === "s2")?.available, 0)

        // the pool's only scanner is open: no usable capacity, no estimate
        for (let i = 0; i < 5; i++) yield* s.reportScanner("solo1", "failure")
        const a = (yield* s.submit(untrusted("192.0.2.1", { pool: "solo" }))).task.id
        const b = (yield* s.submit(untrusted("192.0.2.2", { pool: "solo" }))).task.id
        const pa = Option.getOrThrow(yield* s.position(a))
        assert.deepStrictEqual([pa.capacity, pa.estimatedWaitMs, pa.estimatedStartAt], [0, undefined, undefined])
        const qs = yield* s.queueStats("solo")
        assert.deepStrictEqual([qs.capacity, qs.usableCapacity, qs.available], [2, 0, 0])
        // cooldown over: half-open admits one probe, so one usable slot
        yield* TestClock.adjust("5 minutes")
        const pa2 = Option.getOrThrow(yield* s.position(a))
        const pb2 = Option.getOrThrow(yield* s.position(b))
        assert.deepStrictEqual([pa2.capacity, pa2.estimatedWaitMs], [1, 0])
        assert.deepStrictEqual([pb2.capacity, pb2.estimatedWaitMs], [1, 30 * 60_000])
        assert.deepStrictEqual((yield* s.scanners("solo")).map((x) => [x.circuit.state, x.available]), [["half_open", 1]])
        // the probe runs: nothing more is admitted until it reports
        yield* claimSome(s, "w", "solo")
        assert.deepStrictEqual((yield* s.scanners("solo")).map((x) => [x.running, x.available]), [[1, 0]])
        const qs2 = yield* s.queueStats("solo")
        assert.deepStrictEqual([qs2.usableCapacity, qs2.available], [0, 0])
      }),
      { source }
    )
  })

  it.effect("reload requests reach the listener, which reloads; a bad file is refused naming file, line and key, and the old configuration stays", () => {
    const source = { text: baseConfig }
    const log = logCapture()
    const badLine = baseConfig.split("\n").findIndex((l) => l.includes("max_targets: 1024")) + 1
    return Effect.gen(function*() {
      const s = yield* Scheduler.Scheduler
      source.text = baseConfig.replace(`8837", username: u, password: p, max_concurrent_scans: 2`, `8837", username: u, password: p, max_concurrent_scans: 3`)
      const sent = yield* s.requestReload({ requestedBy: "contract test" })
      assert.strictEqual(sent.listeners, 1)
      assert.strictEqual(sent.request.requestedBy, "contract test")
      const ok = yield* log.next((e) => e.annotations["event"] === "config_reloaded")
      assert.strictEqual(ok.level, "Info")
      assert.include(ok.message, sent.request.id)
      assert.strictEqual((yield* s.scanners("solo"))[0]?.maxConcurrentScans, 3)

      source.text = baseConfig.replace("max_targets: 1024", "max_targets: lots")
      const again = yield* s.requestReload()
      const bad = yield* log.next((e) => e.annotations["event"] === "config_reload_failed")
      assert.strictEqual(bad.level, "Error")
      assert.include(bad.message, again.request.id)
      assert.include(bad.message, `test.yaml:${badLine}: pools.nessus.max_targets`)
      assert.include(bad.message, "previous configuration stays in force")
      assert.deepInclude(bad.annotations, { file: "test.yaml", line: badLine, key: "pools.nessus.max_targets", reason: "config_invalid" })
      assert.strictEqual((yield* s.scanners("solo"))[0]?.maxConcurrentScans, 3, "the previous configuration stays")
      assert.strictEqual((yield* s.queueStats("nessus")).capacity, 6)
    }).pipe(
      Effect.provide(Scheduler.layerReloadOnRequest.pipe(Layer.provideMerge(harness(backend, { source })))),
      Effect.provide(log.layer)
    )
  })

  it.effect("reload keeps running accounting: counts, leases and circuits survive; a removed scanner keeps its scans; a lowered capacity starts nothing until below", () => {
    const source = { text: baseConfig }
    const s3Line = baseConfig.split("\n").find((l) => l.includes("instance_id: s3")) as string
    return provide(
      Effect.gen(function*() {
        const s = yield* Scheduler.Scheduler
        for (const inst of ["s2", "s2", "s3", "s3"]) yield* s.submit(untrusted("192.0.2.1", { instance: inst }))
        const claims = [yield* claimSome(s, "w"), yield* claimSome(s, "w"), yield* claimSome(s, "w"), yield* claimSome(s, "w")]
        assert.deepStrictEqual(claims.map((c) => c.lease.instanceId).sort(), ["s2", "s2", "s3", "s3"])
        for (let i = 0; i < 5; i++) yield* s.reportScanner("s1", "failure")

        // s3 removed, s2 lowered to 1 (below its 2 running scans)
        source.text = baseConfig.replace(`${s3Line}\n`, "").replace(`8835", username: u, password: p, max_concurrent_scans: 2`, `8835", username: u, password: p, max_concurrent_scans: 1`)
        const c = yield* s.reload
        assert.deepStrictEqual(c.pools.find((p) => p.name === "nessus")?.scanners.map((x) => x.instanceId), ["s1", "s2"])
        assert.deepStrictEqual(yield* runningOf(s, "nessus"), { s1: 0, s2: 2 })
        const s2 = (yield* s.scanners("nessus")).find((x) => x.instanceId === "s2")
        assert.deepStrictEqual([s2?.running, s2?.maxConcurrentScans, s2?.available, s2?.utilisation], [2, 1, 0, 2])
        assert.strictEqual((yield* s.scanners("nessus")).find((x) => x.instanceId === "s1")?.circuit.state, "open", "circuits survive")
        assert.strictEqual((yield* s.queueStats("nessus")).running, 4, "the removed scanner's scans still count as running")
        // every lease still holds, on the removed scanner too
        const leases = yield* Effect.forEach(claims, (cl) => s.heartbeat(cl.lease))
        const byInstance = (inst: string) => leases.filter((l) => l.instanceId === inst)

        yield* s.submit(untrusted("192.0.2.9", { name: "next" }))
        assert.isTrue(Option.isNone(yield* s.claim({ worker: "w" })), "s1 open, s2 over its new capacity, s3 gone")
        yield* s.complete(byInstance("s2")[0] as Scheduler.Lease)
        assert.isTrue(Option.isNone(yield* s.claim({ worker: "w" })), "s2 runs 1 of 1: still no new claim")
        yield* s.complete(byInstance("s2")[1] as Scheduler.Lease)
        const next = yield* claimSome(s, "w")
        assert.strictEqual(next.lease.instanceId, "s2")
        assert.isTrue(Option.isNone(yield* s.claim({ worker: "w" })))

        // the removed scanner's scans finish normally and give their slots back
        yield* s.complete(byInstance("s3")[0] as Scheduler.Lease)
        // s3 comes back: its one remaining scan is still accounted for
        source.text = baseConfig
        yield* s.reload
        const s3 = (yield* s.scanners("nessus")).find((x) => x.instanceId === "s3")
        assert.deepStrictEqual([s3?.running, s3?.available], [1, 1])
        yield* s.complete(byInstance("s3")[1] as Scheduler.Lease)
        assert.deepStrictEqual(yield* runningOf(s, "nessus"), { s1: 0, s2: 1, s3: 0 })
      }),
      { source }
    )
  })

  it.effect("pools and queue status report live figures", () =>
    provide(Effect.gen(function*() {
      const s = yield* Scheduler.Scheduler
      for (let i = 0; i < 3; i++) yield* s.submit(untrusted(`192.0.2.${i + 1}`))
      yield* s.submit(untrusted("192.0.2.9", { instance: "s2" }))
      yield* claimSome(s, "w")
      const q = yield* s.queueStats("nessus")
      assert.strictEqual(q.queued, 3)
      assert.strictEqual(q.bound, 1)
      assert.strictEqual(q.running, 1)
      assert.strictEqual(q.capacity, 6)
      assert.strictEqual(q.usableCapacity, 6)
      assert.strictEqual(q.available, 5)
      assert.strictEqual(q.next.length, 2)
      const { defaultPool, pools } = yield* s.pools
      assert.strictEqual(defaultPool, "nessus")
      assert.deepStrictEqual(pools.map((p) => [p.name, p.capacity, p.running, p.queued]), [["nessus", 6, 1, 3], ["solo", 2, 0, 0]])
      const sc = (yield* s.scanners()).find((x) => x.instanceId === "s2")
      assert.strictEqual(sc?.queued, 1)
      assert.strictEqual(sc?.circuit.state, "closed")
      assert.notInclude(JSON.stringify(yield* s.scanners()), "password")
    })))
})
