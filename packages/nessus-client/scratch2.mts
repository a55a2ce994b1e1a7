import { spawn } from "node:child_process"
import { writeFileSync } from "node:fs"
import { request } from "undici"
const port = 18000 + Math.floor(Math.random() * 1000)
writeFileSync("/tmp/nc-scratch/sim2.yaml", `scanners:\n  - port: ${port}\n    scanDurationMs: 0\n    exportDelayMs: 0\n    findingsPerHost: 105\n    apiKeys: [{accessKey: a, secretKey: b}]\n`)
const child = spawn(process.execPath, ["../nessus-simulator/dist/bin.js", "--config", "/tmp/nc-scratch/sim2.yaml"], { stdio: "ignore" })
await new Promise((r) => setTimeout(r, 1500))
const u = `http://127.0.0.1:${port}`
const h = { "X-ApiKeys": "accessKey=a; secretKey=b", "content-type": "application/json" }
const j = async (m: string, p: string, b?: unknown) => (await request(u + p, { method: m as any, headers: h, body: b ? JSON.stringify(b) : undefined })).body.json() as any
const s = await j("POST", "/scans", { uuid: "731a8e52-3ea6-a291-ec0a-d2ff0619c19d7bd788d6be818b65", settings: { name: "big", text_targets: "10.20.0.0/22" } })
await j("POST", `/scans/${s.scan.id}/launch`, {})
await new Promise((r) => setTimeout(r, 300))
const e = await j("POST", `/scans/${s.scan.id}/export`, { format: "nessus" })
await new Promise((r) => setTimeout(r, 300))
const base = process.memoryUsage().rss; let peak = base
const t = setInterval(() => { const m = process.memoryUsage().rss; if (m > peak) peak = m }, 5)
const res = await request(`${u}/scans/${s.scan.id}/export/${e.file}/download`, { headers: h })
let bytes = 0
for await (const c of res.body) bytes += c.length
clearInterval(t)
console.log("plain undici", (bytes / 1048576).toFixed(0), "MB growth", ((peak - base) / 1048576).toFixed(1))
child.kill()
