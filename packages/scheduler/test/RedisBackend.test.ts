/**
 * What only the Redis backend can show: durability across a restart (AOF), several connections (hosts)
 * sharing capacity, the eviction-policy warning, script reload after a flush, and the key layout.
 */
import { assert, describe, it } from "@effect/vitest"
import { Context, Effect, Exit, Layer, Logger, Option, Scope } from "effect"
import { startRedisServer } from "../../../config/testing/redis.js"
import * as Redis from "../src/Redis.js"
import * as Scheduler from "../src/Scheduler.js"
import { baseConfig, harness, logCapture, redisUrl, uniquePrefix } from "./harness.js"

const redisBackend = (url: string, prefix: string) => ({
  name: "redis" as const,
  layer: (options: Scheduler.Options) =>
    Scheduler.layerRedis({ ...options, prefix }).pipe(Layer.provide(Redis.layer({ url, options: { maxRetriesPerRequest: 50 } })))
})

const capture = () => {
  const lines: Array<string> = []
  const logger = Logger.make((o) => {
    lines.push(`${o.logLevel}: ${Array.isArray(o.message) ? o.message.join(" ") : String(o.message)}`)
  })
  return { lines, layer: Logger.layer([logger]) }
}

describe("Redis backend", () => {
  it.live("a Redis restart with AOF (appendfsync always) loses no acknowledged submission", () =>
    Effect.gen(function*() {
      const server = yield* Effect.acquireRelease(
        Effect.promise(() => startRedisServer({ appendonly: true, appendfsync: "always" })),
        (s) => Effect.promise(() => s.dispose())
      )
      const backend = redisBackend(server.url, uniquePrefix())
      const acked = yield* Effect.gen(function*() {
        const s = yield* Scheduler.Scheduler
        const ids: Array<string> = []
        let killed = false
        yield* Effect.forEach(
          Array.from({ length: 300 }, (_, i) => i),
          (i) =>
            Effect.gen(function*() {
              if (i === 150 && !killed) {
                killed = true
                yield* Effect.promise(() => server.restart(true))
              }
              const exit = yield* Effect.exit(s.submit({ scanType: "untrusted", targets: `192.0.2.${(i % 250) + 1}`, name: `n${i}` }))
              if (Exit.isSuccess(exit)) ids.push(exit.value.task.id)
            }),
          { concurrency: 16 }
        )
        return ids
      }).pipe(Effect.provide(harness(backend)))
      assert.isAbove(acked.length, 100)
      // a fresh connection after the crash sees every acknowledged task, still queued
      yield* Effect.gen(function*() {
        const s = yield* Scheduler.Scheduler
        for (const id of acked) assert.strictEqual((yield* s.get(id)).state, "queued")
        assert.isAtLeast((yield* s.queueStats()).queued, acked.length)
        const claim = yield* s.claim({ worker: "after-restart" })
        assert.isTrue(Option.isSome(claim))
      }).pipe(Effect.provide(harness(backend)))
    }), { timeout: 60_000 })

  it.effect("20 consumers on 4 separate connections (hosts) never exceed per-scanner capacity", () =>
    Effect.gen(function*() {
      const prefix = uniquePrefix()
      const hosts = yield* Effect.forEach([0, 1, 2, 3], () =>
        Effect.map(Layer.build(harness(redisBackend(redisUrl(), prefix))), (ctx) => Context.get(ctx, Scheduler.Scheduler)))
      const total = 40
      for (let i = 0; i < total; i++) yield* (hosts[0] as Scheduler.Service).submit({ scanType: "untrusted", targets: "192.0.2.1", name: `t${i}` })
      const held = new Map<string, number>()
      const violations: Array<string> = []
      let done = 0
      const consumer = (n: number) =>
        Effect.gen(function*() {
          const s = hosts[n % 4] as Scheduler.Service
          for (let spins = 0; spins < 5000 && done < total; spins++) {
            const c = yield* s.claim({ worker: `h${n % 4}-c${n}` })
            if (Option.isNone(c)) {
              yield* Effect.yieldNow
              continue
            }
            const inst = c.value.lease.instanceId
            held.set(inst, (held.get(inst) ?? 0) + 1)
            if ((held.get(inst) ?? 0) > 2) violations.push(`${inst}: ${held.get(inst)}`)
            for (const sc of yield* s.scanners("nessus")) if (sc.running > sc.maxConcurrentScans) violations.push(`${sc.instanceId} running ${sc.running}`)
            held.set(inst, (held.get(inst) ?? 0) - 1)
            yield* s.complete(c.value.lease)
            done++
          }
        })
      yield* Effect.all(Array.from({ length: 20 }, (_, i) => consumer(i)), { concurrency: "unbounded" })
      assert.deepStrictEqual(violations, [])
      assert.strictEqual(done, total)
    }))

  it.effect("warns loudly at start unless maxmemory-policy is noeviction", () =>
    Effect.gen(function*() {
      const server = yield* Effect.acquireRelease(
        Effect.promise(() => startRedisServer({ maxmemoryPolicy: "allkeys-lru" })),
        (s) => Effect.promise(() => s.dispose())
      )
      const bad = capture()
      yield* Effect.provide(Effect.asVoid(Scheduler.Scheduler), harness(redisBackend(server.url, uniquePrefix()))).pipe(Effect.provide(bad.layer))
      assert.isTrue(bad.lines.some((l) => l.startsWith("Warn") && l.includes('"allkeys-lru"') && l.includes("noeviction")), bad.lines.join("\n"))
      const good = capture()
      yield* Effect.provide(Effect.asVoid(Scheduler.Scheduler), harness(redisBackend(redisUrl(), uniquePrefix()))).pipe(Effect.provide(good.layer))
      assert.deepStrictEqual(good.lines.filter((l) => l.includes("maxmemory")), [])
    }))

  it.effect("keeps every key under the prefix (one cluster hash tag) and reloads scripts after SCRIPT FLUSH", () =>
    Effect.gen(function*() {
      const prefix = uniquePrefix()
      yield* Effect.gen(function*() {
        const s = yield* Scheduler.Scheduler
        const redis = yield* Redis.Redis
        const { task } = yield* s.submit({ scanType: "untrusted", targets: "192.0.2.1", name: "a", idempotencyKey: "k" })
        yield* redis.use("SCRIPT FLUSH", (c) => c.script("FLUSH"))
        const claim = yield* s.claim({ worker: "w" })
        assert.isTrue(Option.isSome(claim))
        if (Option.isSome(claim)) yield* s.fail(claim.value.lease, { reason: "scanner_down", message: "down" })
        yield* s.reportScanner("s2", "failure")
        const keys = yield* redis.use("KEYS", (c) => c.keys(`${prefix}*`))
        assert.includeMembers(keys, [`${prefix}task:${task.id}`, `${prefix}idem:k`, `${prefix}index`, `${prefix}circuit:s2`])
        const dumped = (yield* s.dump).filter((x) => x.startsWith("{"))
        const tags = new Set(dumped.filter((x) => /^\{t[0-9a-f]{12}\}:/.test(x)).map((x) => x.slice(0, prefix.length)))
        assert.deepStrictEqual([...tags], [prefix])
      }).pipe(Effect.provide(Layer.merge(harness(redisBackend(redisUrl(), prefix)), Redis.layer({ url: redisUrl() }))))
    }))

  it.effect("reload requests travel over Redis pub/sub to processes with the same prefix, on their own subscriber connection", () =>
    Effect.gen(function*() {
      const prefix = uniquePrefix()
      const log = logCapture()
      const solo3 = baseConfig.replace(`8837", username: u, password: p, max_concurrent_scans: 2`, `8837", username: u, password: p, max_concurrent_scans: 3`)
      // Each host: its own Redis connection and its own scanners file.
      const host = (prefixOf: string, source: { text: string }, listening: boolean) =>
        Effect.gen(function*() {
          const stack = harness(redisBackend(redisUrl(), prefixOf), { source })
          const context = yield* Layer.build(listening ? Scheduler.layerReloadOnRequest.pipe(Layer.provideMerge(stack)) : stack)
          return Context.get(context, Scheduler.Scheduler)
        })
      const listenerScope = yield* Scope.make()
      const aSource = { text: baseConfig }
      const otherSource = { text: baseConfig }
      const a = yield* host(prefix, aSource, true).pipe(Scope.provide(listenerScope), Effect.provide(log.layer))
      const other = yield* host(uniquePrefix(), otherSource, true).pipe(Scope.provide(listenerScope), Effect.provide(log.layer))
      const admin = yield* host(prefix, { text: baseConfig }, false)

      aSource.text = solo3
      otherSource.text = solo3
      const sent = yield* admin.requestReload({ requestedBy: "nessus-admin@test" })
      assert.strictEqual(sent.listeners, 1, "only the listener under the same prefix")
      const done = yield* log.next((e) => e.annotations["event"] === "config_reloaded")
      assert.include(done.message, `reload request ${sent.request.id} from nessus-admin@test`)
      assert.strictEqual((yield* a.scanners("solo"))[0]?.maxConcurrentScans, 3)
      assert.strictEqual((yield* other.scanners("solo"))[0]?.maxConcurrentScans, 2, "another prefix is another deployment")

      // the subscriber connection is separate: the listener's scheduler keeps working while subscribed
      const { task } = yield* a.submit({ scanType: "untrusted", targets: "192.0.2.1", name: "x", pool: "solo" })
      assert.strictEqual((yield* admin.get(task.id)).state, "queued")

      // closing the listener's scope unsubscribes
      yield* Scope.close(listenerScope, Exit.void)
      assert.strictEqual((yield* admin.requestReload()).listeners, 0)
      assert.strictEqual(log.lines.filter((e) => e.annotations["event"] === "config_reloaded").length, 1)
      assert.deepStrictEqual(log.lines.filter((e) => e.level === "Warn" || e.level === "Error").map((e) => e.message), [])
    }))
})
