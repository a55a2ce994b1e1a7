/**
 * `pnpm bench:queue`: this queue vs BullMQ through the same work, in one process, against the same
 * throwaway redis-server. For each size N: both queues are pre-filled with N tasks, then K concurrent
 * consumers claim and complete tasks in alternating rounds (ours, BullMQ, ours, ...; at most N/2 per
 * round, refilled after each so the depth stays near N), so machine noise hits both alike.
 *
 * What is kept equal, so that the comparison is fair:
 * - connections: each consumer has its own Redis connection in both (`BENCH_CONNECTIONS=per-consumer`,
 *   the default: K scheduler instances vs K BullMQ `Worker`s), or all consumers share one in both
 *   (`shared`: one scheduler vs one `Worker`);
 * - payload: BullMQ's job data is the same JSON document our task hash stores as its payload (id, trace
 *   id, scan type, targets, name, description, pool, creation time); the stored bytes per task of both
 *   are printed;
 * - acknowledgement: a consumer claims (ours: `claim`; BullMQ: `getNextJob`, i.e. `moveToActive`), then
 *   acknowledges (ours: `complete`; BullMQ: `job.moveToCompleted(..., fetchNext = false)`): two round
 *   trips per task in both. BullMQ's own processing loop passes `fetchNext = true`, which fetches the next
 *   job inside the completion script (one round trip per task); we do not use that here because the
 *   claim latency is what is measured, and our API has no fused complete-and-claim.
 *
 * Prints, per queue: submit rate, claim+complete throughput (median and range over the rounds), p50/p99
 * claim latency over all claims, and CPU per task: this process (`process.cpuUsage`) and the Redis server
 * (`INFO cpu` used_cpu_user + used_cpu_sys deltas), which is steadier than wall time on a busy machine.
 *
 * Env: BENCH_SIZES ("1000,100000"), BENCH_CONSUMERS (8), BENCH_CONSUME (tasks consumed per size and
 * queue, default 9000), BENCH_ROUNDS (at least 3), BENCH_CONNECTIONS (per-consumer | shared).
 */
import { Queue, Worker } from "bullmq"
import { Redis as IORedis } from "ioredis"
import { Effect, Layer, ManagedRuntime, Option } from "effect"
import { performance } from "node:perf_hooks"
import { loadavg } from "node:os"
import { startRedisServer } from "../../../config/testing/redis.ts"
import { Credentials, Redis, ScannerConfig, Scheduler } from "../dist/index.js"

const sizes = (process.env["BENCH_SIZES"] ?? "1000,100000").split(",").map(Number)
const K = Number(process.env["BENCH_CONSUMERS"] ?? 8)
const consumeTotal = Number(process.env["BENCH_CONSUME"] ?? 9000)
const minRounds = Number(process.env["BENCH_ROUNDS"] ?? 3)
const connections = process.env["BENCH_CONNECTIONS"] === "shared" ? "shared" : "per-consumer"
const nConnections = connections === "shared" ? 1 : K

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
  /** Bytes (field names + values) one stored task takes, as a check that the payloads match. */
  readonly storedBytes: () => Promise<number>
  readonly close: () => Promise<void>
}

const tag = () => Math.random().toString(36).slice(2, 8)

const request = (i: number) => ({ scanType: "untrusted" as const, targets: `192.0.2.${(i % 254) + 1}`, name: `bench ${i}` })

const hashBytes = async (admin: IORedis, key: string) =>
  Object.entries(await admin.hgetall(key)).reduce((n, [k, v]) => n + Buffer.byteLength(k) + Buffer.byteLength(v), 0)

