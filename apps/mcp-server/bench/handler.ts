/**
 * `node bench/handler.ts [calls] [rounds]`: the per-call CPU cost of the MCP handler **in process**, without
 * sockets: `createMcpHandler(factory).fetch(Request)` for our factory (`McpServer.makeFactory` over the
 * benchmark's `SchedulerScanService`, `get_scan_status`, logs written to a no-op sink) and for the bare SDK
 * server's factory (one trivial tool), 50 calls in flight, both eras, alternating rounds.
 *
 * CPU time (`process.cpuUsage`, GC included) per call is what it reports: on a shared machine it moves far
 * less than wall time. It isolates the part of `bench:mcp` that our code changes (factory, tool call,
 * logging, metrics, tracing) from HTTP parsing and socket writes, which both servers share. What it leaves
 * out of ours: the Host/Origin and bearer checks and the body parse of `HttpServer` (a few µs).
 * `BENCH_ALL_TOOLS=1` builds every instance with all ten tools (no `calledToolOf`), to see what that costs.
 */
import { createMcpHandler } from "@modelcontextprotocol/server"
import * as McpServer from "@nessus-mcp/mcp-server/McpServer"
import { Effect } from "effect"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { type Era, fmt, machine, rpcResult, table, toolsCall } from "./common.ts"
import * as Setup from "./setup.ts"

const calls = Number(process.argv[2] ?? 4_000)
const rounds = Number(process.argv[3] ?? 6)
const concurrency = 50
const fixture = fileURLToPath(new URL("../../../../shared/fixtures/nessus/pytenable__example.nessus", import.meta.url))

type Fetch = (request: Request, options: { parsedBody?: unknown }) => Promise<Response>

/** Runs `calls` requests, `concurrency` at a time; returns CPU µs per call and checks one answer. */
const measure = async (fetch: Fetch, body: string, headers: Record<string, string>, check: (text: string) => boolean) => {
  const parsedBody = JSON.parse(body) as unknown
  const one = async () => {
    const response = await fetch(new Request("http://127.0.0.1/mcp", { method: "POST", headers, body }), { parsedBody })
    return response.text()
  }
  if (!check(await one())) throw new Error(`unexpected answer: ${(await one()).slice(0, 300)}`)
  let left = calls
  const cpu0 = process.cpuUsage()
  const t0 = performance.now()
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (left-- > 0) await one()
  }))
  const wallMs = performance.now() - t0
  const cpu = process.cpuUsage(cpu0)
  return { cpuUs: (cpu.user + cpu.system) / calls, wallUs: (wallMs * 1000) / calls }
}

const main = async () => {
  console.log(`in-process MCP handler: ${calls} calls × ${rounds} alternating rounds per server and era, ${concurrency} in flight; ${machine()}`)
  const dataDir = mkdtempSync(join(tmpdir(), "nessus-mcp-bench-"))
  try {
    const calledTools = new WeakMap<Request, string>()
    const { factory, taskId } = await Effect.runPromise(
      Effect.gen(function*() {
        const { taskId } = yield* Setup.completedTask(fixture, dataDir)
        const factory = yield* McpServer.makeFactory({
          defaultPrincipal: "bench",
          calledToolOf: process.env["BENCH_ALL_TOOLS"] ? undefined : (context) => (context.requestInfo === undefined ? undefined : calledTools.get(context.requestInfo))
        })
        return { factory, taskId }
      }).pipe(Effect.provide(Setup.layer(dataDir, () => undefined)))
    )
    const oursHandler = createMcpHandler(factory, { legacy: "stateless" })
    const bareHandler = createMcpHandler(Setup.bareFactory, { legacy: "stateless" })
    // As HttpServer does: tell the factory which tool the request calls.
    const ours: Fetch = (request, options) => {
      const tool = McpServer.calledTool(options.parsedBody)
      if (tool !== undefined) calledTools.set(request, tool)
      return oursHandler.fetch(request, options)
    }
    const bare: Fetch = (request, options) => bareHandler.fetch(request, options)
    const rows: Array<Array<string>> = []
    for (const era of ["2026-07-28", "2025-11-25"] as const satisfies ReadonlyArray<Era>) {
      const o = toolsCall(era, "get_scan_status", { task_id: taskId })
      const b = toolsCall(era, "ping", {})
      const os: Array<number> = []
      const bs: Array<number> = []
      for (let round = 0; round < rounds; round++) {
        os.push((await measure(ours, o.body, o.headers, (t) => rpcResult(t).result?.structuredContent?.status === "completed")).cpuUs)
        bs.push((await measure(bare, b.body, b.headers, (t) => rpcResult(t).result?.content?.[0]?.text === "ok")).cpuUs)
      }
      const median = (v: Array<number>) => [...v].sort((x, y) => x - y)[Math.floor(v.length / 2)]!
      const min = (v: Array<number>) => Math.min(...v)
      rows.push([era, "nessus-mcp get_scan_status", fmt(min(os), 1), fmt(median(os), 1)])
      rows.push([era, "bare SDK server, trivial tool", fmt(min(bs), 1), fmt(median(bs), 1)])
      rows.push([era, "**difference** (ours − bare)", fmt(min(os) - min(bs), 1), fmt(median(os) - median(bs), 1)])
    }
    console.log("")
    table(["protocol", "server", "CPU µs/call (min)", "CPU µs/call (median)"], rows, ["l", "l", "r", "r"])
    console.log(`(after the run: ${machine()})`)
    await Promise.all([oursHandler.close(), bareHandler.close()])
  } finally {
    rmSync(dataDir, { recursive: true, force: true })
  }
}

await main()
