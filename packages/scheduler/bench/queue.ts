/**
 * `pnpm bench:queue`: this queue vs BullMQ through the same work, in one process, against the same
 * throwaway redis-server. For each size N: both queues are pre-filled with N tasks, then K concurrent
 * consumers claim and complete tasks in alternating rounds (ours, BullMQ, ours, ...; at most N/2 per
 * round, refilled after each so the depth stays near N), so machine noise hits both alike. Prints the
 * submit rate, the median claim+complete throughput over the rounds, p50/p99 claim latency over all
 * claims, Redis CPU per task (INFO commandstats), and the ratios.
 *
 * Our claim does more than BullMQ's `getNextJob`: it picks the least-utilised scanner with a free slot
 * and a closed circuit, takes over expired leases and promotes due retries, all in one Lua step.
 *
 * Env: BENCH_SIZES ("1000,100000"), BENCH_CONSUMERS (8), BENCH_CONSUME (tasks consumed per size and
 * queue, default 9000), BENCH_ROUNDS (at least 3).
 */
import { Queue, Worker } from "bullmq"
import { Redis as IORedis } from "ioredis"
import { Effect, Layer, ManagedRuntime, Option } from "effect"
import { performance } from "node:perf_hooks"
import { startRedisServer } from "../../../config/testing/redis.ts"
import { Credentials, Redis, ScannerConfig, Scheduler } from "../dist/index.js"

const sizes = (process.env["BENCH_SIZES"] ?? "1000,100000").split(",").map(Number)
const K = Number(process.env["BENCH_CONSUMERS"] ?? 8)
const consumeTotal = Number(process.env["BENCH_CONSUME"] ?? 9000)
const minRounds = Number(process.env["BENCH_ROUNDS"] ?? 3)

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

/** One queue under test. */
interface Contender {
  readonly name: string
  readonly fill: (n: number) => Promise<number>
  /** Claims and completes `m` tasks with K consumers; returns the elapsed ms and pushes claim latencies. */
  readonly consume: (m: number, latencies: Array<number>) => Promise<number>
  readonly close: () => Promise<void>
}

const tag = () => Math.random().toString(36).slice(2, 8)

const ours = (url: string): Contender => {
  const layer = Scheduler.layerRedis({ prefix: `{bench-${tag()}}:` }).pipe(
    Layer.provideMerge(Credentials.layer()),
    Layer.provideMerge(ScannerConfig.layerText(config)),
    Layer.provide(Redis.layer({ url }))
  )
  const runtime = ManagedRuntime.make(layer)
  return {
    name: "nessus-mcp",
    fill: (n) =>
      runtime.runPromise(Effect.gen(function*() {
        const s = yield* Scheduler.Scheduler
        const t0 = performance.now()
        yield* Effect.forEach(
          Array.from({ length: n }, (_, i) => i),
          (i) => s.submit({ scanType: "untrusted", targets: `192.0.2.${(i % 254) + 1}`, name: `bench ${i}` }),
          { concurrency: 256, discard: true }
        )
        return performance.now() - t0
      })),
    consume: (m, latencies) =>
      runtime.runPromise(Effect.gen(function*() {
        const s = yield* Scheduler.Scheduler
        let budget = m
        const consumer = (k: number) =>
          Effect.gen(function*() {
            while (budget-- > 0) {
              const a = performance.now()
              const c = yield* s.claim({ pool: "bench", worker: `c${k}` })
              latencies.push(performance.now() - a)
              if (Option.isNone(c)) return
              yield* s.complete(c.value.lease)
            }
          })
        const t0 = performance.now()
        yield* Effect.all(Array.from({ length: K }, (_, k) => consumer(k)), { concurrency: "unbounded", discard: true })
        return performance.now() - t0
      })),
    close: () => runtime.dispose()
  }
}

const bullmq = (port: number): Contender => {
  const connection = { host: "127.0.0.1", port, maxRetriesPerRequest: null }
  const name = `bench-${tag()}`
  const queue = new Queue(name, { connection })
  const worker = new Worker(name, null, { connection, autorun: false })
  return {
    name: "BullMQ",
    fill: async (n) => {
      await queue.waitUntilReady()
      await worker.waitUntilReady()
      const t0 = performance.now()
      const pending: Array<Promise<unknown>> = []
      for (let i = 0; i < n; i += 1000) {
        pending.push(
          queue.addBulk(Array.from({ length: Math.min(1000, n - i) }, (_, j) => ({
            name: "scan",
            data: { targets: `192.0.2.${((i + j) % 254) + 1}`, name: `bench ${i + j}` }
          })))
        )
        if (pending.length >= 8) await Promise.all(pending.splice(0))
      }
      await Promise.all(pending)
      return performance.now() - t0
    },
    consume: async (m, latencies) => {
      let budget = m
      const consumer = async (k: number) => {
        const token = `c${k}`
        while (budget-- > 0) {
          const a = performance.now()
          const job = await worker.getNextJob(token, { block: false })
          latencies.push(performance.now() - a)
          if (!job) return
          await job.moveToCompleted("ok", token, false)
        }
      }
      const t0 = performance.now()
      await Promise.all(Array.from({ length: K }, (_, k) => consumer(k)))
      return performance.now() - t0
    },
    close: async () => {
      await worker.close()
      await queue.obliterate({ force: true }).catch(() => undefined)
      await queue.close()
    }
  }
}

