/**
 * `pnpm bench:queue`: this queue vs BullMQ through the same work, in one process, against the same
 * throwaway redis-server: N tasks submitted (pre-filled), then M of them claimed and completed by K
 * concurrent consumers. Prints throughput and p50/p99 claim latency for both, and the ratios.
 *
 * Our claim does more than BullMQ's: it picks the least-utilised scanner with a free slot and a closed
 * circuit, takes over expired leases and promotes due retries, all in one Lua step.
 *
 * Env: BENCH_SIZES (default "1000,100000"), BENCH_CONSUMERS (8), BENCH_CONSUME (10000 per size, capped at N).
 */
import { Queue, Worker } from "bullmq"
import { Effect, Layer, Option } from "effect"
import { performance } from "node:perf_hooks"
import { startRedisServer } from "../../../config/testing/redis.ts"
import { Credentials, Redis, ScannerConfig, Scheduler } from "../dist/index.js"

const sizes = (process.env["BENCH_SIZES"] ?? "1000,100000").split(",").map(Number)
const K = Number(process.env["BENCH_CONSUMERS"] ?? 8)
const consumeCap = Number(process.env["BENCH_CONSUME"] ?? 10_000)

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

interface Result {
  readonly name: string
  readonly queued: number
  readonly fillPerSec: number
  readonly consumed: number
  readonly perSec: number
  readonly p50: number
  readonly p99: number
}

const pct = (sorted: ReadonlyArray<number>, p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0

const ours = (url: string, n: number, m: number): Promise<Result> => {
  const layer = Scheduler.layerRedis({ prefix: `{bench${n}}:` }).pipe(
    Layer.provideMerge(Credentials.layer()),
    Layer.provideMerge(ScannerConfig.layerText(config)),
    Layer.provide(Redis.layer({ url }))
  )
  return Effect.runPromise(
    Effect.gen(function*() {
      const s = yield* Scheduler.Scheduler
      const t0 = performance.now()
      yield* Effect.forEach(
        Array.from({ length: n }, (_, i) => i),
        (i) => s.submit({ scanType: "untrusted", targets: `192.0.2.${(i % 254) + 1}`, name: `bench ${i}` }),
        { concurrency: 256, discard: true }
      )
      const fill = performance.now() - t0
      const latencies: Array<number> = []
      let done = 0
      const consumer = (k: number) =>
        Effect.gen(function*() {
          while (done < m) {
            const a = performance.now()
            const c = yield* s.claim({ pool: "bench", worker: `c${k}` })
            latencies.push(performance.now() - a)
            if (Option.isNone(c)) break
            yield* s.complete(c.value.lease)
            done++
          }
        })
      const t1 = performance.now()
      yield* Effect.all(Array.from({ length: K }, (_, k) => consumer(k)), { concurrency: "unbounded", discard: true })
      const elapsed = performance.now() - t1
      latencies.sort((a, b) => a - b)
      return {
        name: "nessus-mcp",
        queued: n,
        fillPerSec: n / (fill / 1000),
        consumed: done,
        perSec: done / (elapsed / 1000),
        p50: pct(latencies, 50),
        p99: pct(latencies, 99)
      }
    }).pipe(Effect.provide(layer))
  )
}

const bullmq = async (port: number, n: number, m: number): Promise<Result> => {
  const connection = { host: "127.0.0.1", port, maxRetriesPerRequest: null }
  const name = `bench${n}`
  const queue = new Queue(name, { connection })
  const worker = new Worker(name, null, { connection, autorun: false })
  await queue.waitUntilReady()
  await worker.waitUntilReady()
  const t0 = performance.now()
  const chunk = 1000
  const fills: Array<Promise<unknown>> = []
  for (let i = 0; i < n; i += chunk) {
    fills.push(
      queue.addBulk(
        Array.from({ length: Math.min(chunk, n - i) }, (_, j) => ({ name: "scan", data: { targets: `192.0.2.${((i + j) % 254) + 1}`, name: `bench ${i + j}` } }))
      )
    )
    if (fills.length >= 8) await Promise.all(fills.splice(0))
  }
  await Promise.all(fills)
  const fill = performance.now() - t0
  const latencies: Array<number> = []
  let done = 0
  const consumer = async (k: number) => {
    const token = `c${k}`
    while (done < m) {
      const a = performance.now()
      const job = await worker.getNextJob(token, { block: false })
      latencies.push(performance.now() - a)
      if (!job) break
      await job.moveToCompleted("ok", token, false)
      done++
    }
  }
  const t1 = performance.now()
  await Promise.all(Array.from({ length: K }, (_, k) => consumer(k)))
  const elapsed = performance.now() - t1
  await worker.close()
  await queue.obliterate({ force: true }).catch(() => undefined)
  await queue.close()
  latencies.sort((a, b) => a - b)
  return { name: "BullMQ", queued: n, fillPerSec: n / (fill / 1000), consumed: done, perSec: done / (elapsed / 1000), p50: pct(latencies, 50), p99: pct(latencies, 99) }
}

const fmt = (x: number, digits = 0) => x.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits })

const main = async () => {
  const server = await startRedisServer()
  const rows: Array<[Result, Result]> = []
  try {
    for (const n of sizes) {
      const m = Math.min(n, consumeCap)
      process.stderr.write(`queued ${n}: nessus-mcp...`)
      const a = await ours(server.url, n, m)
      process.stderr.write(" BullMQ...")
      const b = await bullmq(server.port, n, m)
      process.stderr.write(" done\n")
      rows.push([a, b])
    }
  } finally {
    await server.dispose()
  }
  const lines = [
    `Queue benchmark: ${K} consumers, claim + complete, one local redis-server (no persistence), node ${process.version}`,
    "",
    "| queued | consumed | queue | submit/s | claim+complete/s | claim p50 (ms) | claim p99 (ms) |",
    "| ---: | ---: | --- | ---: | ---: | ---: | ---: |"
  ]
  for (const [a, b] of rows) {
    for (const r of [a, b]) {
      lines.push(`| ${fmt(r.queued)} | ${fmt(r.consumed)} | ${r.name} | ${fmt(r.fillPerSec)} | ${fmt(r.perSec)} | ${fmt(r.p50, 2)} | ${fmt(r.p99, 2)} |`)
    }
    lines.push(
      `| ${fmt(a.queued)} | | **ratio** | ${fmt(a.fillPerSec / b.fillPerSec, 2)}× | ${fmt(a.perSec / b.perSec, 2)}× | ${fmt(a.p50 / b.p50, 2)}× | ${fmt(a.p99 / b.p99, 2)}× |`
    )
  }
  const verdict = rows.map(([a, b]) =>
    `queued ${fmt(a.queued)}: throughput ${a.perSec >= b.perSec ? "≥" : "<"} BullMQ (${fmt(a.perSec / b.perSec, 2)}×), p99 claim ${fmt(a.p99, 2)} ms ${a.p99 < 5 ? "< 5 ms" : "≥ 5 ms (target missed)"}`
  )
  process.stdout.write(`${lines.join("\n")}\n\n${verdict.join("\n")}\n`)
}

main().catch((e) => {
  process.stderr.write(`${e instanceof Error ? e.stack : String(e)}\n`)
  process.exit(1)
})
