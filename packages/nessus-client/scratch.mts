import { NodeFileSystem, NodeHttpClient } from "@effect/platform-node"
import { Effect, Redacted, Stream } from "effect"
import { spawn } from "node:child_process"
import { writeFileSync } from "node:fs"
import * as NessusClient from "./dist/NessusClient.js"
const mode = process.argv[2] ?? "file"
const port = 18000 + Math.floor(Math.random() * 1000)
writeFileSync("/tmp/nc-scratch/sim.yaml", `scanners:\n  - port: ${port}\n    scanDurationMs: 0\n    exportDelayMs: 0\n    findingsPerHost: 105\n`)
const child = spawn(process.execPath, ["../nessus-simulator/dist/bin.js", "--config", "/tmp/nc-scratch/sim.yaml"], { stdio: "inherit" })
await new Promise((r) => setTimeout(r, 1500))
const MB = 1024 * 1024
const prog = Effect.gen(function*() {
  const n = yield* NessusClient.make({ url: `http://127.0.0.1:${port}`, auth: { mode: "session", username: "nessus", password: Redacted.make("nessus") } })
  const scan = yield* n.createScan({ name: "big", targets: "10.20.0.0/22" })
  yield* n.launchScan(scan.id)
  yield* Effect.sleep("500 millis")
  const base = process.memoryUsage()
  let peak = base.rss, at = base
  const t = setInterval(() => { const m = process.memoryUsage(); if (m.rss > peak) { peak = m.rss; at = m } }, 5)
  let bytes = 0
  if (mode === "file") bytes = (yield* n.exportScanToFile(scan.id, "/tmp/nc-scratch/big.nessus").pipe(Effect.provide(NodeFileSystem.layer))).bytes
  else yield* n.exportScan(scan.id).pipe(Stream.runForEach((c) => Effect.sync(() => { bytes += c.length })))
  clearInterval(t)
  console.log(mode, (bytes / MB).toFixed(0), "MB; growth", ((peak - base.rss) / MB).toFixed(1), "MB; base", JSON.stringify(base), "peak", JSON.stringify(at))
}).pipe(Effect.scoped, Effect.provide(NodeHttpClient.layerUndici))
try { await Effect.runPromise(prog) } finally { child.kill() }
