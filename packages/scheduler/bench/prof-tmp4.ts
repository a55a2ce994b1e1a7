import { Effect, Layer } from "effect"
import { Redis as IORedis } from "ioredis"
import { startRedisServer } from "../../../config/testing/redis.ts"
import * as Lua from "../dist/internal/lua.js"
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
const layer = Scheduler.layerRedis({ prefix: `{b}:` }).pipe(Layer.provideMerge(Credentials.layer()), Layer.provideMerge(ScannerConfig.layerText(config)), Layer.provide(Redis.layer({ url: server.url })))
await Effect.runPromise(Effect.gen(function*() {
  const s = yield* Scheduler.Scheduler
  yield* Effect.forEach(Array.from({ length: 12000 }, (_, i) => i), (i) => s.submit({ scanType: "untrusted", targets: "192.0.2.1", name: `b${i}` }), { concurrency: 64, discard: true })
}).pipe(Effect.provide(layer)))
const base = Lua.claim.lua
const cut = (marker: string) => base.replace(marker, "do return { 'none' } end\n" + marker)
const variants: Record<string, string> = {
  afterPick: cut("qrem(pool, bestInst, best)"),
  afterQrem: cut("local tk = tkey(best)"),
  afterHincr: cut("redis.call('HSET', tk, 'state', 'running'"),
  afterHset: cut("redis.call('HDEL', tk, 'nessusScanId'"),
  afterHdel: cut("redis.call('SADD', P .. 'running:'"),
  afterSadd: cut("redis.call('ZADD', leases, now + leaseMs, best)"),
  afterZaddLeases: cut("redis.call('ZADD', P .. 'running_since', now, best)"),
  afterRunningSince: cut("redis.call('HSET', P .. 'lastAssigned'"),
  beforeReturn: cut("return { 'claimed', redis.call('HGETALL', tk) }"),
  real: base,
}
let tok = 0
for (const [name, lua] of Object.entries(variants)) {
  const sha = await rc.script("LOAD", lua) as string
  await rc.config("RESETSTAT")
  for (let i = 0; i < 2000; i++) await rc.evalsha(sha, 1, "{b}:q:bench", "{b}:", "bench", 0, 60000, "w", `t${tok++}`, 600000, 1, 1, 1, 4, "b1", 1000, "1", "b2", 1000, "1", "b3", 1000, "1", "b4", 1000, "1")
  console.log(name, (await rc.info("commandstats")).split("\n").find((x) => x.startsWith("cmdstat_evalsha"))?.split(",")[2])
}
rc.disconnect(); await server.dispose()