/** Redis CPU (µs) spent on commands since the last call, from INFO commandstats. */
const serverTime = (admin: IORedis) => async (): Promise<number> => {
  const info = await admin.info("commandstats")
  await admin.config("RESETSTAT")
  return [...info.matchAll(/usec=(\d+)/g)].reduce((n, m) => n + Number(m[1]), 0)
}

interface Row {
  readonly name: string
  readonly serverUsPerTask: number
  readonly queued: number
  readonly consumed: number
  readonly fillPerSec: number
  readonly perSec: number
  readonly p50: number
  readonly p99: number
}

const pct = (sorted: ReadonlyArray<number>, p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0
const median = (xs: ReadonlyArray<number>) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0
const fmt = (x: number, digits = 0) => x.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits })

const compare = async (url: string, port: number, n: number, m: number): Promise<[Row, Row]> => {
  const contenders = [ours(url), bullmq(port)] as const
  const admin = new IORedis(url)
  const server = serverTime(admin)
  const serverUs = [0, 0]
  try {
    const fills: Array<number> = []
    for (const c of contenders) fills.push(await c.fill(n))
    // Keep the depth near n: consume at most half of it per round, then refill what was taken.
    const perRound = Math.min(Math.floor(n / 2), Math.ceil(m / minRounds))
    const roundCount = Math.max(minRounds, Math.ceil(m / perRound))
    const rates: Array<Array<number>> = [[], []]
    const latencies: Array<Array<number>> = [[], []]
    for (let r = 0; r < roundCount; r++) {
      for (let i = 0; i < contenders.length; i++) {
        const c = contenders[i] as Contender
        await server()
        const ms = await c.consume(perRound, latencies[i] as Array<number>)
        serverUs[i] = (serverUs[i] as number) + (await server())
        ;(rates[i] as Array<number>).push(perRound / (ms / 1000))
        await c.fill(perRound)
      }
    }
    const consumed = perRound * roundCount
    return contenders.map((c, i): Row => {
      const sorted = [...(latencies[i] as Array<number>)].sort((a, b) => a - b)
      return {
        name: c.name,
        queued: n,
        consumed,
        fillPerSec: n / ((fills[i] as number) / 1000),
        perSec: median(rates[i] as Array<number>),
        serverUsPerTask: (serverUs[i] as number) / consumed,
        p50: pct(sorted, 50),
        p99: pct(sorted, 99)
      }
    }) as unknown as [Row, Row]
  } finally {
    for (const c of contenders) await c.close()
    admin.disconnect()
  }
}

const main = async () => {
  const server = await startRedisServer()
  const rows: Array<[Row, Row]> = []
  try {
    process.stderr.write("warming up...")
    await compare(server.url, server.port, 3000, 3000)
    process.stderr.write(" done\n")
    for (const n of sizes) {
      process.stderr.write(`queued ${fmt(n)}...`)
      rows.push(await compare(server.url, server.port, n, consumeTotal))
      process.stderr.write(" done\n")
    }
  } finally {
    await server.dispose()
  }
  const lines = [
    `Queue benchmark: ${K} consumers claim + complete in alternating rounds (refilled after each, so the depth stays near N), one local redis-server (no persistence), node ${process.version}`,
    "",
    "| queued | consumed | queue | submit/s | claim+complete/s (median) | claim p50 (ms) | claim p99 (ms) | Redis µs/task |",
    "| ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: |"
  ]
  for (const [a, b] of rows) {
    for (const r of [a, b]) {
      lines.push(`| ${fmt(r.queued)} | ${fmt(r.consumed)} | ${r.name} | ${fmt(r.fillPerSec)} | ${fmt(r.perSec)} | ${fmt(r.p50, 2)} | ${fmt(r.p99, 2)} | ${fmt(r.serverUsPerTask, 1)} |`)
    }
    lines.push(`| ${fmt(a.queued)} | | **ratio** | ${fmt(a.fillPerSec / b.fillPerSec, 2)}× | ${fmt(a.perSec / b.perSec, 2)}× | ${fmt(a.p50 / b.p50, 2)}× | ${fmt(a.p99 / b.p99, 2)}× | ${fmt(a.serverUsPerTask / b.serverUsPerTask, 2)}× |`)
  }
  const verdict = rows.map(([a, b]) =>
    `queued ${fmt(a.queued)}: throughput ${fmt(a.perSec / b.perSec, 2)}× BullMQ's (target ≥ 1), p99 claim ${fmt(a.p99, 2)} ms (target < 5 ms)`
  )
  process.stdout.write(`${lines.join("\n")}\n\n${verdict.join("\n")}\n`)
}

main().catch((e) => {
  process.stderr.write(`${e instanceof Error ? e.stack : String(e)}\n`)
  process.exit(1)
})
