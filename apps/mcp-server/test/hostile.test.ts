/**
 * Hostile tool arguments and hostile HTTP requests against the product's `ScanService`
 * (`SchedulerScanService` over the real in-memory scheduler, a real findings index built from a shared
 * fixture), through a real MCP client/server connection.
 *
 * - A seeded property-based fuzzer (fast-check) sends every tool wrong types, huge strings, unicode,
 *   injection-looking targets, giant CIDRs, unknown pools/instances/credentials, and malformed cursors and
 *   filters. Every call must end in a well-formed `isError` result (JSON error with a known code, a message
 *   and a trace id; never `INTERNAL`) or a success whose `structuredContent` decodes with the tool's output
 *   schema; a refused submission must leave the task list and the queue depth exactly as they were, and only
 *   an accepted one may add (one) task. The server must still answer afterwards.
 * - Rejected HTTP requests (no token, wrong token, foreign Origin or Host, oversized body) carrying a valid
 *   `tools/call run_untrusted_scan` must leave the task list unchanged; a control call with the right token
 *   does queue a task, so the count is known to move. (Status codes and headers of the rejections are in
 *   Http.test.ts.)
 */
import { assert, describe, it } from "@effect/vitest"
import { Credentials, ScannerConfig, Scheduler } from "@nessus-mcp/scheduler"
import { FindingsIndex } from "@nessus-mcp/validator"
import { Effect, Exit, Layer, Option, Redacted, Schema } from "effect"
import fc from "fast-check"
import { mkdtempSync } from "node:fs"
import { request as httpRequest } from "node:http"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import * as HttpServer from "../src/HttpServer.js"
import * as Logging from "../src/Logging.js"
import * as Metrics from "../src/Metrics.js"
import * as SchedulerScanService from "../src/SchedulerScanService.js"
import * as ServerConfig from "../src/ServerConfig.js"
import * as Tools from "../src/Tools.js"
import { connectHttp, connectLinked } from "./support/harness.js"

const fixtures = fileURLToPath(new URL("../../../../shared/fixtures/nessus/", import.meta.url))
const fixture = join(fixtures, "pytenable__example.nessus") // 1 host, 230 items

const yaml = `
default_pool: nessus
pools:
  nessus:
    allowed_targets: [10.0.0.0/8, 192.0.2.0/24, 198.51.100.0/24, 2001:db8::/32, "*.example.com"]
    max_targets: 300
    scanners:
      - { instance_id: scanner1, name: One, url: "http://127.0.0.1:9", username: u, password: p, max_concurrent_scans: 2 }
      - { instance_id: scanner2, name: Two, url: "http://127.0.0.1:10", username: u, password: p, max_concurrent_scans: 2 }
  lab:
    allowed_targets: [203.0.113.0/24]
    scanners:
      - { instance_id: lab1, name: Lab, url: "http://127.0.0.1:11", username: u, password: p, max_concurrent_scans: 1 }
credentials:
  linux-admin: { type: ssh, username: scanuser, password: scanpass, elevate_privileges_with: sudo, escalation_password: sudopass }
`

const token = "hostile-test-token-5a1c9e7d3b"
const maxBodyBytes = 16 * 1024

/** The product service over a fresh in-memory scheduler (inline credentials enabled), quiet logs. */
const serviceLayer = () =>
  Layer.unwrap(Effect.gen(function*() {
    const dataDir = mkdtempSync(join(tmpdir(), "nessus-mcp-hostile-"))
    const config = yield* ServerConfig.load({}, { DATA_DIR: dataDir })
    const backend = Scheduler.layerMemory().pipe(
      Layer.provideMerge(Credentials.layer({ key: Redacted.make(Credentials.generateKey()) })),
      Layer.provideMerge(ScannerConfig.layerText(yaml))
    )
    return Layer.mergeAll(SchedulerScanService.layer, Metrics.layer, Logging.layer({ service: "nessus-mcp", level: "Error", sink: () => {} })).pipe(
      Layer.provideMerge(backend),
      Layer.provideMerge(Layer.succeed(ServerConfig.ServerConfig, config))
    )
  })).pipe(Layer.orDie)

// ---------------------------------------------------------------------------------------------------------
// Observing the queue
// ---------------------------------------------------------------------------------------------------------

/** Every task the scheduler holds, and the queue depth (queued + delayed) summed over the pools. */
const snapshot = Effect.gen(function*() {
  const scheduler = yield* Scheduler.Scheduler
  let tasks = 0
  let cursor: string | undefined
  do {
    const page = yield* scheduler.list({ limit: 100, cursor })
    tasks += page.tasks.length
    cursor = page.cursor
  } while (cursor !== undefined)
  let depth = 0
  for (const pool of ["nessus", "lab"]) {
    const stats = yield* scheduler.queueStats(pool)
    depth += stats.queued + stats.delayed
  }
  return { tasks, depth }
}).pipe(Effect.orDie)

