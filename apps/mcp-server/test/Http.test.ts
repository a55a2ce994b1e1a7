/**
 * Streamable HTTP on 127.0.0.1 with the SDK client and raw requests: auth, DNS-rebinding checks, body limit,
 * health, metrics, older protocol revisions, and the refusal to bind publicly without tokens.
 */
import { assert, describe, it, layer } from "@effect/vitest"
import { Effect, Exit, Redacted } from "effect"
import * as HttpServer from "../src/HttpServer.js"
import { baseLayer, canaryToken, connectHttp, errorOf, Http, httpLayer, Logs, otherToken } from "./support/harness.js"

const post = (url: string, body: unknown, headers: Record<string, string> = {}) =>
  Effect.promise(() =>
    fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json, text/event-stream", ...headers },
      body: typeof body === "string" ? body : JSON.stringify(body)
    }))

/** Reads a JSON-RPC answer that may come as plain JSON or as one SSE event. */
const rpcBody = (response: Response) =>
  Effect.promise(async () => {
    const text = await response.text()
    const data = response.headers.get("content-type")?.includes("text/event-stream")
      ? text.split("\n").filter((l) => l.startsWith("data: ")).map((l) => l.slice(6)).join("")
      : text
    return JSON.parse(data) as { result?: any; error?: any }
  })

const initialize = (protocolVersion: string) => ({
  jsonrpc: "2.0",
  id: 1,
  method: "initialize",
  params: { protocolVersion, capabilities: {}, clientInfo: { name: "old-inspector", version: "0.1" } }
})

