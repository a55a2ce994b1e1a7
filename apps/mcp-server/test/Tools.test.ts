import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit, Redacted } from "effect"
import * as AppError from "../src/AppError.js"
import * as McpServer from "../src/McpServer.js"
import * as ToolCall from "../src/ToolCall.js"
import * as Tools from "../src/Tools.js"

const decodeFailure = <I, IE, O, OE>(definition: Tools.Definition<I, IE, O, OE>, args: unknown) =>
  Effect.gen(function*() {
    const exit = yield* Effect.exit(ToolCall.decodeArguments(definition)(args))
    assert.isTrue(Exit.isFailure(exit), "expected the arguments to be refused")
    const error = Exit.isFailure(exit) ? exit.cause.reasons[0] : undefined
    assert.isDefined(error)
    assert.strictEqual(error?._tag, "Fail")
    return (error as unknown as { error: AppError.AppError }).error
  })

describe("targets argument (the scheduler's grammar)", () => {
  it.effect("accepts IPs, CIDRs, ranges and hostnames separated by commas or spaces", () =>
    Effect.gen(function*() {
      const input = yield* ToolCall.decodeArguments(Tools.runUntrustedScan)({
        name: "n",
        targets: "192.0.2.10, 198.51.100.0/28 192.0.2.1-20,192.0.2.1-192.0.2.9\n2001:db8::1 2001:db8::/64 DB1.Example.com"
      })
      assert.include(input.targets, "DB1.Example.com")
    }))

  it.effect("refuses metacharacters, URLs, bad CIDRs, reversed ranges and malformed IPs, naming the entry", () =>
    Effect.gen(function*() {
      for (const [input, fragment] of [
        ["10.0.0.1;rm -rf /", "10.0.0.1;rm"],
        ["<script>", "<script>"],
        ["http://host.example.com", "http://host.example.com"],
        ["10.0.0.0/33", "10.0.0.0/33"],
        ["10.0.0.9-10.0.0.1", "10.0.0.9-10.0.0.1"],
        ["10.0.0.9-3", "10.0.0.9-3"],
        ["999.1.1.1", "999.1.1.1"],
        ["-bad.example.com", "-bad.example.com"],
        ["  ,, ", "no targets"]
      ] as const) {
        const error = yield* decodeFailure(Tools.runUntrustedScan, { name: "n", targets: input })
        assert.strictEqual(error.field, "targets", input)
        assert.include(error.message, fragment, input)
      }
    }))
})

describe("argument decoding", () => {
  it.effect("names the argument that is out of range", () =>
    Effect.gen(function*() {
      const error = yield* decodeFailure(Tools.getScanResults, { task_id: "task_1", page_size: 500 })
      assert.strictEqual(error.reason, "InvalidArgument")
      assert.strictEqual(error.field, "page_size")
      assert.include(error.message, "page_size")
      assert.include(error.message, "between 1 and 200")
    }))

  it.effect("names wrong types, unknown enum values, misspelt and missing arguments", () =>
    Effect.gen(function*() {
      assert.strictEqual((yield* decodeFailure(Tools.listTasks, { limit: "ten" })).field, "limit")
      assert.strictEqual((yield* decodeFailure(Tools.listTasks, { status: "done" })).field, "status")
      assert.strictEqual((yield* decodeFailure(Tools.listTasks, { statuss: "queued" })).field, "statuss")
      assert.strictEqual((yield* decodeFailure(Tools.getScanStatus, {})).field, "task_id")
      assert.strictEqual((yield* decodeFailure(Tools.getScanStatus, { task_id: "../../etc/passwd" })).field, "task_id")
      assert.strictEqual((yield* decodeFailure(Tools.getScanResults, { task_id: "t1", fields: ["host", "Bad Field"] })).field, "fields[1]")
    }))

  it.effect("names targets with bad syntax and says which entry", () =>
    Effect.gen(function*() {
      const error = yield* decodeFailure(Tools.runUntrustedScan, { targets: "192.0.2.1, $(reboot)", name: "x" })
      assert.strictEqual(error.field, "targets")
      assert.include(error.message, "$(reboot)")
    }))

  it.effect("applies the cross-argument rules of run_authenticated_scan and get_scan_results", () =>
    Effect.gen(function*() {
      const base = { targets: "192.0.2.1", name: "n" }
      assert.strictEqual((yield* decodeFailure(Tools.runAuthenticatedScan, { ...base, scan_type: "authenticated" })).field, "credential")
      assert.strictEqual((yield* decodeFailure(Tools.runAuthenticatedScan, { ...base, scan_type: "authenticated", credential: "c1", ssh_username: "u", ssh_password: "p" })).field, "credential")
      assert.strictEqual((yield* decodeFailure(Tools.runAuthenticatedScan, { ...base, scan_type: "authenticated", ssh_password: "p" })).field, "ssh_username")
      const privileged = yield* decodeFailure(Tools.runAuthenticatedScan, { ...base, scan_type: "authenticated_privileged", ssh_username: "u", ssh_password: "p" })
      assert.strictEqual(privileged.field, "elevate_privileges_with")
      // a stored credential brings its own escalation
      const stored = yield* decodeFailure(Tools.runAuthenticatedScan, { ...base, scan_type: "authenticated_privileged", credential: "c1", elevate_privileges_with: "sudo" })
      assert.strictEqual(stored.field, "elevate_privileges_with")
      assert.strictEqual((yield* decodeFailure(Tools.getScanResults, { task_id: "t1", profile: "full", fields: ["host"] })).field, "fields")
      assert.strictEqual((yield* decodeFailure(Tools.getScanResults, { task_id: "t1", cursor: "abc", page: 2 })).field, "page")
    }))

  it.effect("decodes passwords into Redacted values and treats null as not given", () =>
    Effect.gen(function*() {
      const input = yield* ToolCall.decodeArguments(Tools.runAuthenticatedScan)({
        targets: "192.0.2.1",
        name: "n",
        scan_type: "authenticated_privileged",
        ssh_username: "auditor",
        ssh_password: "canary-password-123",
        elevate_privileges_with: "sudo",
        description: null
      })
      assert.isTrue(Redacted.isRedacted(input.ssh_password))
      assert.strictEqual(Redacted.value(input.ssh_password!), "canary-password-123")
      assert.notInclude(JSON.stringify(input), "canary-password-123")
      assert.notInclude(String(input.ssh_password), "canary-password-123")
      assert.isFalse("description" in input)
    }))
})

