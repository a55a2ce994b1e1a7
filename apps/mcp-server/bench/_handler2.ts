// temporary decomposition (not committed)
import { createMcpHandler, McpServer as Sdk } from "@modelcontextprotocol/server"
import * as McpServer from "@nessus-mcp/mcp-server/McpServer"
import { Effect } from "effect"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { rpcResult, toolsCall } from "./common.ts"
import * as Setup from "./setup.ts"

const fixture = fileURLToPath(new URL("../../../../shared/fixtures/nessus/pytenable__example.nessus", import.meta.url))
const dataDir = mkdtempSync(join(tmpdir(), "nessus-mcp-bench-"))
const calledTools = new WeakMap<Request, string>()
const { factory, taskId } = await Effect.runPromise(Effect.gen(function*() {
  const { taskId } = yield* Setup.completedTask(fixture, dataDir)
  const factory = yield* McpServer.makeFactory({ defaultPrincipal: "bench", calledToolOf: (c) => c.requestInfo && calledTools.get(c.requestInfo) })
  return { factory, taskId }
}).pipe(Effect.provide(Setup.layer(dataDir, process.env["SINK"] ? undefined : () => undefined))))
const ours = createMcpHandler(factory, { legacy: "stateless" })
const era = (process.env["ERA"] ?? "2026-07-28") as "2026-07-28"
const o = toolsCall(era, "get_scan_status", { task_id: taskId })
const first = rpcResult(await (await ours.fetch(new Request("http://127.0.0.1/mcp", { method: "POST", headers: o.headers, body: o.body }), { parsedBody: JSON.parse(o.body) })).text()).result
const canned = { content: first.content, structuredContent: first.structuredContent }
// our tool's config, taken from a full server
const probe = (await factory({ era: "modern" })) as any
const cfg = probe._registeredTools["get_scan_status"]
const shapeFactory = () => {
  const s = new Sdk({ name: "x", version: "1" }, { capabilities: { tools: {} } })
  s.registerTool("get_scan_status", { title: cfg.title, description: cfg.description, inputSchema: cfg.inputSchema, outputSchema: cfg.outputSchema, annotations: cfg.annotations }, async () => canned)
  return s
}
const shape = createMcpHandler(shapeFactory, { legacy: "stateless" })
const bareCanned = (big: boolean) => () => {
  const s = new Sdk({ name: "x", version: "1" }, { capabilities: { tools: {} } })
  s.registerTool("get_scan_status", { description: "x" }, async () => (big ? canned : { content: [{ type: "text", text: "ok" }] }))
  return s
}
import { Context } from "effect"
import { ScanService } from "@nessus-mcp/mcp-server/ScanService"
const ctx2 = await Effect.runPromise(Effect.context<any>().pipe(Effect.provide(Setup.layer(dataDir, () => undefined))) as any) as any
const run2 = Effect.runPromiseWith(ctx2)
const bind = McpServer.bindings(Context.get(ctx2, ScanService) as any).find((b) => b.definition.name === "get_scan_status")!
const mk = (h: (args: any, c: any) => any) => createMcpHandler(() => {
  const s = new Sdk({ name: "x", version: "1" }, { capabilities: { tools: {} } })
  s.registerTool("get_scan_status", { title: cfg.title, description: cfg.description, inputSchema: cfg.inputSchema, outputSchema: cfg.outputSchema, annotations: cfg.annotations }, h)
  return s
}, { legacy: "stateless" })
const runCanned = mk(() => run2(Effect.succeed(canned)))
const runCannedSig = mk((_a: any, c: any) => run2(Effect.succeed(canned), { signal: c.mcpReq.signal }))
const execNoSig = mk((a: any) => run2(bind.execute(a, { tool: "get_scan_status", traceId: McpServer.traceIdOf(undefined), parentSpanId: undefined, principal: "bench", signal: undefined as any })))
const bareBig = createMcpHandler(bareCanned(true), { legacy: "stateless" })
const bareSmall = createMcpHandler(bareCanned(false), { legacy: "stateless" })
const measure = async (h: typeof ours) => {
  const parsedBody = JSON.parse(o.body)
  let left = 3000
  const c0 = process.cpuUsage()
  await Promise.all(Array.from({ length: 50 }, async () => {
    while (left-- > 0) {
      const request = new Request("http://127.0.0.1/mcp", { method: "POST", headers: o.headers, body: o.body })
      calledTools.set(request, "get_scan_status")
      await (await h.fetch(request, { parsedBody })).text()
    }
  }))
  const c = process.cpuUsage(c0)
  return (c.user + c.system) / 3000
}
const mins: Record<string, number> = {}
for (let r = 0; r < 6; r++) {
  for (const [k, h] of Object.entries({ ours, execNoSig, runCannedSig, runCanned, shape, bareBig, bareSmall })) mins[k] = Math.min(mins[k] ?? Infinity, await measure(h))
}
console.log(era, Object.entries(mins).map(([k, v]) => `${k} ${v.toFixed(1)}`).join("; "))
rmSync(dataDir, { recursive: true, force: true })
