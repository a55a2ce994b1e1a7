// Temporary micro-benchmark (not committed): CPU µs per get_scan_status tool execution, no SDK, no HTTP.
import * as McpServer from "@nessus-mcp/mcp-server/McpServer"
import { Metrics } from "@nessus-mcp/mcp-server/Metrics"
import { ScanService } from "@nessus-mcp/mcp-server/ScanService"
import { Clock, Context, Effect, Exit, Schema, SchemaParser, Tracer } from "effect"
import { Tracing } from "@nessus-mcp/worker"
import * as Tools from "@nessus-mcp/mcp-server/Tools"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import * as Setup from "./setup.ts"

const fixture = fileURLToPath(new URL("../../../../shared/fixtures/nessus/pytenable__example.nessus", import.meta.url))
const dataDir = mkdtempSync(join(tmpdir(), "nessus-mcp-bench-"))
const n = Number(process.argv[2] ?? 20000)
const { ctx, taskId } = await Effect.runPromise(Effect.gen(function*() {
  const { taskId } = yield* Setup.completedTask(fixture, dataDir)
  const ctx = yield* Effect.context<ScanService | Metrics>()
  return { ctx, taskId }
}).pipe(Effect.provide(Setup.layer(dataDir, () => undefined))))
const run = Effect.runPromiseWith(ctx)
const tool = McpServer.bindings(Context.get(ctx, ScanService)).find((b) => b.definition.name === "get_scan_status")!
const service = Context.get(ctx, ScanService)
const std = Schema.toStandardSchemaV1(Tools.TaskIdInput as any, { parseOptions: { errors: "all", onExcessProperty: "error" } })["~standard"]
const dec = SchemaParser.decodeUnknownExit(Tools.TaskIdInput as any)
const encode1 = Schema.encodeUnknownExit(Tools.ScanStatusOutput as any)
const out0 = await run(service.getScanStatus({ task_id: taskId } as any, { tool: "get_scan_status", traceId: "0123456789abcdef0123456789abcdef", parentSpanId: undefined, principal: "bench", signal: new AbortController().signal }))
const out = out0
const enc = (o: unknown) => { const e = encode1(o); if (Exit.isFailure(e)) throw new Error("x"); return JSON.stringify(e.value) }
// @ts-ignore temporary
const Old = await import("../dist/_ToolCallOld.js")
const oldTool = Old.bind(tool.definition, service.getScanStatus)
const variants: Record<string, () => Promise<unknown>> = {
  executeOld: () => run(oldTool.execute({ task_id: taskId }, { tool: "get_scan_status", traceId: McpServer.traceIdOf(undefined), parentSpanId: undefined, principal: "bench", signal: new AbortController().signal })),
  execute: () => run(tool.execute({ task_id: taskId }, { tool: "get_scan_status", traceId: McpServer.traceIdOf(undefined), parentSpanId: undefined, principal: "bench", signal: new AbortController().signal })),
  handlerOnly: () => run(service.getScanStatus({ task_id: taskId } as any, { tool: "get_scan_status", traceId: "0123456789abcdef0123456789abcdef", parentSpanId: undefined, principal: "bench", signal: new AbortController().signal })),
  emptyRun: () => run(Effect.void),
  span: () => run(Effect.void.pipe(Tracing.withTrace("mcp.tool x", McpServer.traceIdOf(undefined), { "mcp.tool": "x", "mcp.principal": "p" }))),
  spanNoStack: () => run(Effect.withSpan(Effect.void, "mcp.tool x", { attributes: { "mcp.tool": "x", "mcp.principal": "p" }, captureStackTrace: false, parent: Tracer.externalSpan({ traceId: McpServer.traceIdOf(undefined), spanId: "0123456789abcdef", sampled: true }) })),
  log: () => run(Effect.logInfo("tool call succeeded").pipe(Effect.annotateLogs({ duration_ms: 1 }), Effect.annotateLogs({ trace_id: "0123456789abcdef0123456789abcdef", tool: "get_scan_status", principal: "bench" }))),
  promise: () => run(Effect.promise(async () => 1)),
  decodeStd: () => run(Effect.promise(async () => std.validate({ task_id: taskId }))),
  decodeSync: () => run(Effect.sync(() => dec({ task_id: taskId }, { errors: "all", onExcessProperty: "error" }))),
  encode: () => run(Effect.sync(() => enc(out))),
  metrics: () => run(Effect.gen(function*() { const m = yield* Metrics; yield* m.recordToolCall("get_scan_status", "ok") })),
  signal: () => run(Effect.void, { signal: new AbortController().signal }),
  clock: () => run(Effect.flatMap(Clock.currentTimeMillis, () => Clock.currentTimeMillis))
}
const only = (process.env["ONLY"] ?? "execute,handlerOnly").split(",")
const mins: Record<string, number> = {}
for (let round = 0; round < Number(process.env["ROUNDS"] ?? 5); round++) {
  for (const [name, f] of Object.entries(variants).filter(([k]) => only.includes(k))) {
    for (let i = 0; i < 500; i++) await f()
    const c0 = process.cpuUsage()
    const t0 = performance.now()
    const conc = Number(process.env["CONC"] ?? 1)
    let left = n
    await Promise.all(Array.from({ length: conc }, async () => { while (left-- > 0) await f() }))
    const c = process.cpuUsage(c0)
    const us = (c.user + c.system) / n
    mins[name] = Math.min(mins[name] ?? Infinity, us)
    void t0
  }
}
console.log(Object.entries(mins).map(([k, v]) => `${k} ${v.toFixed(1)} µs`).join("; "))
rmSync(dataDir, { recursive: true, force: true })
