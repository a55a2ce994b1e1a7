/**
 * The ten tools through a real SDK client over the stdio serving entry (in-memory linked transport), in both
 * protocol eras. The client validates structuredContent against each tool's outputSchema by itself.
 */
import { assert, layer } from "@effect/vitest"
import { Effect } from "effect"
import { baseLayer, connectLinked, Double, errorOf, Logs } from "./support/harness.js"

const findings = Array.from({ length: 5 }, (_, i) => ({
  host: `192.0.2.${i + 1}`,
  plugin_id: 10000 + i,
  plugin_name: i % 2 === 0 ? "SSH Weak Ciphers" : "TLS Version",
  severity: i,
  cve: [`CVE-2024-000${i}`],
  cvss3_base_score: 2 * i,
  exploit_available: i === 4,
  synopsis: "s",
  description: "d",
  solution: "fix",
  plugin_output: "long output"
}))

for (const mode of ["legacy", "auto"] as const) {
  layer(baseLayer({ allowInlineCredentials: true }), { excludeTestServices: true })(`tools over stdio serving (${mode} negotiation)`, (it) => {
    it.effect("lists the ten tools with schemas, output schemas and annotations", () =>
      Effect.gen(function*() {
        const client = yield* connectLinked(mode)
        const { tools } = yield* Effect.promise(() => client.listTools())
        assert.strictEqual(tools.length, 10)
        const byName = Object.fromEntries(tools.map((t) => [t.name, t]))
        assert.deepStrictEqual(byName["run_untrusted_scan"]!.annotations?.openWorldHint, true)
        assert.deepStrictEqual(byName["get_scan_results"]!.annotations?.readOnlyHint, true)
        assert.deepStrictEqual(byName["cancel_scan"]!.annotations?.destructiveHint, true)
        for (const tool of tools) {
          assert.strictEqual(tool.inputSchema.type, "object", tool.name)
          assert.strictEqual(tool.outputSchema?.type, "object", tool.name)
          assert.isAbove(tool.description?.length ?? 0, 80)
        }
        const status = (byName["list_tasks"]!.inputSchema.properties as Record<string, { enum?: Array<string> }>)["status"]
        assert.deepStrictEqual(status?.enum, ["queued", "running", "completed", "failed", "timeout", "cancelled"])
        if (mode === "auto") assert.strictEqual(client.getNegotiatedProtocolVersion(), "2026-07-28")
        else assert.match(client.getNegotiatedProtocolVersion() ?? "", /^2025-/)
      }))

    it.effect("submits, reports status, pages and filters findings, and cancels", () =>
      Effect.gen(function*() {
        const client = yield* connectLinked(mode)
        const double = yield* Double
        const submitted = yield* Effect.promise(() =>
          client.callTool({ name: "run_untrusted_scan", arguments: { targets: "192.0.2.0/29, web.example.com", name: "weekly" } }))
        assert.isUndefined(submitted.isError)
        const sc = submitted.structuredContent as Record<string, unknown>
        assert.strictEqual(sc["status"], "queued")
        assert.match(sc["trace_id"] as string, /^[\da-f]{32}$/)
        assert.deepStrictEqual(JSON.parse((submitted.content[0] as { text: string }).text), sc)
        const taskId = sc["task_id"] as string

        const queued = yield* Effect.promise(() => client.callTool({ name: "get_scan_status", arguments: { task_id: taskId } }))
        assert.strictEqual((queued.structuredContent as Record<string, unknown>)["queue_position"], sc["queue_position"])

        double.complete(taskId, findings)
        const done = (yield* Effect.promise(() => client.callTool({ name: "get_scan_status", arguments: { task_id: taskId } }))).structuredContent as any
        assert.strictEqual(done.status, "completed")
        assert.deepStrictEqual(done.results_summary.severity_breakdown, { critical: 1, high: 1, medium: 1, low: 1, info: 1 })

        const page1 = (yield* Effect.promise(() =>
          client.callTool({ name: "get_scan_results", arguments: { task_id: taskId, profile: "minimal", page_size: 2 } }))).structuredContent as any
        assert.strictEqual(page1.total, 5)
        assert.strictEqual(page1.findings.length, 2)
        assert.notProperty(page1.findings[0], "plugin_output")
        const page3 = (yield* Effect.promise(() =>
          client.callTool({ name: "get_scan_results", arguments: { task_id: taskId, profile: "minimal", page_size: 2, page: 3 } }))).structuredContent as any
        assert.strictEqual(page3.findings.length, 1)
        assert.isNull(page3.next_cursor)
        const page2 = (yield* Effect.promise(() =>
          client.callTool({ name: "get_scan_results", arguments: { task_id: taskId, profile: "minimal", page_size: 2, cursor: page1.next_cursor } }))).structuredContent as any
        assert.strictEqual(page2.page, 2)

        const high = yield* Effect.promise(() =>
          client.callTool({ name: "get_scan_results", arguments: { task_id: taskId, filters: { severity: ">=3" }, format: "jsonl" } }))
        assert.strictEqual((high.structuredContent as any).total, 2)
        const lines = (high.content[0] as { text: string }).text.split("\n").map((l) => JSON.parse(l))
        assert.deepStrictEqual(lines.map((l) => l.type), ["schema", "scan_metadata", "vulnerability", "vulnerability", "pagination"])

        const second = (yield* Effect.promise(() =>
          client.callTool({ name: "run_untrusted_scan", arguments: { targets: "192.0.2.9", name: "adhoc" } }))).structuredContent as any
        const cancelled = (yield* Effect.promise(() => client.callTool({ name: "cancel_scan", arguments: { task_id: second.task_id } }))).structuredContent as any
        assert.strictEqual(cancelled.outcome, "cancelled")
        const again = yield* Effect.promise(() => client.callTool({ name: "cancel_scan", arguments: { task_id: second.task_id } }))
        assert.isTrue(again.isError)
        assert.strictEqual(errorOf(again).code, "NOT_CANCELLABLE")

        const listed = (yield* Effect.promise(() => client.callTool({ name: "list_tasks", arguments: { limit: 1 } }))).structuredContent as any
        assert.strictEqual(listed.tasks[0].task_id, second.task_id)
        assert.isString(listed.next_cursor)

        for (const name of ["list_scanners", "list_pools", "get_pool_status", "get_queue_status"]) {
          const result = yield* Effect.promise(() => client.callTool({ name, arguments: {} }))
          assert.isUndefined(result.isError, name)
          assert.isObject(result.structuredContent, name)
        }
      }))

    it.effect("returns isError results naming the argument, and errors for unknown ids and out-of-scope targets", () =>
      Effect.gen(function*() {
        const client = yield* connectLinked(mode)
        const range = yield* Effect.promise(() => client.callTool({ name: "list_tasks", arguments: { limit: 0 } }))
        assert.isTrue(range.isError)
        assert.strictEqual(errorOf(range).code, "INVALID_ARGUMENT")
        assert.strictEqual(errorOf(range).field, "limit")
        assert.match(errorOf(range).trace_id, /^[\da-f]{32}$/)

        const type = yield* Effect.promise(() => client.callTool({ name: "get_scan_results", arguments: { task_id: 42 } }))
        assert.strictEqual(errorOf(type).field, "task_id")

        const badTargets = yield* Effect.promise(() => client.callTool({ name: "run_untrusted_scan", arguments: { targets: "192.0.2.1 | nc", name: "x" } }))
        assert.strictEqual(errorOf(badTargets).field, "targets")

        const unknown = yield* Effect.promise(() => client.callTool({ name: "get_scan_status", arguments: { task_id: "task_nope" } }))
        assert.strictEqual(errorOf(unknown).code, "TASK_NOT_FOUND")

        const scope = yield* Effect.promise(() => client.callTool({ name: "run_untrusted_scan", arguments: { targets: "203.0.113.5", name: "x" } }))
        assert.strictEqual(errorOf(scope).code, "TARGET_OUT_OF_SCOPE")
        assert.include(errorOf(scope).message, "203.0.113.5")

        const privileged = yield* Effect.promise(() =>
          client.callTool({ name: "run_authenticated_scan", arguments: { targets: "192.0.2.1", name: "x", scan_type: "authenticated_privileged", ssh_username: "u", ssh_password: "p" } }))
        assert.strictEqual(errorOf(privileged).field, "elevate_privileges_with")
      }))

    it.effect("never shows an inline password in results or logs", () =>
      Effect.gen(function*() {
        const client = yield* connectLinked(mode)
        const canary = `canary-pw-${mode}-5d1e9a`
        const result = yield* Effect.promise(() =>
          client.callTool({
            name: "run_authenticated_scan",
            arguments: { targets: "192.0.2.7", name: "creds", scan_type: "authenticated_privileged", ssh_username: "audit", ssh_password: canary, elevate_privileges_with: "sudo", escalation_password: canary }
          }))
        assert.isUndefined(result.isError)
        const double = yield* Double
        const task = double.tasks.get((result.structuredContent as any).task_id)!
        assert.strictEqual(task.receivedPassword ? "redacted" : "missing", "redacted")
        const status = yield* Effect.promise(() => client.callTool({ name: "get_scan_status", arguments: { task_id: task.summary.task_id } }))
        const listed = yield* Effect.promise(() => client.callTool({ name: "list_tasks", arguments: {} }))
        const logs = (yield* Logs).lines.join("\n")
        for (const text of [JSON.stringify(result), JSON.stringify(status), JSON.stringify(listed), logs]) {
          assert.notInclude(text, canary)
        }
        assert.include(logs, "\"tool\":\"run_authenticated_scan\"")
      }))
  })
}