// ---------------------------------------------------------------------------------------------------------
// Checking one result
// ---------------------------------------------------------------------------------------------------------

const codes = new Set([
  "INVALID_ARGUMENT",
  "TASK_NOT_FOUND",
  "POOL_NOT_FOUND",
  "SCANNER_NOT_FOUND",
  "CREDENTIAL_NOT_FOUND",
  "TARGET_OUT_OF_SCOPE",
  "TOO_MANY_TARGETS",
  "INVALID_FILTER",
  "INVALID_CURSOR",
  "RESULTS_NOT_READY",
  "IDEMPOTENCY_CONFLICT",
  "INLINE_CREDENTIALS_DISABLED",
  "NOT_CANCELLABLE"
])

const definitions = new Map<string, Tools.Definition<any, any, any, any>>(Tools.all.map((d) => [d.name, d]))

type Outcome =
  | { readonly ok: true; readonly structured: Record<string, unknown> }
  | { readonly ok: false; readonly code: string; readonly message: string }

/**
 * Checks that a tool result is well formed and says which it is; throws (with the arguments) otherwise. An
 * `INTERNAL` or `UNAVAILABLE` answer to bad input is a server bug, so it fails too.
 */
const judge = (tool: string, args: unknown, result: any): Outcome => {
  const context = () => `${tool}(${JSON.stringify(args)?.slice(0, 400)}) → ${JSON.stringify(result)?.slice(0, 600)}`
  if (typeof result !== "object" || result === null || !Array.isArray(result.content)) throw new Error(`not a CallToolResult: ${context()}`)
  const text = result.content[0]?.type === "text" ? String(result.content[0].text) : undefined
  if (result.isError === true) {
    if (result.structuredContent !== undefined) throw new Error(`error result with structuredContent: ${context()}`)
    if (text === undefined) throw new Error(`error result without a text block: ${context()}`)
    const body = JSON.parse(text) as { error?: { code?: unknown; message?: unknown; trace_id?: unknown; retryable?: unknown } }
    const error = body.error
    if (error === undefined || typeof error.code !== "string" || !codes.has(error.code)) throw new Error(`unexpected error code: ${context()}`)
    if (typeof error.message !== "string" || error.message.length < 10) throw new Error(`error without a useful message: ${context()}`)
    if (typeof error.trace_id !== "string" || !/^[\da-f]{32}$/.test(error.trace_id)) throw new Error(`error without a trace id: ${context()}`)
    if (typeof error.retryable !== "boolean") throw new Error(`error without retryable: ${context()}`)
    return { ok: false, code: error.code, message: error.message }
  }
  const definition = definitions.get(tool)!
  const decoded = Schema.decodeUnknownExit(definition.output as Schema.Codec<unknown, unknown>)(result.structuredContent)
  if (Exit.isFailure(decoded)) throw new Error(`success that breaks the outputSchema: ${context()}`)
  if (text === undefined || text.length === 0) throw new Error(`success without text: ${context()}`)
  return { ok: true, structured: result.structuredContent as Record<string, unknown> }
}

/** A field of a successful outcome's structured content. */
const fieldOf = (outcome: Outcome, key: string): unknown => {
  if (!outcome.ok) throw new Error(`expected a success, got ${outcome.code}: ${outcome.message}`)
  return outcome.structured[key]
}

// ---------------------------------------------------------------------------------------------------------
// Arbitraries: hostile values, mixed with plausible ones so that deeper checks are reached too
// ---------------------------------------------------------------------------------------------------------

const huge = (n: number, unit = "A") => unit.repeat(n)

const injections = [
  "; rm -rf /",
  "192.0.2.10; rm -rf /",
  "$(reboot)",
  "192.0.2.10 $(curl http://127.0.0.1:1/x)",
  "`id`",
  "192.0.2.10 && shutdown -h now",
  "192.0.2.10 | nc 127.0.0.1 4444",
  "<!ENTITY xxe SYSTEM \"file:///etc/passwd\">",
  "<!DOCTYPE x [<!ENTITY a \"&a;&a;\">]>",
  "../../../../etc/passwd",
  "..\\..\\windows\\system32",
  "/etc/passwd",
  "file:///etc/passwd",
  "http://192.0.2.10/",
  "192.0.2.10:22",
  "*.example.com",
  "*",
  "192.0.2.10\u0000",
  "192.0.2.10\n192.0.2.11",
  "192.0.2.10\r\nX-Injected: 1",
  "' OR '1'='1",
  "{{7*7}}",
  "${jndi:ldap://127.0.0.1/a}",
  "%00",
  "%2e%2e%2f",
  "\u202e01.2.0.291",
  "бухгалтерия.example.com",
  "ｅｘａｍｐｌｅ.com",
  "😀.example.com",
  "-oProxyCommand=id",
  "--help"
]

