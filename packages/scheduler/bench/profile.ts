/**
 * Profiling aid for the claim/complete hot path (not a benchmark): fills N tasks, then K consumers (one
 * connection each, or one shared with BENCH_CONNECTIONS=shared) claim and complete them all, with the
 * V8 CPU profiler running during the consumption only. Prints the node CPU per task and writes
 * `<BENCH_PROFILE>.cpuprofile` (open it in Chrome DevTools or speedscope). `BENCH_QUEUE=bullmq` runs
 * BullMQ's getNextJob + moveToCompleted instead, for comparison.
 *
 * Env: BENCH_TASKS (20000), BENCH_CONSUMERS (8), BENCH_CONNECTIONS (per-consumer | shared),
 * BENCH_QUEUE (ours | bullmq), BENCH_PROFILE (path prefix; no profile when unset).
 */
import { Worker, Queue } from "bullmq"
import { Effect, Layer, ManagedRuntime, Option } from "effect"
import { writeFileSync } from "node:fs"
import { Session } from "node:inspector/promises"
import { performance } from "node:perf_hooks"
import { startRedisServer } from "../../../config/testing/redis.ts"
import { Credentials, Redis, ScannerConfig, Scheduler } from "../dist/index.js"

const N = Number(process.env["BENCH_TASKS"] ?? 20000)
const K = Number(process.env["BENCH_CONSUMERS"] ?? 8)
const shared = process.env["BENCH_CONNECTIONS"] === "shared"
const queueKind = process.env["BENCH_QUEUE"] === "bullmq" ? "bullmq" : "ours"
const profilePath = process.env["BENCH_PROFILE"]

const config = `
pools:
  bench:
    allowed_targets: [192.0.2.0/24]
    scanners:
      - { instance_id: b1, url: "http://127.0.0.1:1", username: u, password: p, max_concurrent_scans: 256 }
      - { instance_id: b2, url: "http://127.0.0.1:2", username: u, password: p, max_concurrent_scans: 256 }
`

/** Fills the queue, returns the consumption (K consumers over N tasks) and a cleanup. */
const prepare = async (url: string, port: number): Promise<{ consume: () => Promise<void>; close: () => Promise<void> }> => {
  if (queueKind === "bullmq") {
    const connection = { host: "127.0.0.1", port, maxRetriesPerRequest: null }
    const queue = new Queue("prof", { connection })
    const workers = Array.from({ length: shared ? 1 : K }, () => new Worker("prof", null, { connection, autorun: false }))
    for (let i = 0; i < N; i += 1000) {
      await queue.addBulk(Array.from({ length: Math.min(1000, N - i) }, (_, j) => ({ name: "scan", data: { targets: [`192.0.2.${((i + j) % 254) + 1}`], name: `p ${i + j}` } })))
    }
    let budget = N
    return {
      consume: async () => {
        await Promise.all(Array.from({ length: K }, async (_, k) => {
          const w = workers[k % workers.length] as Worker
          while (budget-- > 0) {
            const job = await w.getNextJob(`c${k}`, { block: false })
            if (!job) return
            await job.moveToCompleted("ok", `c${k}`, false)
          }
        }))
      },
      close: async () => {
        for (const w of workers) await w.close()
        await queue.close()
      }
    }
  }
  const layer = Scheduler.layerRedis({ prefix: "{prof}:" }).pipe(
    Layer.provideMerge(Credentials.layer()),
    Layer.provideMerge(ScannerConfig.layerText(config)),
    Layer.provide(Redis.layer({ url }))
  )
  const runtimes = Array.from({ length: shared ? 1 : K }, () => ManagedRuntime.make(layer))
  await (runtimes[0] as (typeof runtimes)[number]).runPromise(Effect.gen(function*() {
    const s = yield* Scheduler.Scheduler
    yield* Effect.forEach(Array.from({ length: N }, (_, i) => i), (i) =>
      s.submit({ scanType: "untrusted", targets: `192.0.2.${(i % 254) + 1}`, name: `p ${i}` }), { concurrency: 64, discard: true })
  }))
  let budget = N
  return {
    consume: async () => {
      await Promise.all(Array.from({ length: K }, (_, k) =>
        (runtimes[k % runtimes.length] as (typeof runtimes)[number]).runPromise(Effect.gen(function*() {
          const s = yield* Scheduler.Scheduler
          while (budget-- > 0) {
            const c = yield* s.claim({ pool: "bench", worker: `c${k}` })
            if (Option.isNone(c)) return
            yield* s.complete(c.value.lease)
          }
        }))))
    },
    close: async () => {
      for (const r of runtimes) await r.dispose()
    }
  }
}

const main = async () => {
  const server = await startRedisServer()
  const session = new Session()
  try {
    const run = await prepare(server.url, server.port)
    if (profilePath !== undefined) {
      session.connect()
      await session.post("Profiler.enable")
      await session.post("Profiler.start")
    }
    const c0 = process.cpuUsage()
    const t0 = performance.now()
    await run.consume()
    const ms = performance.now() - t0
    const cpu = process.cpuUsage(c0)
    if (profilePath !== undefined) {
      const { profile } = await session.post("Profiler.stop")
      writeFileSync(`${profilePath}.cpuprofile`, JSON.stringify(profile))
      session.disconnect()
    }
    process.stdout.write(`${queueKind}: ${N} tasks in ${ms.toFixed(0)} ms: ${(N / (ms / 1000)).toFixed(0)}/s, node CPU ${((cpu.user + cpu.system) / N).toFixed(1)} µs/task\n`)
    await run.close()
  } finally {
    await server.dispose()
  }
}

main().catch((e) => {
  process.stderr.write(`${e instanceof Error ? e.stack : String(e)}\n`)
  process.exit(1)
})