const ours = (url: string, admin: IORedis): Contender => {
  const prefix = `{bench-${tag()}}:`
  const layer = Scheduler.layerRedis({ prefix }).pipe(
    Layer.provideMerge(Credentials.layer()),
    Layer.provideMerge(ScannerConfig.layerText(config)),
    Layer.provide(Redis.layer({ url }))
  )
  // One scheduler (with its own connection) per consumer, or one for all.
  const runtimes = Array.from({ length: nConnections }, () => ManagedRuntime.make(layer))
  const first = runtimes[0] as (typeof runtimes)[number]
  let lastId = ""
  return {
    name: "nessus-mcp",
    fill: (n) =>
      first.runPromise(Effect.gen(function*() {
        const s = yield* Scheduler.Scheduler
        const t0 = performance.now()
        yield* Effect.forEach(
          Array.from({ length: n }, (_, i) => i),
          (i) => Effect.map(s.submit(request(i)), (r) => void (lastId = r.task.id)),
          { concurrency: 256, discard: true }
        )
        return performance.now() - t0
      })),
    consume: async (m, latencies) => {
      let budget = m
      const consumer = (k: number) =>
        (runtimes[k % runtimes.length] as (typeof runtimes)[number]).runPromise(Effect.gen(function*() {
          const s = yield* Scheduler.Scheduler
          while (budget-- > 0) {
            const a = performance.now()
            const c = yield* s.claim({ pool: "bench", worker: `c${k}` })
            latencies.push(performance.now() - a)
            if (Option.isNone(c)) return
            yield* s.complete(c.value.lease)
          }
        }))
      const t0 = performance.now()
      await Promise.all(Array.from({ length: K }, (_, k) => consumer(k)))
      return performance.now() - t0
    },
    storedBytes: () => hashBytes(admin, `${prefix}task:${lastId}`),
    close: async () => {
      for (const r of runtimes) await r.dispose()
    }
  }
}