const giantTargets = [
  "0.0.0.0/0",
  "10.0.0.0/8",
  "10.0.0.0/9",
  "192.0.2.0/8",
  "::/0",
  "2001:db8::/32",
  "2001:db8::/64",
  "10.0.0.0-10.255.255.255",
  "10.0.0.1-10.0.255.254",
  "0.0.0.0-255.255.255.255",
  "192.0.2.0/24, 198.51.100.0/24",
  "10.0.0.0/23",
  "192.0.2.0/33",
  "192.0.2.0/-1",
  "192.0.2.256",
  "300.1.1.1",
  "192.0.2.10-192.0.2.1",
  "192.0.2.1-999",
  Array.from({ length: 400 }, (_, i) => `10.1.${i >> 8}.${i & 255}`).join(","),
  Array.from({ length: 2000 }, () => "192.0.2.10").join(" "),
  `${huge(300, "a")}.example.com`,
  `${huge(63, "a")}.${huge(63, "b")}.example.com`,
  huge(9000, "1"),
  huge(100_000, ",")
]

const plausibleTargets = ["192.0.2.10", "192.0.2.0/28", "198.51.100.7, 192.0.2.1-20", "db1.example.com", "2001:db8::1", "203.0.113.5"]

/** Strings of every kind: empty, unicode (all planes, lone surrogates), control characters, very long. */
const anyString = fc.oneof(
  { weight: 3, arbitrary: fc.string({ maxLength: 40 }) },
  { weight: 2, arbitrary: fc.string({ unit: "grapheme", maxLength: 30 }) },
  { weight: 2, arbitrary: fc.string({ unit: "binary", maxLength: 30 }) },
  { weight: 1, arbitrary: fc.constantFrom("", " ", "\u0000", "\u007f", "\ud800", "\udfff\ud800", "\u202e", "\ufeff", "null", "undefined", "NaN", "__proto__", "constructor") },
  { weight: 1, arbitrary: fc.constantFrom(...injections) },
  { weight: 1, arbitrary: fc.integer({ min: 1_000, max: 300_000 }).map((n) => huge(n, "x")) },
  { weight: 1, arbitrary: fc.integer({ min: 100, max: 3_000 }).map((n) => huge(n, "é😀")) }
)

/** Values of the wrong JSON type for any argument. */
const wrongType = fc.oneof(
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.constantFrom(Number.MAX_SAFE_INTEGER, -1, 0, 1e308, -0, 1.5),
  fc.array(fc.oneof(fc.string({ maxLength: 5 }), fc.integer()), { maxLength: 4 }),
  fc.dictionary(fc.string({ maxLength: 5 }), fc.oneof(fc.string({ maxLength: 5 }), fc.integer()), { maxKeys: 3 }),
  fc.jsonValue({ maxDepth: 3 })
)

/** A value for an argument: mostly plausible or hostile strings, sometimes the wrong type. */
const value = (...plausible: ReadonlyArray<unknown>) =>
  fc.oneof(
    ...(plausible.length > 0 ? [{ weight: 4, arbitrary: fc.constantFrom(...plausible) }] : []),
    { weight: 3, arbitrary: anyString as fc.Arbitrary<unknown> },
    { weight: 2, arbitrary: wrongType as fc.Arbitrary<unknown> }
  )

const integerish = (...plausible: ReadonlyArray<number>) =>
  fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom<unknown>(...plausible) },
    { weight: 2, arbitrary: fc.constantFrom<unknown>(0, -1, 201, 1e9, 2 ** 53, 1.5, -0, 1e308, "5", "1e3", true) },
    { weight: 2, arbitrary: fc.integer() as fc.Arbitrary<unknown> },
    { weight: 1, arbitrary: wrongType as fc.Arbitrary<unknown> }
  )

/** Arguments: a record of optional keys plus, sometimes, unknown ones. */
const args = (fields: Record<string, fc.Arbitrary<unknown>>) =>
  fc.tuple(
    fc.record(fields, { requiredKeys: [] }),
    fc.oneof(
      { weight: 5, arbitrary: fc.constant({}) },
      { weight: 1, arbitrary: fc.dictionary(fc.constantFrom("extra", "__proto__", "constructor", "targets ", "TASK_ID", "x".repeat(500)), wrongType, { maxKeys: 2 }) }
    )
  ).map(([known, extra]) => ({ ...extra, ...known }) as Record<string, unknown>)

