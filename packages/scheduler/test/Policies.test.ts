/**
 * Retry schedules, the circuit state machine and credential sealing.
 */
import { assert, describe, it } from "@effect/vitest"
import { Duration, Effect, Fiber, Option, Redacted, Ref } from "effect"
import { TestClock } from "effect/testing"
import * as CircuitBreaker from "../src/CircuitBreaker.js"
import * as Credentials from "../src/Credentials.js"
import * as Retry from "../src/Retry.js"
import * as ScannerConfig from "../src/ScannerConfig.js"
import * as Task from "../src/Task.js"
import { baseConfig, parseConfig, testKey } from "./harness.js"

describe("Retry", () => {
  it.effect("defaults to 3 retries after 1 s, 2 s and 4 s, each jittered by at most 20 %", () =>
    Effect.gen(function*() {
      for (let round = 0; round < 20; round++) {
        for (const [n, base] of [[1, 1000], [2, 2000], [3, 4000]] as const) {
          const d = yield* Retry.delayFor(Retry.defaultPolicy, n)
          assert.isTrue(Option.isSome(d))
          const ms = Option.isSome(d) ? Duration.toMillis(d.value) : 0
          assert.isAtLeast(ms, base * 0.8)
          assert.isAtMost(ms, base * 1.2)
        }
      }
      assert.isTrue(Option.isNone(yield* Retry.delayFor(Retry.defaultPolicy, 4)))
      const exact = yield* Retry.delayFor({ retries: 5, base: "100 millis", factor: 3, jitter: false }, 4)
      assert.deepStrictEqual(Option.map(exact, Duration.toMillis), Option.some(2700))
    }))

  it("classifies failures", () => {
    assert.deepStrictEqual(Retry.failureReasons.filter(Retry.isTransient), ["network", "http_5xx", "rate_limited", "timeout", "scanner_down", "scanner_busy"])
    assert.isFalse(Retry.isTransient("auth_rejected"))
    assert.isFalse(Retry.isTransient("api_unavailable"))
    assert.isFalse(Retry.isTransient("authentication_failed"))
    assert.isTrue(Retry.isScannerFailure("scanner_down"))
    assert.isFalse(Retry.isScannerFailure("rate_limited"))
    assert.isFalse(Retry.isScannerFailure("invalid_targets"))
  })

  it.effect("retryTransient retries transient errors on the schedule and returns permanent ones at once", () =>
    Effect.gen(function*() {
      const calls = yield* Ref.make(0)
      const flaky = Effect.flatMap(Ref.updateAndGet(calls, (n) => n + 1), (n) => (n < 3 ? Effect.fail(503) : Effect.succeed("ok")))
      const fiber = yield* flaky.pipe(
        Retry.retryTransient(Retry.defaultPolicy, (status: number) => (status >= 500 ? "http_5xx" : "auth_rejected")),
        Effect.forkChild
      )
      yield* Effect.yieldNow
      yield* TestClock.adjust("790 millis")
      assert.strictEqual(yield* Ref.get(calls), 1, "the first retry waits at least 0.8 s")
      yield* TestClock.adjust("420 millis")
      assert.strictEqual(yield* Ref.get(calls), 2, "and at most 1.2 s")
      yield* TestClock.adjust("10 seconds")
      assert.strictEqual(yield* Fiber.join(fiber), "ok")
      assert.strictEqual(yield* Ref.get(calls), 3)
      const permanent = yield* Ref.make(0)
      const e = yield* Effect.flip(
        Effect.flatMap(Ref.update(permanent, (n) => n + 1), () => Effect.fail(401)).pipe(
          Retry.retryTransient(Retry.defaultPolicy, (status: number) => (status >= 500 ? "http_5xx" : "auth_rejected"))
        )
      )
      assert.strictEqual(e, 401)
      assert.strictEqual(yield* Ref.get(permanent), 1)
    }))
})

describe("CircuitBreaker (state machine)", () => {
  const policy: CircuitBreaker.Policy = { failureThreshold: 2, cooldown: 1000, probeTimeout: 500 }
  it("opens, half-opens after the cooldown, admits one probe whose outcome alone decides", () => {
    let c = CircuitBreaker.initial("s1")
    c = CircuitBreaker.record(c, { outcome: "failure", now: 0 }, policy).circuit
    assert.strictEqual(c.state, "closed")
    c = CircuitBreaker.record(c, { outcome: "success", now: 1 }, policy).circuit
    assert.strictEqual(c.consecutiveFailures, 0, "a success resets the count")
    c = CircuitBreaker.record(c, { outcome: "failure", now: 2 }, policy).circuit
    const opened = CircuitBreaker.record(c, { outcome: "failure", now: 3 }, policy)
    assert.strictEqual(opened.transition?.to, "open")
    c = opened.circuit
    assert.strictEqual(CircuitBreaker.admits(c, 1002), "no")
    assert.strictEqual(CircuitBreaker.effectiveState(c, 1003), "half_open")
    assert.strictEqual(CircuitBreaker.admits(c, 1003), "probe")
    c = CircuitBreaker.startProbe(c, "t1", 1003, policy).circuit
    assert.strictEqual(CircuitBreaker.admits(c, 1004), "no")
    assert.strictEqual(CircuitBreaker.record(c, { outcome: "success", now: 1005, taskId: "other" }, policy).circuit.state, "half_open")
    assert.strictEqual(CircuitBreaker.admits(c, 1503), "probe", "a probe that never reports frees the slot")
    const closed = CircuitBreaker.record(c, { outcome: "success", now: 1006, taskId: "t1" }, policy)
    assert.deepStrictEqual([closed.transition?.from, closed.transition?.to], ["half_open", "closed"])
    assert.strictEqual(CircuitBreaker.reset(opened.circuit, 5).transition?.to, "closed")
    assert.strictEqual(CircuitBreaker.abandonProbe(c, "t1").probeTaskId, undefined)
  })
})

