/**
 * Logs and traces across processes, in the production topology: the MCP server (`Main.program` over HTTP,
 * scheduler on Redis) and a worker (`@nessus-mcp/worker`'s `Main.layer`, the body of `nessus-mcp-worker`)
 * share a Redis under a unique prefix and drive the simulator; both export spans to an OTLP/HTTP receiver on
 * 127.0.0.1 (`OTEL_EXPORTER_OTLP_ENDPOINT`) and their JSON log lines are captured.
 *
 * A credentialed scan submitted with an inline canary password and the caller's `traceparent` runs to its
 * end; then the canary is in no log line of either process nor in any exported span, and the caller's trace
 * id is in the tool call's log line and span, in every worker log line about the task, and on the worker's
 * task span and each Nessus request span.
 */
import { assert, describe, it } from "@effect/vitest"
import { Credentials } from "@nessus-mcp/scheduler"
import { Simulator } from "@nessus-mcp/nessus-simulator"
import { Logging as WorkerLogging, Main as WorkerMain, WorkerConfig } from "@nessus-mcp/worker"
import { Effect, Exit, Layer, Scope } from "effect"
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import * as Backend from "../src/Backend.js"
import { connectHttp } from "./support/harness.js"
import { requireBuilt, scannersYaml, serverBin, spawnNode, waitFor, freePort } from "./support/e2e.js"
import { collector, serveProgram, spansOf } from "./support/observability.js"

const redisUrl = process.env["REDIS_URL"] ?? ""
const canary = `canary-obs-${Date.now().toString(36)}-pw`

const parse = (lines: ReadonlyArray<string>) => lines.map((l) => JSON.parse(l) as Record<string, unknown>)

describe("one trace id from the tool call to each Nessus request; no secret in any log or span", () => {
  it.live("a credentialed scan with an inline canary password, traced from the caller's traceparent", () =>
    Effect.gen(function*() {
      const otlp = yield* collector
      const sim = yield* Effect.acquireRelease(
        Effect.promise(() => Simulator.start({ scanners: [{ id: "scanner1", scanDurationMs: 300, exportDelayMs: 20 }] })),
        (s) => Effect.promise(() => s.close())
      )
      const dir = yield* Effect.acquireRelease(
        Effect.sync(() => mkdtempSync(join(tmpdir(), "nessus-mcp-obs-"))),
        (d) => Effect.sync(() => rmSync(d, { recursive: true, force: true }))
      )
      const file = join(dir, "scanners.yaml")
      writeFileSync(file, scannersYaml(sim.scanners.map((s) => s.url)))
      const shared = {
        REDIS_URL: redisUrl,
        REDIS_KEY_PREFIX: `{obs-${Date.now()}}:`,
        SCANNER_CONFIG: file,
        DATA_DIR: join(dir, "data"),
        CREDENTIALS_KEY: Credentials.generateKey(),
        LOG_LEVEL: "debug",
        OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url,
        OTEL_EXPORTER_OTLP_PROTOCOL: "http/json"
      }

      // The worker process's body, with its own log capture; its scope closing is its graceful stop.
      const workerLines: Array<string> = []
      const settings = yield* WorkerConfig.load({
        ...shared,
        METRICS_PORT: "0",
        HOUSEKEEPING_INTERVAL: "off",
        WORKER_POLL_INITIAL: "50 millis",
        WORKER_POLL_MAX: "200 millis",
        WORKER_IDLE_INTERVAL: "50 millis",
        WORKER_HEARTBEAT_INTERVAL: "300 millis"
      })
      const workerScope = yield* Scope.make()
      yield* Layer.buildWithScope(
        WorkerMain.layer(settings).pipe(Layer.provide(WorkerLogging.layer({ level: "Debug", sink: (l) => workerLines.push(l) }))),
        workerScope
      )

      // The MCP server, in a scope of its own so that closing it flushes its exporter before the checks.
      const serverLines: Array<string> = []
      const serverScope = yield* Scope.make()
      const running = yield* serveProgram({ ...shared, MCP_TRANSPORT: "http" }, Backend.layer({ worker: "never" }), serverLines).pipe(
        Scope.provide(serverScope)
      )
      const client = yield* connectHttp(running.mcpUrl).pipe(Scope.provide(serverScope))

      const traceId = "4bf92f3577b34da6a3ce929d0e0e4736".replace(/^..../, Date.now().toString(16).slice(-4))
      const callerSpan = "00f067aa0ba902b7"
      const submitted = yield* Effect.promise(() =>
        client.callTool({
          name: "run_authenticated_scan",
          arguments: { targets: "192.0.2.10", name: "traced login", scan_type: "authenticated", ssh_username: "scanuser", ssh_password: canary },
          _meta: { traceparent: `00-${traceId}-${callerSpan}-01` }
        }) as Promise<any>
      )
      assert.isUndefined(submitted.isError, JSON.stringify(submitted.content))
      const taskId: string = submitted.structuredContent.task_id
      assert.strictEqual(submitted.structuredContent.trace_id, traceId, "the task keeps the caller's trace id")
      const final = yield* Effect.promise(() =>
        waitFor("the scan to end", async () => {
          const s = (await client.callTool({ name: "get_scan_status", arguments: { task_id: taskId } }) as any).structuredContent
          return ["completed", "failed"].includes(s.status) ? s : undefined
        }, 30_000, 100)
      )
      // The canary is not the simulator's password: the verdict is a failed login, with findings kept.
      assert.strictEqual(final.status, "failed")
      assert.strictEqual(final.authentication_status, "failed")

      yield* Scope.close(serverScope, Exit.void)
      yield* Scope.close(workerScope, Exit.void)

      // Logs: JSON lines with level, time, message and service, from both processes.
      const server = parse(serverLines)
      const worker = parse(workerLines)
      for (const line of [...server, ...worker]) {
        for (const key of ["level", "time", "message", "service"]) assert.property(line, key)
      }
      const toolCall = server.find((l) => l["tool"] === "run_authenticated_scan" && l["message"] === "tool call succeeded")
      assert.isDefined(toolCall, "the tool call is logged")
      assert.strictEqual(toolCall!["trace_id"], traceId)
      assert.strictEqual(toolCall!["service"], "nessus-mcp")
      assert.isTrue(server.some((l) => l["task_id"] === taskId && l["trace_id"] === traceId), "the submission line names the task and the trace")
      const taskLines = worker.filter((l) => l["task_id"] === taskId)
      assert.isAbove(taskLines.length, 2)
      for (const line of taskLines) {
        assert.strictEqual(line["trace_id"], traceId)
        assert.strictEqual(line["service"], "worker")
        assert.strictEqual(line["scanner"], "scanner1")
      }

      // Spans: the tool call under the caller's span, the worker's task span and each Nessus request span.
      const spans = spansOf(otlp.bodies)
      const inTrace = spans.filter((s) => s.traceId === traceId)
      const tool = inTrace.find((s) => s.name === "mcp.tool run_authenticated_scan")
      assert.isDefined(tool, `spans: ${spans.map((s) => s.name).join(", ")}`)
      assert.strictEqual(tool!.service, "nessus-mcp")
      assert.strictEqual(tool!.parentSpanId, callerSpan)
      const task = inTrace.find((s) => s.name === "worker.task")
      assert.isDefined(task)
      assert.strictEqual(task!.service, "nessus-mcp-worker")
      assert.strictEqual(task!.attributes["nessus.task_id"], taskId)
      const nessus = inTrace.filter((s) => s.name.startsWith("NessusClient."))
      for (const op of ["scans.create", "scans.launch", "scans.details"]) {
        assert.isTrue(nessus.some((s) => s.name === `NessusClient.${op}`), `a span for ${op}`)
      }
      const requests = inTrace.filter((s) => s.attributes["http.request.method"] !== undefined)
      assert.isAbove(requests.length, nessus.length - 1, "a span per HTTP request to Nessus, in the same trace")
      assert.isTrue(requests.every((s) => s.service === "nessus-mcp-worker"))

      // The canary: in no log line of either process, in no span.
      const everything = { "server log": serverLines.join("\n"), "worker log": workerLines.join("\n"), spans: otlp.bodies.map((b) => b.body.toString("utf8")).join("\n") }
      for (const [where, text] of Object.entries(everything)) {
        assert.isAbove(text.length, 0, where)
        assert.notInclude(text, canary, `the canary leaked into the ${where}`)
      }
    }).pipe(Effect.scoped))
})

