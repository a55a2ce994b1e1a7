/**
 * NessusError: messages say what failed and what to do; transient marking; schedules of the client
 * (read retries, export polling) measured with TestClock.
 */
import { assert, describe, it } from "@effect/vitest"
import { Clock, Duration, Effect, Fiber, Ref, Schedule } from "effect"
import { TestClock } from "effect/testing"
import * as NessusClient from "../src/NessusClient.js"
import { NessusError } from "../src/NessusError.js"
import * as NessusErrors from "../src/NessusError.js"

describe("NessusError", () => {
  it("message names the operation, status, Nessus's text and advice", () => {
    const error = new NessusError({
      reason: "ScanApiUnavailable",
      operation: "scans.create",
      request: "POST /scans",
      status: 412,
      nessusMessage: "API is not available"
    })
    assert.include(error.message, "scans.create")
    assert.include(error.message, "HTTP 412")
    assert.include(error.message, "API is not available")
    assert.include(error.message, "web-ui")
    assert.isFalse(error.isTransient)
  })

  it("transient: 5xx, 429, timeouts, transport; not 4xx, decode or certificate failures", () => {
    const make = (reason: NessusErrors.Reason, extra: { status?: number; code?: string } = {}) =>
      new NessusError({ reason, operation: "op", ...extra })
    assert.isTrue(make("ServerError", { status: 503 }).isTransient)
    assert.isTrue(make("RateLimited", { status: 429 }).isTransient)
    assert.isTrue(make("Timeout").isTransient)
    assert.isTrue(make("Transport", { code: "ECONNRESET" }).isTransient)
    assert.isFalse(make("Transport", { code: "DEPTH_ZERO_SELF_SIGNED_CERT" }).isTransient)
    assert.isFalse(make("Unauthorized", { status: 401 }).isTransient)
    assert.isFalse(make("NotFound", { status: 404 }).isTransient)
    assert.isFalse(make("Conflict", { status: 409 }).isTransient)
    assert.isFalse(make("Decode").isTransient)
    assert.isTrue(NessusErrors.isTransient(make("Timeout")))
    assert.isFalse(NessusErrors.isTransient(new Error("x")))
    assert.isTrue(NessusErrors.hasReason(make("Forbidden"), "Forbidden"))
    assert.include(make("Transport", { code: "DEPTH_ZERO_SELF_SIGNED_CERT" }).message, "fingerprint256")
    // the advice reaches operators too (DLQ entries): it names the scanners.yaml keys, not only library options
    assert.include(make("Transport", { code: "DEPTH_ZERO_SELF_SIGNED_CERT" }).message, "scanners.yaml: tls.ca_file / tls.fingerprint")
  })
})

describe("client schedules (TestClock)", () => {
  it.effect("read retries back off exponentially, capped, and stop after `times`", () =>
    Effect.gen(function*() {
      const attempts = yield* Ref.make<Array<number>>([])
      const failing = Effect.gen(function*() {
        const now = yield* Clock.currentTimeMillis
        yield* Ref.update(attempts, (a) => [...a, now])
        return yield* new NessusError({ reason: "ServerError", operation: "op", status: 503 })
      })
      const schedule = NessusClient.readRetrySchedule({
        times: 4,
        base: Duration.seconds(1),
        maxDelay: Duration.seconds(3)
      })
      const fiber = yield* Effect.forkChild(Effect.retry(failing, schedule))
      yield* TestClock.adjust("1 minute")
      const exit = yield* Fiber.await(fiber)
      assert.strictEqual(exit._tag, "Failure")
      const times = yield* Ref.get(attempts)
      assert.strictEqual(times.length, 5)
      const gaps = times.slice(1).map((t, i) => t - times[i]!)
      // exponential 1 s, 2 s, 4 s→3 s cap, 8 s→3 s cap, each jittered by at most ±20 %
      assert.isTrue(gaps[0]! >= 800 && gaps[0]! <= 1200, `gap0 ${gaps[0]}`)
      assert.isTrue(gaps[1]! >= 1600 && gaps[1]! <= 2400, `gap1 ${gaps[1]}`)
      assert.isTrue(gaps[2]! <= 3000.5 && gaps[3]! <= 3000.5, `capped ${gaps}`)
    }))

  it.effect("a 429's Retry-After raises the retry delay", () =>
    Effect.gen(function*() {
      const attempts = yield* Ref.make<Array<number>>([])
      const failing = Effect.gen(function*() {
        yield* Ref.update(attempts, (a) => [...a, 0])
        return yield* new NessusError({ reason: "RateLimited", operation: "op", status: 429, retryAfterMillis: 30_000 })
      })
      const schedule = NessusClient.readRetrySchedule({ times: 1, base: Duration.millis(100), maxDelay: Duration.seconds(1) })
      const fiber = yield* Effect.forkChild(Effect.retry(failing, schedule))
      yield* TestClock.adjust("29 seconds")
      assert.strictEqual((yield* Ref.get(attempts)).length, 1)
      yield* TestClock.adjust("2 seconds")
      yield* Fiber.await(fiber)
      assert.strictEqual((yield* Ref.get(attempts)).length, 2)
    }))

  it.effect("export polling backs off ×1.5 up to its cap", () =>
    Effect.gen(function*() {
      const polls = yield* Ref.make<Array<number>>([])
      const poll = Effect.flatMap(Clock.currentTimeMillis, (now) => Ref.update(polls, (p) => [...p, now]))
      const schedule = NessusClient.exportPollSchedule({ initial: Duration.seconds(1), max: Duration.seconds(2) }).pipe(
        Schedule.upTo({ duration: "10 seconds" })
      )
      const fiber = yield* Effect.forkChild(Effect.repeat(poll, schedule))
      yield* TestClock.adjust("1 minute")
      yield* Fiber.await(fiber)
      const times = yield* Ref.get(polls)
      const gaps = times.slice(1).map((t, i) => t - times[i]!)
      assert.deepStrictEqual(gaps.slice(0, 4), [1000, 1500, 2000, 2000])
      assert.isTrue(times[times.length - 1]! <= 12_000)
    }))
})
