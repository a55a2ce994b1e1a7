/**
 * Connection errors of the ioredis client: routed to the Effect logger (deduplicated, without the URL's
 * password), never printed to the console by ioredis, and surfaced to callers as `backend_unavailable`.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit, Layer, Logger, Scope } from "effect"
import { TestClock } from "effect/testing"
import { Redis as IORedis } from "ioredis"
import { afterEach, beforeEach, vi } from "vitest"
import { startRedisServer } from "../../../config/testing/redis.js"
import * as Redis from "../src/Redis.js"
import * as SchedulerError from "../src/SchedulerError.js"

const CANARY = "canaryPw-7f3a9c"

/** Every console write and raw stdout/stderr write made while a test runs. */
const printed: Array<string> = []
beforeEach(() => {
  printed.length = 0
  for (const method of ["error", "warn", "log", "info", "debug"] as const) {
    vi.spyOn(console, method).mockImplementation((...args: Array<unknown>) => {
      printed.push(args.map(String).join(" "))
    })
  }
  for (const stream of [process.stdout, process.stderr]) {
    const original = stream.write.bind(stream)
    vi.spyOn(stream, "write").mockImplementation(((chunk: unknown, ...rest: Array<unknown>) => {
      const text = String(chunk)
      // vitest's own reporter output is not ours to judge.
      if (text.includes("ioredis") || text.includes("ECONNREFUSED") || text.includes(CANARY)) printed.push(text)
      return (original as (...a: Array<unknown>) => boolean)(chunk, ...rest)
    }) as typeof stream.write)
  }
})
afterEach(() => {
  vi.restoreAllMocks()
})

const capture = () => {
  const lines: Array<string> = []
  const logger = Logger.make((o) => {
    lines.push(`${o.logLevel}: ${Array.isArray(o.message) ? o.message.join(" ") : String(o.message)}`)
  })
  return { lines, layer: Logger.layer([logger]) }
}

const server = Effect.acquireRelease(Effect.promise(() => startRedisServer()), (s) => Effect.promise(() => s.dispose()))

describe("Redis connection errors", () => {
  it.live("Redis down at start: the layer fails with backend_unavailable, logs once, prints nothing", () =>
    Effect.gen(function*() {
      const s = yield* server
      yield* Effect.promise(() => s.stop())
      const log = capture()
      const url = `redis://:${CANARY}@127.0.0.1:${s.port}`
      const exit = yield* Effect.exit(Effect.scoped(Layer.build(Redis.layer({ url }))).pipe(Effect.provide(log.layer)))
      assert.isTrue(Exit.isFailure(exit))
      if (Exit.isFailure(exit)) {
        const error = exit.cause.reasons.find((r) => r._tag === "Fail")
        assert.isTrue(error !== undefined && SchedulerError.isSchedulerError(error.error))
        if (error !== undefined && SchedulerError.isSchedulerError(error.error)) {
          assert.strictEqual(error.error.reason, "backend_unavailable")
          assert.include(error.error.message, "ECONNREFUSED")
          assert.notInclude(error.error.message, CANARY)
        }
      }
      // give a stray reconnection attempt the time to (not) happen
      yield* Effect.promise(() => new Promise((r) => setTimeout(r, 300)))
      assert.deepStrictEqual(printed, [])
      assert.isTrue(log.lines.some((l) => l.startsWith("Warn") && l.includes("ECONNREFUSED")), log.lines.join("\n"))
      assert.notInclude(log.lines.join("\n"), CANARY)
    }))

  it.live("Redis stops under a connected client: calls fail with backend_unavailable, repeats are not logged, reconnection is", () =>
    Effect.gen(function*() {
      const s = yield* server
      // A password-protected server, so the URL really carries a password.
      yield* Effect.promise(async () => {
        const admin = new IORedis(s.url)
        await admin.config("SET", "requirepass", CANARY)
        admin.disconnect()
      })
      const log = capture()
      const url = `redis://:${CANARY}@127.0.0.1:${s.port}`
      yield* Effect.gen(function*() {
        const redis = yield* Redis.Redis
        assert.strictEqual(yield* redis.use("PING", (c) => c.ping()), "PONG")
        yield* Effect.promise(() => s.stop())
        const error = yield* Effect.flip(redis.use("GET", (c) => c.get("k")))
        assert.strictEqual(error.reason, "backend_unavailable")
        assert.notInclude(error.message, CANARY)
        const scriptError = yield* Effect.flip(redis.run(Redis.script("one", "return 1"), ["k"], []))
        assert.strictEqual(scriptError.reason, "backend_unavailable")
        // the server comes back (its password is gone with the restart: a new one is set)
        yield* Effect.promise(() => s.restart())
        yield* Effect.promise(async () => {
          const admin = new IORedis(s.url)
          await admin.config("SET", "requirepass", CANARY)
          admin.disconnect()
        })
        yield* Effect.promise(() => redis.client.ping().catch(() => redis.client.ping()))
      }).pipe(Effect.provide(Redis.layer({ url, options: { maxRetriesPerRequest: 1 } })), Effect.provide(log.layer))
      assert.deepStrictEqual(printed, [])
      const warnings = log.lines.filter((l) => l.startsWith("Warn"))
      assert.isAtLeast(warnings.length, 1)
      assert.isAtMost(warnings.length, 2, "a run of identical reconnection errors is logged once:\n" + log.lines.join("\n"))
      assert.isTrue(log.lines.some((l) => l.startsWith("Info") && l.includes("restored")), log.lines.join("\n"))
      assert.notInclude(log.lines.join("\n"), CANARY)
    }), { timeout: 20_000 })

  it.effect("identical errors within the quiet period are counted and reported with the next logged one", () =>
    Effect.gen(function*() {
      const log = capture()
      const client = new IORedis({ lazyConnect: true })
      const scope = yield* Scope.make()
      yield* Redis.watchErrors(client, { label: "test", secrets: ["s3cret"] }).pipe(Scope.provide(scope), Effect.provide(log.layer))
      const refused = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:1 (password s3cret)"), { code: "ECONNREFUSED" })
      for (let i = 0; i < 50; i++) client.emit("error", refused)
      yield* Effect.yieldNow
      yield* TestClock.adjust("61 seconds")
      client.emit("error", refused)
      yield* TestClock.adjust("1 second")
      client.emit("ready")
      yield* TestClock.adjust("1 second")
      yield* Scope.close(scope, Exit.void)
      client.emit("error", refused)
      yield* TestClock.adjust("1 second")
      assert.deepStrictEqual(log.lines.map((l) => l.split(":")[0]), ["Warn", "Warn", "Info"], log.lines.join("\n"))
      assert.notInclude(log.lines[0] ?? "", "repeated")
      assert.include(log.lines[1] ?? "", "(the previous error repeated 49 more times)")
      assert.include(log.lines[2] ?? "", "restored after 51 connection errors")
      assert.notInclude(log.lines.join("\n"), "s3cret")
      assert.deepStrictEqual(printed, [])
      client.disconnect()
    }))
})