/** Cursors for get_scan_results: real ones, mutated ones, forged ones and junk. */
const resultCursors = (real: ReadonlyArray<string>) => {
  const forge = (o: unknown) => Buffer.from(JSON.stringify(o)).toString("base64url")
  return fc.oneof(
    { weight: 2, arbitrary: fc.constantFrom(...real) },
    {
      weight: 3,
      arbitrary: fc.tuple(fc.constantFrom(...real), fc.nat(), fc.constantFrom("flip", "cut", "append", "double")).map(([c, n, how]) => {
        const i = n % c.length
        if (how === "flip") return c.slice(0, i) + (c[i] === "A" ? "B" : "A") + c.slice(i + 1)
        if (how === "cut") return c.slice(0, i)
        if (how === "append") return `${c}${c.slice(0, i)}`
        return `${c}${c}`
      })
    },
    {
      weight: 2,
      arbitrary: fc.constantFrom(
        forge({ c: "x", s: 5 }),
        forge({ c: "", s: 20 }),
        forge({ c: "AAAA", s: 1e9 }),
        forge({ c: "AAAA", s: -1 }),
        forge({ c: 1, s: 20 }),
        forge({ c: { $gt: "" }, s: 20 }),
        forge({ c: "../../etc/passwd", s: 20 }),
        forge({ __proto__: { s: 1 }, c: "a" }),
        forge([1, 2, 3]),
        forge("string"),
        forge(null),
        "bm90LWEtY3Vyc29y",
        "====",
        "%%%",
        "null"
      )
    },
    { weight: 2, arbitrary: value() }
  )
}

/** Findings filters: plausible, mistyped, unknown fields, prototype keys, too many keys, wrong shapes. */
const filters = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.constantFrom<unknown>(
      { severity: ">=3" },
      { severity: 4 },
      { severity: "high" },
      { severity: ">=x" },
      { severity: "<<3" },
      { severity: "!=" },
      { severity: true },
      { exploit_available: true },
      { exploit_available: "maybe" },
      { cve: "CVE-2021" },
      { cve: 2021 },
      { host: "10.0.0.0/24" },
      { host: "10.0.0.0/33" },
      { host: "::/0" },
      { host: "; rm -rf /" },
      { plugin_output: "root" },
      { plugin_output: huge(256, "y") },
      { port: ">=0" },
      { cvss_base_score: ">7.0" },
      { no_such_field: "x" },
      { "": "x" },
      { __proto__: { severity: 4 } },
      { constructor: "x" },
      { "__proto__.polluted": "yes" },
      { "x.y[0]": 1 },
      Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`f${i}`, i])),
      { severity: [3, 4] },
      { severity: { $gt: 2 } },
      { severity: null },
      [],
      "severity>=3"
    )
  },
  { weight: 2, arbitrary: fc.dictionary(anyString, fc.oneof(anyString, fc.double(), fc.boolean(), wrongType), { maxKeys: 4 }) as fc.Arbitrary<unknown> },
  { weight: 1, arbitrary: wrongType as fc.Arbitrary<unknown> }
)

/** One call: a tool and arguments for it. */
interface Call {
  readonly tool: string
  readonly args: Record<string, unknown>
}

