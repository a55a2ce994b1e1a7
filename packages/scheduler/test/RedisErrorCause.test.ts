/**
 * The cause kept on a `backend_unavailable` error: ioredis attaches the failed command with its
 * arguments to a reply error (AUTH's password, task data); none of that may survive into the error that
 * callers log or serialise.
 */
import { assert, describe, it } from "@effect/vitest"
import { Cause, Context, Effect, Exit, Layer, Option } from "effect"
import { Redis as IORedis } from "ioredis"
import { inspect } from "node:util"
import { startRedisServer } from "../../../config/testing/redis.js"
import * as Redis from "../src/Redis.js"
import * as SchedulerError from "../src/SchedulerError.js"

const CANARY = "canaryArg-51d0e2"

const leaks = (value: unknown): boolean => inspect(value, { depth: 20, showHidden: true }).includes(CANARY) || JSON.stringify(value).includes(CANARY)

describe("backend_unavailable errors carry no command arguments", () => {
  it.live("a refused AUTH: the password is in neither the error nor its cause", () =>
    Effect.gen(function*() {
      const server = yield* Effect.acquireRelease(Effect.promise(() => startRedisServer()), (s) => Effect.promise(() => s.dispose()))
      const admin = new IORedis(server.url, { lazyConnect: true })
      yield* Effect.promise(async () => {
        await admin.connect()
        await admin.config("SET", "requirepass", "the-right-one")
        admin.disconnect()
      })
      const url = `redis://:${CANARY}@127.0.0.1:${server.port}`
      const exit = yield* Effect.exit(Effect.scoped(Layer.build(Redis.layer({ url, options: { maxRetriesPerRequest: 0, retryStrategy: () => null } }))))
      assert.isTrue(Exit.isFailure(exit))
      const error = Exit.isFailure(exit) ? Cause.findErrorOption(exit.cause) : Option.none()
      assert.isTrue(Option.isSome(error) && SchedulerError.isSchedulerError(error.value) && error.value.reason === "backend_unavailable")
      assert.match(Option.getOrThrow(error).message, /WRONGPASS/)
      assert.isFalse(leaks(exit), "the password travelled with the error")
    }).pipe(Effect.scoped))

  it.live("a failed command: its arguments are not kept, its message and code are", () =>
    Effect.gen(function*() {
      const server = yield* Effect.acquireRelease(Effect.promise(() => startRedisServer()), (s) => Effect.promise(() => s.dispose()))
      const redis = Context.get(yield* Layer.build(Redis.layer({ url: server.url })), Redis.Redis)
      yield* redis.use("SET", (c) => c.set("k", "a string"))
      const error = yield* Effect.flip(redis.use("HSET", (c) => c.hset("k", "field", CANARY)))
      assert.strictEqual(error.reason, "backend_unavailable")
      assert.match(error.message, /WRONGTYPE/)
      assert.match(String((error.cause as { readonly name?: unknown }).name), /ReplyError/)
      assert.isFalse(leaks(error), "the command's argument travelled with the error")
    }).pipe(Effect.scoped))
})
