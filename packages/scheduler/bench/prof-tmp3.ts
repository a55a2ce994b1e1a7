import { Effect, Layer, Option } from "effect"
import { Redis as IORedis } from "ioredis"
import { startRedisServer } from "../../../config/testing/redis.ts"
import { Credentials, Redis, ScannerConfig, Scheduler } from "../dist/index.js"
const config = `
pools:
  bench:
    allowed_targets: [192.0.2.0/24]
    scanners:
      - { instance_id: b1, url: "http://127.0.0.1:1", username: u, password: p, max_concurrent_scans: 1000 }
      - { instance_id: b2, url: "http://127.0.0.1:2", username: u, password: p, max_concurrent_scans: 1000 }
      - { instance_id: b3, url: "http://127.0.0.1:3", username: u, password: p, max_concurrent_scans: 1000 }
      - { instance_id: b4, url: "http://127.0.0.1:4", username: u, password: p, max_concurrent_scans: 1000 }
`
const server = await startRedisServer()
const rc = new IORedis(server.url)
const stat = async (label: string) => { const l = (await rc.info("commandstats")).split("\n").find((x) => x.startsWith("cmdstat_evalsha")); console.log(label, l); await rc.config("RESETSTAT") }
const layer = Scheduler.layerRedis({ prefix: `{b}:` }).pipe(Layer.provideMerge(Credentials.layer()), Layer.provideMerge(ScannerConfig.layerText(config)), Layer.provide(Redis.layer({ url: server.url })))
await Effect.runPromise(Effect.gen(function*() {
  const s = yield* Scheduler.Scheduler
  for (let i = 0; i < 3000; i++) yield* s.submit({ scanType: "untrusted", targets: "192.0.2.1", name: `b${i}` })
  yield* Effect.promise(() => stat("submit+position"))
  const leases = []
  for (let i = 0; i < 3000; i++) { const c = yield* s.claim({ pool: "bench", worker: "w" }); if (Option.isSome(c)) leases.push(c.value.lease) }
  yield* Effect.promise(() => stat("claim"))
  for (const l of leases) yield* s.complete(l)
  yield* Effect.promise(() => stat("complete"))
}).pipe(Effect.provide(layer)))
rc.disconnect(); await server.dispose()