describe("where the logs go", () => {
  it.live("nessus-mcp over HTTP writes its JSON log lines to stdout (over stdio they go to stderr: see Stdio.test.ts)", () =>
    Effect.gen(function*() {
      requireBuilt()
      const port = yield* Effect.promise(freePort)
      const dir = yield* Effect.acquireRelease(
        Effect.sync(() => mkdtempSync(join(tmpdir(), "nessus-mcp-stdout-"))),
        (d) => Effect.sync(() => rmSync(d, { recursive: true, force: true }))
      )
      const file = join(dir, "scanners.yaml")
      writeFileSync(file, scannersYaml(["http://127.0.0.1:9"]))
      const proc = yield* Effect.acquireRelease(
        Effect.sync(() =>
          spawnNode(serverBin, ["--transport", "http", "--port", String(port)], {
            SCANNER_CONFIG: file,
            DATA_DIR: join(dir, "data")
          })
        ),
        (p) => Effect.promise(() => p.stop())
      )
      const stdout: Array<string> = []
      const stderr: Array<string> = []
      proc.child.stdout?.on("data", (c: Buffer) => stdout.push(c.toString("utf8")))
      proc.child.stderr?.on("data", (c: Buffer) => stderr.push(c.toString("utf8")))
      yield* Effect.promise(() =>
        waitFor("the server to log that it listens", async () => (stdout.join("").includes("listening") ? true : undefined), 20_000, 100)
      )
      const lines = stdout.join("").split("\n").filter((l) => l.trim().length > 0).map((l) => JSON.parse(l) as Record<string, unknown>)
      assert.isAbove(lines.length, 0)
      for (const line of lines) {
        assert.strictEqual(line["service"], "nessus-mcp")
        assert.isString(line["time"])
        assert.isString(line["level"])
      }
      assert.strictEqual(stderr.join(""), "", "nothing on stderr")
    }).pipe(Effect.scoped))
})