const callsFor = (known: { readonly taskIds: ReadonlyArray<string>; readonly completedId: string; readonly cursors: ReadonlyArray<string> }): fc.Arbitrary<Call> => {
  const targets = fc.oneof(
    { weight: 2, arbitrary: fc.constantFrom<unknown>(...plausibleTargets) },
    { weight: 3, arbitrary: fc.constantFrom<unknown>(...injections) },
    { weight: 3, arbitrary: fc.constantFrom<unknown>(...giantTargets) },
    { weight: 2, arbitrary: value() }
  )
  const pool = value("nessus", "lab", "no-such-pool", "../etc", "nessus ", "NESSUS", "nessus;id", huge(129, "p"))
  const instance = value("scanner1", "scanner2", "lab1", "ghost", "scanner1/../x", huge(200, "i"))
  const idempotencyKey = value("key-00000001", "key-00000002", "short", "bad key!", huge(129, "k"))
  const submission = {
    targets,
    name: value("web tier", "x", "night scan 😀", "tab\tname", huge(201, "n")),
    description: value("weekly", huge(2001, "d")),
    scanner_pool: pool,
    scanner_instance: instance,
    idempotency_key: idempotencyKey
  }
  const taskId = value(...known.taskIds, known.completedId, "t_doesnotexist", "t_", "../../etc/passwd", "t_../x", huge(128, "t"), huge(129, "t"))
  // Mostly well-formed submissions with one hostile twist, so acceptance (and idempotent replays) happen too.
  const nearlyValid = fc.tuple(
    fc.constantFrom(...plausibleTargets, ...plausibleTargets, ...giantTargets.slice(0, 6), ...injections.slice(0, 6)),
    fc.constantFrom("web tier", "night scan 😀", "Ünïcödé ✓"),
    fc.record({ scanner_pool: pool, scanner_instance: instance, idempotency_key: idempotencyKey, description: value("weekly") }, { requiredKeys: [] }),
    fc.nat({ max: 3 })
  ).map(([targets, name, optional, keep]) => {
    const picked = Object.entries(optional).slice(0, keep)
    return { targets, name, ...Object.fromEntries(picked) } as Record<string, unknown>
  })
  return fc.oneof(
    args(submission).map((a) => ({ tool: "run_untrusted_scan", args: a })),
    nearlyValid.map((a) => ({ tool: "run_untrusted_scan", args: a })),
    fc.tuple(nearlyValid, fc.constantFrom<Record<string, unknown>>(
      { scan_type: "authenticated", credential: "linux-admin" },
      { scan_type: "authenticated_privileged", ssh_username: "scanuser", ssh_password: "canary-password-1", elevate_privileges_with: "sudo" },
      { scan_type: "authenticated", ssh_username: "scanuser", ssh_password: "canary-password-1", elevate_privileges_with: "sudo" },
      { scan_type: "authenticated_privileged", credential: "linux-admin", elevate_privileges_with: "sudo" }
    )).map(([a, b]) => ({ tool: "run_authenticated_scan", args: { ...a, ...b } })),
    args({
      ...submission,
      scan_type: value("authenticated", "authenticated_privileged", "untrusted", "root"),
      credential: value("linux-admin", "no-such-credential", "../secrets"),
      ssh_username: value("scanuser", "root; id", "a b", huge(129, "u")),
      ssh_password: value("canary-password-1", "", huge(1025, "p")),
      elevate_privileges_with: value("sudo", "su", "Nothing", "doas", "sudo; id"),
      escalation_account: value("root", "root; id"),
      escalation_password: value("sudopass", "")
    }).map((a) => ({ tool: "run_authenticated_scan", args: a })),
    args({ task_id: taskId }).map((a) => ({ tool: "get_scan_status", args: a })),
    args({
      task_id: value(known.completedId, known.completedId, ...known.taskIds, "t_doesnotexist"),
      profile: value("minimal", "summary", "brief", "full", "everything"),
      fields: fc.oneof(
        fc.constantFrom<unknown>(["host", "plugin_id"], ["plugin_output"], ["constructor", "host"], ["valueof"], [], ["../x"], ["Host"], Array.from({ length: 65 }, (_, i) => `f${i}`), ["no_such_field"]),
        fc.array(anyString, { maxLength: 4 }) as fc.Arbitrary<unknown>,
        wrongType as fc.Arbitrary<unknown>
      ),
      filters,
      page_size: integerish(1, 5, 20, 200),
      cursor: resultCursors(known.cursors),
      page: integerish(1, 2, 12, 100_000),
      format: value("json", "jsonl", "xml")
    }).map((a) => ({ tool: "get_scan_results", args: a })),
    fc.tuple(
      fc.constantFrom(known.completedId, known.completedId, known.completedId, ...known.taskIds),
      fc.record({
        filters,
        cursor: resultCursors(known.cursors),
        page_size: integerish(1, 5, 20, 200),
        page: integerish(1, 2, 12, 100_000),
        profile: value("minimal", "full")
      }, { requiredKeys: [] }),
      fc.nat({ max: 2 })
    ).map(([task_id, optional, keep]) => ({
      tool: "get_scan_results",
      args: { task_id, ...Object.fromEntries(Object.entries(optional).slice(0, keep)) }
    })),
    args({ scanner_pool: pool }).map((a) => ({ tool: "list_scanners", args: a })),
    args({}).map((a) => ({ tool: "list_pools", args: a })),
    args({ scanner_pool: pool }).map((a) => ({ tool: "get_pool_status", args: a })),
    args({ scanner_pool: pool }).map((a) => ({ tool: "get_queue_status", args: a })),
    args({
      limit: integerish(1, 20, 100),
      status: value("queued", "running", "completed", "failed", "timeout", "cancelled", "done"),
      scanner_pool: pool,
      target: fc.oneof(fc.constantFrom<unknown>(...plausibleTargets, ...giantTargets.slice(0, 8)), value(...injections)),
      cursor: value("0", "20", "999999999999", "-1", "1e3", "abc", huge(513, "9"))
    }).map((a) => ({ tool: "list_tasks", args: a })),
    args({ task_id: taskId }).map((a) => ({ tool: "cancel_scan", args: a }))
  )
}

const submissionTools = new Set(["run_untrusted_scan", "run_authenticated_scan"])

// Fixed seed and run count in CI; HOSTILE_SEED / HOSTILE_RUNS explore further locally.
const seed = Number(process.env["HOSTILE_SEED"] ?? 0x5eed_8)
const numRuns = Number(process.env["HOSTILE_RUNS"] ?? 3000)

// ---------------------------------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------------------------------

