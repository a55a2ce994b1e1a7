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
 * - `bare`: a bare MCP SDK server (`@modelcontextprotocol/server`'s `McpServer`, built per request like ours)
 *   with one trivial tool, served by the same `createMcpHandler` on the same plain `node:http` setup as ours
 *   (body read and parsed once and passed as `parsedBody`, `Request`/`Response` conversion), without our
 *   checks, schemas, logging or backend.
 */
import { createMcpHandler } from "@modelcontextprotocol/server"
import * as HttpServer from "@nessus-mcp/mcp-server/HttpServer"
import { Effect, Redacted } from "effect"
import { mkdtempSync, rmSync } from "node:fs"
import * as http from "node:http"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { benchToken } from "./common.ts"
import * as Setup from "./setup.ts"

const announce = (facts: Record<string, unknown>) => process.stdout.write(`${JSON.stringify(facts)}\n`)

const fixture = fileURLToPath(new URL("../../../../shared/fixtures/nessus/pytenable__example.nessus", import.meta.url))

const ours = (source: string) => {
  const dataDir = mkdtempSync(join(tmpdir(), "nessus-mcp-bench-"))
  process.once("exit", () => rmSync(dataDir, { recursive: true, force: true }))
  const program = Effect.gen(function*() {
    const prepared = yield* Setup.completedTask(source, dataDir)
    const running = yield* HttpServer.serve({
      host: "127.0.0.1",
      port: 0,
      bearerTokens: [{ name: "bench", token: Redacted.make(benchToken) }],
      allowedHosts: [],
      maxBodyBytes: 1024 * 1024,
      readiness: []
    })
    announce({ url: running.mcpUrl, ...prepared })
    return yield* Effect.never
  })
  Effect.runFork(program.pipe(Effect.scoped, Effect.provide(Setup.layer(dataDir)), Effect.orDie))
}

/** The bare SDK server: one trivial tool, the same node:http → Request → createMcpHandler → Response path. */
const bare = () => {
  const handler = createMcpHandler(Setup.bareFactory, { legacy: "stateless", maxRequestBodySize: 1024 * 1024 })
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
      const body = req.method === "POST" ? Buffer.concat(chunks) : undefined
      const request = new Request(new URL(req.url ?? "/", `http://${req.headers.host}`), {
        method: req.method ?? "GET",
        headers,
        signal: abort.signal,
        ...(body === undefined ? {} : { body: new Uint8Array(body) })
      })
      // Like ours: the body read here is parsed once and handed over as `parsedBody` (non-JSON is left to the SDK).
      let parsedBody: unknown
      try {
        parsedBody = body === undefined || body.length === 0 ? undefined : JSON.parse(body.toString("utf8"))
      } catch {
        parsedBody = undefined
      }
      handler.fetch(request, parsedBody === undefined ? {} : { parsedBody }).then(async (response) => {
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
