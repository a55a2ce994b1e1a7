/**
 * Smoke test of the built executable over real stdio, spawned by the SDK's own StdioClientTransport: stdout
 * carries only protocol messages (the client would choke on anything else), logs are JSON on stderr. Run
 * `pnpm --filter @nessus-mcp/mcp-server build` first: this test spawns `bin/nessus-mcp.js` → `dist/`.
 */
import { Client } from "@modelcontextprotocol/client"
import { StdioClientTransport } from "@modelcontextprotocol/client/stdio"
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { existsSync, mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { errorOf } from "./support/harness.js"

const root = fileURLToPath(new URL("..", import.meta.url))
const bin = join(root, "bin", "nessus-mcp.js")
const canary = "stdio-canary-token-4471"

describe("nessus-mcp --transport stdio (spawned)", () => {
  it.effect("lists the tools, answers a call, and keeps stdout for the protocol", () =>
    Effect.gen(function*() {
      assert.isTrue(existsSync(join(root, "dist", "bin.js")), "build the package first: pnpm --filter @nessus-mcp/mcp-server build")
      const stderrText: Array<string> = []
      const dataDir = yield* Effect.acquireRelease(
        Effect.sync(() => mkdtempSync(join(tmpdir(), "nessus-mcp-"))),
        (dir) => Effect.sync(() => rmSync(dir, { recursive: true, force: true }))
      )
      const client = yield* Effect.acquireRelease(
        Effect.promise(async () => {
          const transport = new StdioClientTransport({
            command: process.execPath,
            args: [bin, "--transport", "stdio"],
            env: {
              PATH: process.env["PATH"] ?? "",
              DATA_DIR: dataDir,
              SCANNER_CONFIG: join(root, "..", "..", "config", "scanners.yaml"),
              LOG_LEVEL: "debug",
              MCP_BEARER_TOKENS: `ci:${canary}`
            },
            stderr: "pipe"
          })
          transport.stderr?.on("data", (chunk: Buffer) => stderrText.push(chunk.toString("utf8")))
          const client = new Client({ name: "stdio-smoke", version: "1.0.0" })
          const errors: Array<Error> = []
          client.onerror = (error) => errors.push(error)
          await client.connect(transport)
          return Object.assign(client, { protocolErrors: errors })
        }),
        (client) => Effect.promise(() => client.close().catch(() => undefined))
      )
      const { tools } = yield* Effect.promise(() => client.listTools())
      assert.strictEqual(tools.length, 10)
      // no REDIS_URL: the in-memory scheduler over the repository's scanners.yaml
      const result = yield* Effect.promise(() => client.callTool({ name: "list_pools", arguments: {} }))
      assert.isUndefined(result.isError)
      assert.deepStrictEqual(result.structuredContent, { pools: [{ pool: "nessus", scanners: 2, capacity: 4, is_default: true }], default_pool: "nessus" })
      const unknown = yield* Effect.promise(() => client.callTool({ name: "get_scan_status", arguments: { task_id: "t_0000000000000000000000" } }))
      assert.strictEqual(errorOf(unknown).code, "TASK_NOT_FOUND")
      assert.deepStrictEqual(client.protocolErrors, [])
      yield* Effect.promise(() => client.close())
      const lines = stderrText.join("").split("\n").filter((line) => line.trim().length > 0)
      assert.isAbove(lines.length, 0)
      for (const line of lines) {
        const entry = JSON.parse(line) as Record<string, unknown>
        assert.strictEqual(entry["service"], "nessus-mcp")
      }
      assert.isTrue(lines.some((line) => line.includes("TASK_NOT_FOUND") && line.includes("trace_id")))
      assert.notInclude(stderrText.join(""), canary)
    }))
})