layer(httpLayer, { excludeTestServices: true })("Streamable HTTP", (it) => {
  it.effect("serves the SDK client in both eras with a bearer token: tools, structured results, errors", () =>
    Effect.gen(function*() {
      const { mcpUrl } = yield* Http
      for (const mode of ["legacy", "auto"] as const) {
        const client = yield* connectHttp(mcpUrl, { token: otherToken, mode })
        const { tools } = yield* Effect.promise(() => client.listTools())
        assert.strictEqual(tools.length, 10)
        assert.isTrue(tools.every((t) => t.outputSchema !== undefined && t.annotations !== undefined))
        const pools = yield* Effect.promise(() => client.callTool({ name: "list_pools", arguments: {} }))
        assert.deepStrictEqual(pools.structuredContent, { pools: [{ pool: "nessus", scanners: 2, capacity: 4, is_default: true }], default_pool: "nessus" })
        const bad = yield* Effect.promise(() => client.callTool({ name: "get_pool_status", arguments: { scanner_pool: "no such pool!" } }))
        assert.isTrue(bad.isError)
        assert.strictEqual(errorOf(bad).field, "scanner_pool")
      }
    }))

  it.effect("answers 401 with WWW-Authenticate for a missing or wrong token, before doing any work", () =>
    Effect.gen(function*() {
      const { mcpUrl } = yield* Http
      const missing = yield* post(mcpUrl, initialize("2025-06-18"))
      assert.strictEqual(missing.status, 401)
      assert.match(missing.headers.get("www-authenticate") ?? "", /^Bearer realm="nessus-mcp"/)
      const wrong = yield* post(mcpUrl, initialize("2025-06-18"), { authorization: `Bearer ${canaryToken}x` })
      assert.strictEqual(wrong.status, 401)
      assert.include(wrong.headers.get("www-authenticate") ?? "", "invalid_token")
      const notBearer = yield* post(mcpUrl, initialize("2025-06-18"), { authorization: `Basic ${canaryToken}` })
      assert.strictEqual(notBearer.status, 401)
      const exit = yield* Effect.exit(connectHttp(mcpUrl, {}))
      assert.isTrue(Exit.isFailure(exit))
    }))

  it.effect("refuses foreign Origins and Hosts with 403 (DNS rebinding) and accepts configured ones", () =>
    Effect.gen(function*() {
      const { mcpUrl } = yield* Http
      const auth = { authorization: `Bearer ${otherToken}` }
      assert.strictEqual((yield* post(mcpUrl, initialize("2025-06-18"), { ...auth, origin: "https://evil.example" })).status, 403)
      assert.strictEqual((yield* post(mcpUrl, initialize("2025-06-18"), { ...auth, origin: "null" })).status, 403)
      assert.strictEqual((yield* post(mcpUrl, initialize("2025-06-18"), { ...auth, origin: "http://localhost:3000" })).status, 200)
      assert.strictEqual((yield* post(mcpUrl, initialize("2025-06-18"), { ...auth, origin: "https://mcp.example.test" })).status, 200)
      const port = new URL(mcpUrl).port
      const rebound = yield* Effect.promise(() =>
        new Promise<number>((resolve, reject) => {
          // fetch cannot forge Host, so use node:http directly
          import("node:http").then(({ request }) => {
            const req = request({ host: "127.0.0.1", port, path: "/health/live", headers: { host: `attacker.example:${port}` } }, (res) => {
              res.resume()
              resolve(res.statusCode ?? 0)
            })
            req.once("error", reject)
            req.end()
          }, reject)
        }))
      assert.strictEqual(rebound, 403)
    }))

  it.effect("refuses bodies over the limit with 413", () =>
    Effect.gen(function*() {
      const { mcpUrl } = yield* Http
      const big = JSON.stringify({ ...initialize("2025-06-18"), padding: "x".repeat(70 * 1024) })
      const response = yield* post(mcpUrl, big, { authorization: `Bearer ${otherToken}` })
      assert.strictEqual(response.status, 413)
      assert.include(yield* Effect.promise(() => response.text()), "exceeds")
    }))

  it.effect("serves 2025-03-26 and 2025-06-18 clients speaking raw JSON-RPC", () =>
    Effect.gen(function*() {
      const { mcpUrl } = yield* Http
      for (const version of ["2025-03-26", "2025-06-18"]) {
        const auth = { authorization: `Bearer ${otherToken}` }
        const init = yield* rpcBody(yield* post(mcpUrl, initialize(version), auth))
        assert.strictEqual(init.result.protocolVersion, version)
        assert.strictEqual(init.result.serverInfo.name, "nessus-mcp")
        const headers = { ...auth, "mcp-protocol-version": version }
        const notified = yield* post(mcpUrl, { jsonrpc: "2.0", method: "notifications/initialized" }, headers)
        assert.strictEqual(notified.status, 202)
        const list = yield* rpcBody(yield* post(mcpUrl, { jsonrpc: "2.0", id: 2, method: "tools/list", params: {} }, headers))
        assert.strictEqual(list.result.tools.length, 10)
        const call = yield* rpcBody(yield* post(mcpUrl, { jsonrpc: "2.0", id: 3, method: "tools/call", params: { name: "list_pools", arguments: {} } }, headers))
        assert.strictEqual(call.result.structuredContent.default_pool, "nessus")
      }
    }))

  it.effect("serves /health/live, /health/ready and /health without a token", () =>
    Effect.gen(function*() {
      const { baseUrl } = yield* Http
      const live = yield* Effect.promise(() => fetch(`${baseUrl}/health/live`))
      assert.strictEqual(live.status, 200)
      for (const path of ["/health/ready", "/health"]) {
        const ready = yield* Effect.promise(() => fetch(`${baseUrl}${path}`))
        assert.strictEqual(ready.status, 200)
        assert.deepStrictEqual(yield* Effect.promise(() => ready.json()), { status: "ok", checks: { config: { status: "ok" } } })
      }
      assert.strictEqual((yield* Effect.promise(() => fetch(`${baseUrl}/nope`))).status, 404)
    }))

  it.effect("exposes Prometheus metrics whose tool counter moves with each call", () =>
    Effect.gen(function*() {
      const { baseUrl, mcpUrl } = yield* Http
      const scrape = Effect.promise(async () => {
        const response = await fetch(`${baseUrl}/metrics`)
        return { type: response.headers.get("content-type") ?? "", text: await response.text() }
      })
      const count = (text: string, status: string) => {
        const match = new RegExp(`^nessus_api_requests_total\\{tool="list_scanners",status="${status}"\\} (\\d+)$`, "m").exec(text)
        return match ? Number(match[1]) : 0
      }
      const before = yield* scrape
      assert.match(before.type, /^text\/plain; version=0\.0\.4/)
      assert.include(before.text, "process_cpu_user_seconds_total")
      const client = yield* connectHttp(mcpUrl, { token: otherToken })
      yield* Effect.promise(() => client.callTool({ name: "list_scanners", arguments: {} }))
      yield* Effect.promise(() => client.callTool({ name: "list_scanners", arguments: { scanner_pool: "other" } }))
      const after = yield* scrape
      assert.strictEqual(count(after.text, "ok"), count(before.text, "ok") + 1)
      assert.strictEqual(count(after.text, "POOL_NOT_FOUND"), count(before.text, "POOL_NOT_FOUND") + 1, "an error counts under its code")
    }))

  it.effect("logs structured JSON with trace ids and token names, never the token itself", () =>
    Effect.gen(function*() {
      const { mcpUrl } = yield* Http
      const client = yield* connectHttp(mcpUrl, { token: canaryToken })
      const result = yield* Effect.promise(() => client.callTool({ name: "get_scan_status", arguments: { task_id: "task_missing" } }))
      const traceId = errorOf(result).trace_id
      yield* post(mcpUrl, initialize("2025-06-18"), { authorization: `Bearer ${canaryToken}-wrong` })
      const lines = (yield* Logs).lines
      const entries = lines.map((l) => JSON.parse(l) as Record<string, unknown>)
      const call = entries.find((e) => e["trace_id"] === traceId)
      assert.isDefined(call)
      assert.strictEqual(call!["principal"], "canary")
      assert.strictEqual(call!["service"], "nessus-mcp")
      assert.strictEqual(call!["code"], "TASK_NOT_FOUND")
      assert.isString(call!["time"])
      assert.isString(call!["level"])
      assert.notInclude(lines.join("\n"), canaryToken)
      assert.notInclude(JSON.stringify(result), canaryToken)
    }))
})

