import { Queue, Worker } from "bullmq"
import { Redis as IORedis } from "ioredis"
import { performance } from "node:perf_hooks"
import { startRedisServer } from "../../../config/testing/redis.ts"
const server = await startRedisServer()
const n = 5000
const connection = { host: "127.0.0.1", port: server.port, maxRetriesPerRequest: null }
const queue = new Queue("b", { connection })
const worker = new Worker("b", null, { connection, autorun: false })
for (let i = 0; i < n; i += 1000) await queue.addBulk(Array.from({ length: 1000 }, (_, j) => ({ name: "scan", data: { targets: "192.0.2.1", name: `b${i + j}` } })))
const c = new IORedis(server.url)
await c.config("RESETSTAT")
let t = performance.now()
let done = 0
await Promise.all(Array.from({ length: 8 }, async (_, k) => { while (done < n) { const job = await worker.getNextJob(`c${k}`, { block: false }); if (!job) break; await job.moveToCompleted("ok", `c${k}`, false); done++ } }))
console.log("bullmq cycles/s", done / ((performance.now() - t) / 1000))
console.log((await c.info("commandstats")).split("\n").filter((l) => /evalsha|eval:/.test(l)).join("\n"))
await worker.close(); await queue.close(); c.disconnect(); await server.dispose()