describe("hostile tool arguments (fast-check, seeded)", () => {
  it.live("every call gets a well-formed error or a valid success, nothing is queued for invalid input, the server stays up", () =>
    Effect.gen(function*() {
      const client = yield* connectLinked()
      const scheduler = yield* Scheduler.Scheduler
      const context = yield* Effect.context<Scheduler.Scheduler>()
      const observe = () => Effect.runPromiseWith(context)(snapshot)

      // A completed task with a real index (230 findings), so results, filters and cursors are reached for real.
      const completed = judge("run_untrusted_scan", {}, yield* Effect.promise(() =>
        client.callTool({ name: "run_untrusted_scan", arguments: { targets: "192.0.2.10", name: "indexed" } })))
      assert.isTrue(completed.ok)
      const completedId = String(fieldOf(completed, "task_id"))
      const claim = Option.getOrThrow(yield* Effect.orDie(scheduler.claim({ worker: "hostile-test" })))
      assert.strictEqual(claim.task.id, completedId)
      const dataDir = (yield* ServerConfig.ServerConfig).dataDir
      const built = yield* Effect.orDie(FindingsIndex.build(fixture, join(dataDir, completedId, "index"), { scanType: "untrusted" }))
      yield* Effect.orDie(scheduler.complete(claim.lease, { validation: built.verdict, authenticationStatus: built.verdict.authentication_status }))
      const queued = judge("run_untrusted_scan", {}, yield* Effect.promise(() =>
        client.callTool({ name: "run_untrusted_scan", arguments: { targets: "198.51.100.0/28", name: "waiting", scanner_pool: "nessus" } })))
      assert.isTrue(queued.ok)
      const queuedId = String(fieldOf(queued, "task_id"))
      const cursors: Array<string> = []
      for (const a of [{}, { profile: "minimal", page_size: 7 }, { filters: { severity: ">=3" }, page_size: 3 }]) {
        const page = judge("get_scan_results", a, yield* Effect.promise(() =>
          client.callTool({ name: "get_scan_results", arguments: { task_id: completedId, ...a } })))
        assert.isTrue(page.ok)
        cursors.push(String(fieldOf(page, "next_cursor")))
      }

      const tally = { calls: 0, errors: 0, successes: 0, submissionsRefused: 0, submissionsAccepted: 0, codes: new Map<string, number>() }
      const property = fc.asyncProperty(callsFor({ taskIds: [queuedId], completedId, cursors }), async ({ tool, args }) => {
        const before = await observe()
        const result = await client.callTool({ name: tool, arguments: args })
        const outcome = judge(tool, args, result)
        const after = await observe()
        tally.calls++
        if (outcome.ok) tally.successes++
        else {
          tally.errors++
          tally.codes.set(outcome.code, (tally.codes.get(outcome.code) ?? 0) + 1)
        }
        if (submissionTools.has(tool)) {
          if (outcome.ok) {
            tally.submissionsAccepted++
            const replay = outcome.structured["idempotent_replay"] === true
            const added = replay ? 0 : 1
            if (after.tasks !== before.tasks + added) throw new Error(`an accepted submission changed the task count by ${after.tasks - before.tasks}: ${JSON.stringify(args).slice(0, 300)}`)
          } else {
            tally.submissionsRefused++
            if (after.tasks !== before.tasks || after.depth !== before.depth) {
              throw new Error(`a refused submission (${outcome.code}) changed the queue: ${JSON.stringify(before)} → ${JSON.stringify(after)}; ${JSON.stringify(args).slice(0, 300)}`)
            }
          }
        } else if (after.tasks !== before.tasks) {
          throw new Error(`${tool} changed the task count: ${JSON.stringify(args).slice(0, 300)}`)
        } else if (tool !== "cancel_scan" && after.depth !== before.depth) {
          throw new Error(`${tool} changed the queue depth: ${JSON.stringify(args).slice(0, 300)}`)
        }
      })
      const started = Date.now()
      yield* Effect.promise(() => fc.assert(property, { seed, numRuns, endOnFailure: true }))
      const elapsed = Date.now() - started
      console.log(`fuzzer: ${JSON.stringify({ ...tally, codes: Object.fromEntries(tally.codes) })} in ${elapsed} ms`)

      // Each kind of outcome was reached, so the property was not vacuous.
      assert.isAbove(tally.submissionsRefused, 50)
      assert.isAbove(tally.submissionsAccepted, 0)
      assert.isAbove(tally.successes, 50)
      const expected = ["INVALID_ARGUMENT", "TASK_NOT_FOUND", "POOL_NOT_FOUND", "TARGET_OUT_OF_SCOPE", "TOO_MANY_TARGETS", "INVALID_CURSOR", "INVALID_FILTER", "RESULTS_NOT_READY"]
      for (const code of expected) {
        assert.isAbove(tally.codes.get(code) ?? 0, 0, `no ${code} in ${JSON.stringify([...tally.codes])}`)
      }
      assert.isBelow(elapsed, 30_000, `the fuzzer took ${elapsed} ms`)

      // Still serving.
      const pools = judge("list_pools", {}, yield* Effect.promise(() => client.callTool({ name: "list_pools", arguments: {} })))
      assert.isTrue(pools.ok)
      const status = judge("get_scan_status", {}, yield* Effect.promise(() => client.callTool({ name: "get_scan_status", arguments: { task_id: completedId } })))
      assert.isTrue(status.ok)
    }).pipe(Effect.provide(serviceLayer())), 60_000)

  it.live("the named hostile targets are refused before anything is queued, for both submission tools", () =>
    Effect.gen(function*() {
      const client = yield* connectLinked()
      const before = yield* snapshot
      const expectations: ReadonlyArray<readonly [string, string]> = [
        ["; rm -rf /", "INVALID_ARGUMENT"],
        ["192.0.2.10; rm -rf /", "INVALID_ARGUMENT"],
        ["$(reboot)", "INVALID_ARGUMENT"],
        ["`id`", "INVALID_ARGUMENT"],
        ["<!ENTITY xxe SYSTEM \"file:///etc/passwd\">", "INVALID_ARGUMENT"],
        ["../../../../etc/passwd", "INVALID_ARGUMENT"],
        ["http://192.0.2.10/", "INVALID_ARGUMENT"],
        ["192.0.2.10\n$(id)", "INVALID_ARGUMENT"],
        ["0.0.0.0/0", "TARGET_OUT_OF_SCOPE"],
        ["::/0", "TARGET_OUT_OF_SCOPE"],
        ["10.0.0.0/8", "TOO_MANY_TARGETS"],
        ["2001:db8::/32", "TOO_MANY_TARGETS"],
        ["10.0.0.0-10.255.255.255", "TOO_MANY_TARGETS"],
        ["203.0.113.5", "TARGET_OUT_OF_SCOPE"]
      ]
      for (const [targets, code] of expectations) {
        for (const [tool, extra] of [
          ["run_untrusted_scan", {}],
          ["run_authenticated_scan", { scan_type: "authenticated", credential: "linux-admin" }]
        ] as const) {
          const args = { targets, name: "hostile", ...extra }
          const outcome = judge(tool, args, yield* Effect.promise(() => client.callTool({ name: tool, arguments: args })))
          assert.isFalse(outcome.ok, `${tool} accepted ${targets}`)
          assert.strictEqual((outcome as { code: string }).code, code, `${tool} ${targets}: ${(outcome as { message: string }).message}`)
        }
      }
      for (const [tool, args, code] of [
        ["run_untrusted_scan", { targets: "192.0.2.10", name: "x", scanner_pool: "no-such-pool" }, "POOL_NOT_FOUND"],
        ["run_untrusted_scan", { targets: "192.0.2.10", name: "x", scanner_instance: "ghost" }, "SCANNER_NOT_FOUND"],
        ["run_untrusted_scan", { targets: "192.0.2.10", name: "x", scanner_instance: "lab1" }, "SCANNER_NOT_FOUND"],
        ["run_authenticated_scan", { targets: "192.0.2.10", name: "x", scan_type: "authenticated", credential: "nope" }, "CREDENTIAL_NOT_FOUND"],
        ["get_pool_status", { scanner_pool: "no-such-pool" }, "POOL_NOT_FOUND"],
        ["get_scan_status", { task_id: "../../etc/passwd" }, "INVALID_ARGUMENT"],
        ["get_scan_status", { task_id: "t_doesnotexist" }, "TASK_NOT_FOUND"]
      ] as const) {
        const outcome = judge(tool, args, yield* Effect.promise(() => client.callTool({ name: tool, arguments: args })))
        assert.strictEqual((outcome as { code?: string }).code, code, `${tool} ${JSON.stringify(args)}`)
      }
      assert.deepStrictEqual(yield* snapshot, before)
    }).pipe(Effect.provide(serviceLayer())))

  it.live("arguments that are not an object are answered at the protocol level or as INVALID_ARGUMENT, never a crash", () =>
    Effect.gen(function*() {
      const client = yield* connectLinked()
      const before = yield* snapshot
      for (const bad of [[], ["192.0.2.10"], "192.0.2.10", 42, true]) {
        const exit = yield* Effect.exit(Effect.tryPromise(() => client.callTool({ name: "run_untrusted_scan", arguments: bad as never })))
        if (Exit.isSuccess(exit)) {
          const outcome = judge("run_untrusted_scan", bad, exit.value)
          assert.isFalse(outcome.ok)
          assert.strictEqual((outcome as { code: string }).code, "INVALID_ARGUMENT")
        } else {
          // The SDK refuses a non-object `arguments` as a JSON-RPC error (invalid params) before any tool runs.
          assert.match(String(exit.cause), /invalid|expected/i)
        }
      }
      assert.deepStrictEqual(yield* snapshot, before)
      const pools = judge("list_pools", {}, yield* Effect.promise(() => client.callTool({ name: "list_pools", arguments: {} })))
      assert.isTrue(pools.ok)
    }).pipe(Effect.provide(serviceLayer())))
})