describe("result conversion", () => {
  it("renders AppErrors as isError results with code, message, trace id and field, without structuredContent", () => {
    const result = ToolCall.toCallToolResult(Exit.fail(AppError.taskNotFound("task_9")), "abc123")
    assert.isTrue(result.isError)
    assert.isUndefined(result.structuredContent)
    const body = JSON.parse((result.content[0] as { text: string }).text) as ToolCall.ErrorBody
    assert.deepStrictEqual(body.error, {
      code: "TASK_NOT_FOUND",
      message: AppError.taskNotFound("task_9").message,
      trace_id: "abc123",
      retryable: false,
      field: "task_id"
    })
  })

  it("hides defects behind INTERNAL", () => {
    const result = ToolCall.toCallToolResult(Exit.die(new Error("secret stack detail")), "t-1")
    const text = (result.content[0] as { text: string }).text
    assert.include(text, "\"INTERNAL\"")
    assert.include(text, "t-1")
    assert.notInclude(text, "secret stack detail")
  })

  it("renders the predecessor's JSON lines for format jsonl", () => {
    const lines = Tools.renderJsonLines({
      task_id: "t1",
      scan_name: "weekly",
      profile: "minimal",
      fields: ["host", "severity"],
      filters_applied: { severity: ">=3" },
      total: 3,
      page: 1,
      page_size: 2,
      findings: [{ host: "192.0.2.1", severity: 4 }, { host: "192.0.2.2", severity: 3 }],
      next_cursor: "c2"
    }).split("\n").map((line) => JSON.parse(line) as Record<string, unknown>)
    assert.deepStrictEqual(lines.map((l) => l["type"]), ["schema", "scan_metadata", "vulnerability", "vulnerability", "pagination"])
    assert.strictEqual(lines[0]!["total_pages"], 2)
    assert.deepStrictEqual(lines[4], { type: "pagination", page: 1, page_size: 2, total_pages: 2, has_next: true, next_page: 2, next_cursor: "c2" })
  })
})

describe("tool contracts", () => {
  it("has the ten fixed names with annotations by kind", () => {
    assert.deepStrictEqual(Tools.all.map((t) => t.name), [
      "run_untrusted_scan", "run_authenticated_scan", "get_scan_status", "get_scan_results", "list_scanners",
      "list_pools", "get_pool_status", "get_queue_status", "list_tasks", "cancel_scan"
    ])
    for (const tool of Tools.all) {
      if (tool.name.startsWith("run_")) {
        assert.isTrue(tool.annotations.openWorldHint, tool.name)
        assert.isFalse(tool.annotations.readOnlyHint, tool.name)
      } else if (tool.name === "cancel_scan") {
        assert.isTrue(tool.annotations.destructiveHint)
        assert.isFalse(tool.annotations.readOnlyHint)
      } else {
        assert.isTrue(tool.annotations.readOnlyHint, tool.name)
      }
      assert.isAtLeast(tool.description.length, 80, `${tool.name} needs a description an agent can use`)
    }
  })

  it("generates closed input schemas with enums and bounds, and no secret-bearing output fields", () => {
    const results = McpServer.jsonSchemaOf(Tools.GetScanResultsInput, "input") as any
    assert.strictEqual(results.additionalProperties, false)
    assert.deepStrictEqual(results.required, ["task_id"])
    assert.deepStrictEqual(results.properties.profile.enum, ["minimal", "summary", "brief", "full"])
    assert.strictEqual(results.properties.page_size.maximum, 200)
    assert.isString(results.properties.task_id.pattern)
    const auth = McpServer.jsonSchemaOf(Tools.RunAuthenticatedScanInput, "input") as any
    assert.deepStrictEqual(auth.properties.scan_type.enum, ["authenticated", "authenticated_privileged"])
    assert.strictEqual(auth.properties.ssh_password.type, "string")
    for (const tool of Tools.all) {
      const output = JSON.stringify(McpServer.jsonSchemaOf(tool.output, "output"))
      assert.notInclude(output, "password", tool.name)
    }
  })

  it("takes the trace id from a valid traceparent and makes one otherwise", () => {
    assert.strictEqual(McpServer.traceIdOf({ traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01" }), "4bf92f3577b34da6a3ce929d0e0e4736")
    const fresh = McpServer.traceIdOf({ traceparent: "garbage" })
    assert.match(fresh, /^[\da-f]{32}$/)
    assert.notStrictEqual(McpServer.traceIdOf(undefined), fresh)
  })
})