const bullmq = (port: number, admin: IORedis): Contender => {
  const connection = { host: "127.0.0.1", port, maxRetriesPerRequest: null }
  const name = `bench-${tag()}`
  const queue = new Queue(name, { connection })
  const workers = Array.from({ length: nConnections }, () => new Worker(name, null, { connection, autorun: false }))
  // The same document our task hash stores as its payload (see `toHash`: the `doc` field).
  const data = (i: number) => ({
    id: `t_${(i.toString(36) + "0".repeat(22)).slice(0, 22)}`,
    traceId: "0123456789abcdef0123456789abcdef",
    scanType: "untrusted",
    targets: [request(i).targets],
    name: request(i).name,
    description: "",
    pool: "bench",
    createdAt: Date.now()
  })
  let lastId = ""
  return {
    name: "BullMQ",
    fill: async (n) => {
      await queue.waitUntilReady()
      for (const w of workers) await w.waitUntilReady()
      const t0 = performance.now()
      const pending: Array<Promise<ReadonlyArray<{ readonly id?: string | undefined }>>> = []
      for (let i = 0; i < n; i += 1000) {
        pending.push(queue.addBulk(Array.from({ length: Math.min(1000, n - i) }, (_, j) => ({ name: "scan", data: data(i + j) }))))
        if (pending.length >= 8) for (const jobs of await Promise.all(pending.splice(0))) lastId = jobs[jobs.length - 1]?.id ?? lastId
      }
      for (const jobs of await Promise.all(pending)) lastId = jobs[jobs.length - 1]?.id ?? lastId
      return performance.now() - t0
    },
    consume: async (m, latencies) => {
      let budget = m
      const consumer = async (k: number) => {
        const worker = workers[k % workers.length] as Worker
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
    storedBytes: () => hashBytes(admin, `bull:${name}:${lastId}`),
    close: async () => {
      for (const w of workers) await w.close()
      await queue.obliterate({ force: true }).catch(() => undefined)
      await queue.close()
    }
  }
}

/** Redis server CPU seconds (user + sys, all threads) so far, from INFO cpu. */
const redisCpu = async (admin: IORedis): Promise<number> => {
  const info = await admin.info("cpu")
  const get = (k: string) => Number(new RegExp(`^${k}:([\\d.]+)`, "m").exec(info)?.[1] ?? 0)
  return get("used_cpu_user") + get("used_cpu_sys")
}

/** This process' CPU seconds (user + sys) so far. */
const ownCpu = () => {
  const u = process.cpuUsage()
  return (u.user + u.system) / 1e6
}

interface Row {
  readonly name: string
  readonly queued: number
  readonly consumed: number
  readonly storedBytes: number
  readonly fillPerSec: number
  readonly perSec: number
  readonly minPerSec: number
  readonly maxPerSec: number
  readonly p50: number
  readonly p99: number
  readonly nodeUs: number
  readonly redisUs: number
}

const pct = (sorted: ReadonlyArray<number>, p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0
const median = (xs: ReadonlyArray<number>) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0
const fmt = (x: number, digits = 0) => x.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits })

const compare = async (url: string, port: number, n: number, m: number): Promise<[Row, Row]> => {
  const admin = new IORedis(url)
  const contenders = [ours(url, admin), bullmq(port, admin)] as const
  const cpu = [
    { node: 0, redis: 0 },
    { node: 0, redis: 0 }
  ]
  try {
    const fills: Array<number> = []
    for (const c of contenders) fills.push(await c.fill(n))
    const stored = await Promise.all(contenders.map((c) => c.storedBytes()))
    // Keep the depth near n: consume at most half of it per round, then refill what was taken.
    const perRound = Math.min(Math.floor(n / 2), Math.ceil(m / minRounds))
    const roundCount = Math.max(minRounds, Math.ceil(m / perRound))
    const rates: Array<Array<number>> = [[], []]
    const latencies: Array<Array<number>> = [[], []]
    for (let r = 0; r < roundCount; r++) {
      for (let i = 0; i < contenders.length; i++) {
        const c = contenders[i] as Contender
        const acc = cpu[i] as { node: number; redis: number }
        const [node0, redis0] = [ownCpu(), await redisCpu(admin)]
        const ms = await c.consume(perRound, latencies[i] as Array<number>)
        const [node1, redis1] = [ownCpu(), await redisCpu(admin)]
        acc.node += node1 - node0
        acc.redis += redis1 - redis0
        ;(rates[i] as Array<number>).push(perRound / (ms / 1000))
        await c.fill(perRound)
      }
    }
    const consumed = perRound * roundCount
    return contenders.map((c, i): Row => {
      const sorted = [...(latencies[i] as Array<number>)].sort((a, b) => a - b)
      const rs = rates[i] as Array<number>
      const acc = cpu[i] as { node: number; redis: number }
      return {
        name: c.name,
        queued: n,
        consumed,
        storedBytes: stored[i] as number,
        fillPerSec: n / ((fills[i] as number) / 1000),
        perSec: median(rs),
        minPerSec: Math.min(...rs),
        maxPerSec: Math.max(...rs),
        p50: pct(sorted, 50),
        p99: pct(sorted, 99),
        nodeUs: (acc.node * 1e6) / consumed,
        redisUs: (acc.redis * 1e6) / consumed
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
  const loadBefore = loadavg()[0] ?? 0
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
  const loadAfter = loadavg()[0] ?? 0
  const lines = [
    `Queue benchmark: ${K} consumers, ${connections === "shared" ? "one shared connection per queue" : "one connection per consumer"}, claim then complete (two round trips per task in both), alternating rounds refilled so the depth stays near N; one local redis-server (no persistence); node ${process.version}; load average ${fmt(loadBefore, 1)} → ${fmt(loadAfter, 1)}`,
    "",
    "| queued | queue | stored B/task | submit/s | claim+complete/s median (range) | claim p50 (ms) | claim p99 (ms) | node CPU µs/task | Redis CPU µs/task | total CPU µs/task |",
    "| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
  ]
  for (const [a, b] of rows) {
    for (const r of [a, b]) {
      lines.push(
        `| ${fmt(r.queued)} | ${r.name} | ${fmt(r.storedBytes)} | ${fmt(r.fillPerSec)} | ${fmt(r.perSec)} (${fmt(r.minPerSec)}–${fmt(r.maxPerSec)}) | ${fmt(r.p50, 2)} | ${fmt(r.p99, 2)} | ${fmt(r.nodeUs, 1)} | ${fmt(r.redisUs, 1)} | ${fmt(r.nodeUs + r.redisUs, 1)} |`
      )
    }
    lines.push(
      `| ${fmt(a.queued)} | **ratio** | ${fmt(a.storedBytes / b.storedBytes, 2)}× | ${fmt(a.fillPerSec / b.fillPerSec, 2)}× | ${fmt(a.perSec / b.perSec, 2)}× | ${fmt(a.p50 / b.p50, 2)}× | ${fmt(a.p99 / b.p99, 2)}× | ${fmt(a.nodeUs / b.nodeUs, 2)}× | ${fmt(a.redisUs / b.redisUs, 2)}× | ${fmt((a.nodeUs + a.redisUs) / (b.nodeUs + b.redisUs), 2)}× |`
    )
  }
  const verdict = rows.map(([a, b]) =>
    `queued ${fmt(a.queued)} (${a.consumed} consumed each): throughput ${fmt(a.perSec / b.perSec, 2)}× BullMQ's (target ≥ 1), CPU per task ${fmt((a.nodeUs + a.redisUs) / (b.nodeUs + b.redisUs), 2)}× BullMQ's, p99 claim ${fmt(a.p99, 2)} ms (target < 5 ms)`
  )
  process.stdout.write(`${lines.join("\n")}\n\n${verdict.join("\n")}\n`)
}

main().catch((e) => {
  process.stderr.write(`${e instanceof Error ? e.stack : String(e)}\n`)
  process.exit(1)
})
