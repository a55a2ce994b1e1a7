import { Effect, Layer, Option } from "effect"
import { performance } from "node:perf_hooks"
import { Redis as IORedis } from "ioredis"
import { startRedisServer } from "../../../config/testing/redis.ts"
import { Credentials, Redis, ScannerConfig, Scheduler } from "../dist/index.js"
const config = `
pools:
  bench:
    allowed_targets: [192.0.2.0/24]
    scanners:
      - { instance_id: b1, url: "http://127.0.0.1:1", username: u, password: p, max_concurrent_scans: 256 }
      - { instance_id: b2, url: "http://127.0.0.1:2", username: u, password: p, max_concurrent_scans: 256 }
      - { instance_id: b3, url: "http://127.0.0.1:3", username: u, password: p, max_concurrent_scans: 256 }
      - { instance_id: b4, url: "http://127.0.0.1:4", username: u, password: p, max_concurrent_scans: 256 }
`
const server = await startRedisServer()
const layer = Scheduler.layerRedis({ prefix: `{b}:` }).pipe(Layer.provideMerge(Credentials.layer()), Layer.provideMerge(ScannerConfig.layerText(config)), Layer.provide(Redis.layer({ url: server.url })))
const n = Number(process.env.N ?? 5000)
await Effect.runPromise(Effect.gen(function*() {
  const s = yield* Scheduler.Scheduler
  let t = performance.now()
  yield* Effect.forEach(Array.from({ length: n }, (_, i) => i), (i) => s.submit({ scanType: "untrusted", targets: "192.0.2.1", name: `b${i}` }), { concurrency: 256, discard: true })
  const { Session } = yield* Effect.promise(() => import("node:inspector/promises"))
  const session = new Session(); session.connect()
  yield* Effect.promise(() => session.post("Profiler.enable"))
  yield* Effect.promise(() => session.post("Profiler.start"))
  ;(globalThis as any).__stop = async () => { const { profile } = await session.post("Profiler.stop"); (await import("node:fs")).writeFileSync("/tmp/prof/consume.cpuprofile", JSON.stringify(profile)) }
  console.log("submit/s", n / ((performance.now() - t) / 1000))
  const rc = new IORedis(server.url)
  yield* Effect.promise(() => rc.config("RESETSTAT"))
  t = performance.now()
  let done = 0
  const consumer = (k: number) => Effect.gen(function*() {
    while (done < n) {
      const c = yield* s.claim({ pool: "bench", worker: `c${k}` })
      if (Option.isNone(c)) break
      yield* s.complete(c.value.lease)
      done++
    }
  })
  yield* Effect.all(Array.from({ length: 8 }, (_, k) => consumer(k)), { concurrency: "unbounded", discard: true })
  console.log("cycles/s", done / ((performance.now() - t) / 1000))
  yield* Effect.promise(() => (globalThis as any).__stop())
  console.log((yield* Effect.promise(() => rc.info("commandstats"))).split("\n").filter((l) => /evalsha|eval:/.test(l)).join("\n"))
  rc.disconnect()
}).pipe(Effect.provide(layer)))
await server.dispose()
