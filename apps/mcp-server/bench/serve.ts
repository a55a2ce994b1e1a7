/**
 * The server side of the benchmarks, run as a child process so that the load generator does not share its
 * event loop: `node bench/serve.ts <mode> [export]` prints one JSON line (`{ url, ... }`) once it listens and
 * serves until SIGTERM.
 *
 * - `ours`: the product's HTTP transport (`HttpServer.serve`: Host/Origin checks, bearer token, body limit,
 *   the SDK's `createMcpHandler`) over the product's `SchedulerScanService` on the **in-memory** scheduler
 *   (no Redis), JSON logs at `info` to stderr as `nessus-mcp` writes them by default. One completed task is
 *   prepared the way a worker leaves it (claimed, findings index built under `DATA_DIR/<task>/index`,
 *   completed): from the shared fixture, or from `export` (a `.nessus` path) when given.
 * - `bare`: a bare MCP SDK server (`@modelcontextprotocol/server`'s `McpServer`) with one trivial tool, served
 *   by the same `createMcpHandler` on the same plain `node:http` setup (body read, `Request`/`Response`
 *   conversion), without our checks, schemas, logging or backend.
 */
import { createMcpHandler, McpServer } from "@modelcontextprotocol/server"
import * as HttpServer from "@nessus-mcp/mcp-server/HttpServer"
import * as Logging from "@nessus-mcp/mcp-server/Logging"
import * as Metrics from "@nessus-mcp/mcp-server/Metrics"
import * as SchedulerScanService from "@nessus-mcp/mcp-server/SchedulerScanService"
import * as ServerConfig from "@nessus-mcp/mcp-server/ServerConfig"
import { Credentials, ScannerConfig, Scheduler } from "@nessus-mcp/scheduler"
import { FindingsIndex } from "@nessus-mcp/validator"
import { Effect, Layer, Option, Redacted } from "effect"
import { mkdtempSync, rmSync } from "node:fs"
import * as http from "node:http"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { benchToken } from "./common.ts"


const fixture = fileURLToPath(new URL("../../../../shared/fixtures/nessus/pytenable__example.nessus", import.meta.url))

const scannersYaml = `
default_pool: nessus
pools:
  nessus:
    allowed_targets: [10.0.0.0/8, 192.0.2.0/24]
    max_targets: 65536
    scanners:
      - { instance_id: scanner1, name: One, url: "http://127.0.0.1:9", username: u, password: p, max_concurrent_scans: 2 }
`

const announce = (facts: Record<string, unknown>) => process.stdout.write(`${JSON.stringify(facts)}\n`)

const ours = (source: string) => {
  const dataDir = mkdtempSync(join(tmpdir(), "nessus-mcp-bench-"))
  process.once("exit", () => rmSync(dataDir, { recursive: true, force: true }))
  const program = Effect.gen(function*() {
    const scheduler = yield* Scheduler.Scheduler
    const { task } = yield* scheduler.submit({ scanType: "untrusted", targets: "10.0.0.0/22", name: "bench" })
    const claim = Option.getOrThrow(yield* scheduler.claim({ worker: "bench-worker" }))
    yield* scheduler.setPhase(claim.lease, "validating", { nessusScanId: 7 })
    const started = performance.now()
    const built = yield* FindingsIndex.build(source, join(dataDir, task.id, "index"), { scanType: "untrusted" })
    const indexMs = performance.now() - started
    yield* scheduler.complete(claim.lease, { validation: built.verdict, authenticationStatus: built.verdict.authentication_status })
    const running = yield* HttpServer.serve({
      host: "127.0.0.1",
      port: 0,
      bearerTokens: [{ name: "bench", token: Redacted.make(benchToken) }],
      allowedHosts: [],
      maxBodyBytes: 1024 * 1024,
      readiness: []
    })
    announce({ url: running.mcpUrl, taskId: task.id, findings: built.findings, indexMs, indexBytes: built.index_bytes })
    return yield* Effect.never
  })
  const layer = Layer.unwrap(Effect.gen(function*() {
    const config = yield* ServerConfig.load({}, { DATA_DIR: dataDir })
    const backend = Scheduler.layerMemory().pipe(
      Layer.provideMerge(Credentials.layer()),
      Layer.provideMerge(ScannerConfig.layerText(scannersYaml))
    )
    return Layer.mergeAll(SchedulerScanService.layer, Metrics.layer, Logging.layer({ service: "nessus-mcp", level: "Info" })).pipe(
      Layer.provideMerge(backend),
      Layer.provide(Layer.succeed(ServerConfig.ServerConfig, config))
    )
  }))
  Effect.runFork(program.pipe(Effect.scoped, Effect.provide(layer), Effect.orDie))
}

/** The bare SDK server: one trivial tool, the same node:http → Request → createMcpHandler → Response path. */
const bare = () => {
  const factory = () => {
    const server = new McpServer({ name: "bare", version: "1.0.0" }, { capabilities: { tools: {} } })
    server.registerTool("ping", { description: "Answers ok." }, async () => ({ content: [{ type: "text", text: "ok" }] }))
    return server
  }
  const handler = createMcpHandler(factory, { legacy: "stateless", maxRequestBodySize: 1024 * 1024 })
  const server = http.createServer({ requestTimeout: 120_000 }, (req, res) => {
    const chunks: Array<Buffer> = []
    req.on("data", (c: Buffer) => chunks.push(c))
    req.once("end", () => {
      const headers = new Headers()
      for (const [name, value] of Object.entries(req.headers)) {
        if (value === undefined) continue
        if (Array.isArray(value)) for (const v of value) headers.append(name, v)
        else headers.set(name, value)
      }
      const abort = new AbortController()
      res.once("close", () => abort.abort())
      const request = new Request(new URL(req.url ?? "/", `http://${req.headers.host}`), {
        method: req.method ?? "GET",
        headers,
        signal: abort.signal,
        ...(req.method === "POST" ? { body: new Uint8Array(Buffer.concat(chunks)) } : {})
      })
      handler.fetch(request).then(async (response) => {
        const out: Record<string, string> = {}
        response.headers.forEach((value, name) => {
          out[name] = value
        })
        res.writeHead(response.status, out)
        if (response.body === null) return void res.end()
        const reader = response.body.getReader()
        for (;;) {
          const { done, value } = await reader.read()
          if (done) break
          if (!res.write(value)) await new Promise<void>((resolve) => res.once("drain", () => resolve()))
        }
        res.end()
      }).catch(() => res.destroy())
    })
  })
  server.listen(0, "127.0.0.1", () => {
    const address = server.address()
    announce({ url: `http://127.0.0.1:${typeof address === "object" && address !== null ? address.port : 0}/mcp` })
  })
}

const [mode, source] = process.argv.slice(2)
process.once("SIGTERM", () => process.exit(0))
if (mode === "bare") bare()
else if (mode === "ours") ours(source ?? fixture)
else {
  process.stderr.write("usage: node bench/serve.ts ours [export.nessus] | bare\n")
  process.exit(2)
}