// ---------------------------------------------------------------------------------------------------------
// HTTP: rejected requests do no work
// ---------------------------------------------------------------------------------------------------------

/** One raw HTTP request (node:http, so Host can be forged); resolves with the status code. */
const raw = (url: string, body: string, headers: Record<string, string>) =>
  Effect.promise(() =>
    new Promise<number>((resolve, reject) => {
      const target = new URL(url)
      const req = httpRequest({
        host: target.hostname,
        port: target.port,
        path: target.pathname,
        method: "POST",
        headers: {
          "content-type": "application/json",
          accept: "application/json, text/event-stream",
          "mcp-protocol-version": "2025-06-18",
          ...headers
        }
      }, (res) => {
        res.resume()
        res.once("end", () => resolve(res.statusCode ?? 0))
      })
      // A server that cuts an oversized upload short may reset the socket; the status already arrived or the
      // request was refused, and the task count below is what this test checks.
      req.once("error", (e: NodeJS.ErrnoException) => (e.code === "ECONNRESET" || e.code === "EPIPE" ? resolve(-1) : reject(e)))
      req.end(body)
    }))

const toolsCall = (args: Record<string, unknown>, padding = "") =>
  JSON.stringify({ jsonrpc: "2.0", id: 7, method: "tools/call", params: { name: "run_untrusted_scan", arguments: { ...args, description: padding } } })