describe("Credentials", () => {
  const config = ScannerConfig.layerValue(parseConfig(baseConfig))
  const inline: Task.InlineCredential = {
    type: "ssh",
    username: "root",
    password: Redacted.make("hunter2"),
    elevatePrivilegesWith: "sudo",
    escalationPassword: Redacted.make("sudo-pw")
  }

  it.effect("seals inline credentials with AES-256-GCM bound to the task id", () =>
    Effect.gen(function*() {
      const c = yield* Credentials.make({ key: Option.some(testKey) })
      const sealed = yield* c.seal(inline, "t_AAAAAAAAAAAAAAAAAAAAAA")
      assert.match(sealed, /^v1\.[\w-]+\.[\w-]+\.[\w-]+$/)
      assert.notInclude(sealed, "hunter2")
      const opened = yield* c.open(sealed, "t_AAAAAAAAAAAAAAAAAAAAAA")
      assert.strictEqual(Redacted.value(opened.password), "hunter2")
      assert.strictEqual(Redacted.value(opened.escalationPassword as Redacted.Redacted<string>), "sudo-pw")
      assert.strictEqual(opened.elevatePrivilegesWith, "sudo")
      assert.notStrictEqual(yield* c.seal(inline, "t_AAAAAAAAAAAAAAAAAAAAAA"), sealed, "a fresh IV every time")
      assert.strictEqual((yield* Effect.flip(c.open(sealed, "t_BBBBBBBBBBBBBBBBBBBBBB"))).reason, "credentials_invalid")
      const tampered = sealed.slice(0, -3) + (sealed.endsWith("A") ? "BBB" : "AAA")
      assert.strictEqual((yield* Effect.flip(c.open(tampered, "t_AAAAAAAAAAAAAAAAAAAAAA"))).reason, "credentials_invalid")
      const other = yield* Credentials.make({ key: Option.some(Redacted.make(Credentials.generateKey())) })
      const e = yield* Effect.flip(other.open(sealed, "t_AAAAAAAAAAAAAAAAAAAAAA"))
      assert.include(e.message, "CREDENTIALS_KEY")
    }).pipe(Effect.provide(config)))

  it.effect("accepts hex or base64 keys of 32 bytes and refuses others", () =>
    Effect.gen(function*() {
      const hex = yield* Credentials.make({ key: Option.some(Redacted.make("ab".repeat(32))) })
      assert.isTrue(hex.inlineEnabled)
      const short = yield* Effect.flip(Credentials.make({ key: Option.some(Redacted.make("c2hvcnQ=")) }))
      assert.strictEqual(short.reason, "invalid_input")
      assert.include(short.message, "openssl rand -base64 32")
      const none = yield* Credentials.make({ key: Option.none() })
      assert.isFalse(none.inlineEnabled)
      assert.strictEqual((yield* Effect.flip(none.seal(inline, "t_AAAAAAAAAAAAAAAAAAAAAA"))).reason, "inline_credentials_disabled")
      const named = yield* none.named("linux-admin")
      assert.strictEqual(named.source, "named")
      assert.strictEqual((yield* Effect.flip(none.named("nope"))).reason, "unknown_credential")
    }).pipe(Effect.provide(config)))
})

describe("Task", () => {
  it("allows only the documented transitions", () => {
    assert.isTrue(Task.canTransition("queued", "running"))
    assert.isTrue(Task.canTransition("running", "queued"))
    assert.isTrue(Task.canTransition("failed", "queued"))
    assert.isFalse(Task.canTransition("completed", "queued"))
    assert.isFalse(Task.canTransition("cancelled", "running"))
    assert.isFalse(Task.canTransition("queued", "completed"))
    assert.isTrue(Task.canAdvancePhase("launched", "polling"))
    assert.isFalse(Task.canAdvancePhase("polling", "launched"))
  })

  it("recognises its own scan names only", () => {
    const name = Task.scanName("t_0123456789abcdefghijkl", 3)
    assert.isTrue(Task.isOwnScanName(name))
    assert.strictEqual(Task.taskIdOfScanName(name), "t_0123456789abcdefghijkl")
    assert.isFalse(Task.isOwnScanName("Weekly network scan"))
    assert.isFalse(Task.isOwnScanName("nmcp-t_short-a1"))
  })
})