describe("HTTP startup", () => {
  it.effect("refuses to listen on a non-loopback address without bearer tokens", () =>
    Effect.gen(function*() {
      const exit = yield* Effect.exit(Effect.scoped(HttpServer.serve({
        host: "0.0.0.0",
        port: 0,
        bearerTokens: [],
        allowedHosts: [],
        maxBodyBytes: 1024 * 1024,
        readiness: []
      })))
      assert.isTrue(Exit.isFailure(exit))
      const message = Exit.isFailure(exit) ? String(exit.cause) : ""
      assert.include(message, "MCP_BEARER_TOKENS")
      assert.include(message, "0.0.0.0")
    }).pipe(Effect.provide(baseLayer())))

  it("knows loopback addresses", () => {
    for (const host of ["127.0.0.1", "127.1.2.3", "::1", "[::1]", "localhost"]) assert.isTrue(HttpServer.isLoopback(host), host)
    for (const host of ["0.0.0.0", "::", "10.0.0.1", "example.com"]) assert.isFalse(HttpServer.isLoopback(host), host)
  })

  it("matches tokens by content and reports the token's name", () => {
    const tokens = [
      { name: "claude", token: Redacted.make(canaryToken) },
      { name: "ci", token: Redacted.make(otherToken) }
    ]
    assert.strictEqual(HttpServer.authenticate(tokens, otherToken), "ci")
    assert.strictEqual(HttpServer.authenticate(tokens, canaryToken), "claude")
    assert.isUndefined(HttpServer.authenticate(tokens, canaryToken.slice(0, -1)))
    assert.isUndefined(HttpServer.authenticate(tokens, ""))
    assert.isUndefined(HttpServer.authenticate([], otherToken))
  })
})