describe("hostile HTTP requests", () => {
  it.live("requests rejected for auth, Origin, Host or size queue nothing; the same call with the token does", () =>
    Effect.gen(function*() {
      const running = yield* HttpServer.serve({
        host: "127.0.0.1",
        port: 0,
        bearerTokens: [{ name: "ci", token: Redacted.make(token) }],
        allowedHosts: [],
        maxBodyBytes,
        readiness: []
      })
      const { mcpUrl } = running
      const port = new URL(mcpUrl).port
      const call = toolsCall({ targets: "192.0.2.10", name: "should not run" })
      const auth = { authorization: `Bearer ${token}` }
      const attempts: ReadonlyArray<readonly [string, string, Record<string, string>, ReadonlyArray<number>]> = [
        ["no token", call, {}, [401]],
        ["wrong token", call, { authorization: `Bearer ${token}x` }, [401]],
        ["token prefix", call, { authorization: `Bearer ${token.slice(0, -1)}` }, [401]],
        ["basic auth", call, { authorization: `Basic ${Buffer.from(`ci:${token}`).toString("base64")}` }, [401]],
        ["empty bearer", call, { authorization: "Bearer " }, [401]],
        ["two tokens", call, { authorization: `Bearer ${token} ${token}` }, [401]],
        ["foreign Origin", call, { ...auth, origin: "https://evil.example" }, [403]],
        ["null Origin", call, { ...auth, origin: "null" }, [403]],
        ["rebound Host", call, { ...auth, host: `attacker.example:${port}` }, [403]],
        ["oversized body", toolsCall({ targets: "192.0.2.10", name: "big" }, "x".repeat(maxBodyBytes)), auth, [413]],
        ["far oversized body", toolsCall({ targets: "192.0.2.10", name: "huge" }, "x".repeat(maxBodyBytes * 10)), auth, [413, -1]],
        ["oversized without token", toolsCall({ targets: "192.0.2.10", name: "huge" }, "x".repeat(maxBodyBytes * 10)), {}, [401, -1]]
      ]
      const before = yield* snapshot
      for (const [label, body, headers, statuses] of attempts) {
        const status = yield* raw(mcpUrl, body, headers)
        assert.include(statuses, status, `${label}: HTTP ${status}`)
        assert.deepStrictEqual(yield* snapshot, before, `${label} queued work`)
      }
      // Control: the same call, authorised, does queue one task, so the unchanged counts above mean something.
      const client = yield* connectHttp(mcpUrl, { token })
      const accepted = judge("run_untrusted_scan", {}, yield* Effect.promise(() =>
        client.callTool({ name: "run_untrusted_scan", arguments: { targets: "192.0.2.10", name: "authorised" } })))
      assert.isTrue(accepted.ok)
      const after = yield* snapshot
      assert.strictEqual(after.tasks, before.tasks + 1)
      assert.strictEqual(after.depth, before.depth + 1)
    }).pipe(Effect.scoped, Effect.provide(serviceLayer())))
})
