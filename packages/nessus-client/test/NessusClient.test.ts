/**
 * The client against the Nessus simulator over real HTTP: every operation, every auth mode, session
 * renewal, the 412 licence gate (with and without its body), the web UI token, export polling and
 * faults. Timing logic (export polling) runs on the TestClock; scan progress waits are real but short.
 */
import { NodeFileSystem } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { Cause, ConfigProvider, Effect, Exit, Layer, Logger, Option, Redacted, References, Stream, Tracer } from "effect"
import { HttpClient } from "effect/http"
import { mkdtempSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Simulator } from "@nessus-mcp/nessus-simulator"
import * as NessusClient from "../src/NessusClient.js"
import { NessusError } from "../src/NessusError.js"
import * as NessusModel from "../src/NessusModel.js"
import {
  ACCESS_KEY,
  calls,
  driveClock,
  HttpLive,
  keysClient,
  passwordClient,
  SECRET_KEY,
  simulator,
  statsOf,
  waitForStatus
} from "./support.js"

const failure = <A>(exit: Exit.Exit<A, NessusError>): NessusError => {
  if (Exit.isSuccess(exit)) throw new Error("expected a failure, got a success")
  const error = Cause.squash(exit.cause)
  if (!(error instanceof NessusError)) throw new Error(`expected a NessusError, got ${String(error)}`)
  return error
}

const BASIC = "731a8e52-3ea6-a291-ec0a-d2ff0619c19d7bd788d6be818b65"

const sshSudo = {
  username: "scanuser",
  password: Redacted.make("scanpass"),
  escalation: "sudo" as const,
  escalationAccount: "root",
  escalationPassword: Redacted.make("sudopass")
}

describe("NessusClient reads (api-keys)", () => {
  it.effect("server status and properties, templates, scanners, policies, folders", () =>
    Effect.gen(function*() {
      const sim = yield* simulator()
      const nessus = yield* keysClient(sim.scanners[0]!.url)
      assert.strictEqual(yield* nessus.authMode, "api-keys")
      const status = yield* nessus.serverStatus
      assert.strictEqual(status.status, "ready")
      const props = yield* nessus.serverProperties
      assert.isTrue(NessusModel.scanApiAvailable(props))
      assert.strictEqual(props.server_version, "10.7.2")
      const templates = yield* nessus.listTemplates
      assert.isTrue(templates.some((t) => t.name === "basic"))
      assert.strictEqual(yield* nessus.templateUuid("basic"), "731a8e52-3ea6-a291-ec0a-d2ff0619c19d7bd788d6be818b65")
      assert.strictEqual(yield* nessus.templateUuid("Advanced Scan"), "ad629e16-03b6-8c1d-cef6-ef8c9dd3c658d24bd260ef5f9e66")
      const missing = failure(yield* Effect.exit(nessus.templateUuid("no-such-template")))
      assert.strictEqual(missing.reason, "NotFound")
      assert.include(missing.message, "basic")
      const scanners = yield* nessus.listScanners
      assert.isAtLeast(scanners.length, 1)
      const policies = yield* nessus.listPolicies
      assert.isArray(policies)
      const folders = yield* nessus.listFolders
      assert.isTrue(folders.some((f) => f.type === "trash"))
      assert.isTrue(folders.some((f) => f.type === "main"))
      assert.isAtLeast(calls(sim, /^GET \/server\/status/), 1)
    }).pipe(Effect.provide(HttpLive)))

  it.effect("folders: create, ensure (idempotent), list scans by folder, find by name", () =>
    Effect.gen(function*() {
      const sim = yield* simulator({ scanDurationMs: 0 })
      const nessus = yield* keysClient(sim.scanners[0]!.url)
      const folderId = yield* nessus.createFolder("nessus-mcp")
      assert.strictEqual(yield* nessus.ensureFolder("nessus-mcp"), folderId)
      const other = yield* nessus.ensureFolder("other")
      assert.notStrictEqual(other, folderId)
      const scan = yield* nessus.createScan({ name: "job-123", targets: "10.0.0.5", folderId })
      yield* nessus.createScan({ name: "job-456", targets: "10.0.0.6" })
      const inFolder = yield* nessus.listScans({ folderId })
      assert.deepStrictEqual(inFolder.map((s) => s.name), ["job-123"])
      const all = yield* nessus.listScans()
      assert.strictEqual(all.length, 2)
      const found = yield* nessus.findScanByName("job-123")
      assert.isTrue(Option.isSome(found) && found.value.id === scan.id)
      assert.isTrue(Option.isNone(yield* nessus.findScanByName("job-999")))
      const empty = failure(yield* Effect.exit(nessus.createFolder(" ")))
      assert.strictEqual(empty.reason, "InvalidRequest")
    }).pipe(Effect.provide(HttpLive)))
})

describe("NessusClient scans", () => {
  it.live("create with SSH sudo credentials → launch → progress → completed → host, 19506, export", () =>
    Effect.gen(function*() {
      const sim = yield* simulator({ scanDurationMs: 400, exportDelayMs: 50 })
      const nessus = yield* passwordClient(sim.scanners[0]!.url, "session")
      const created = yield* nessus.createScan({
        name: "cred-scan",
        description: "created by the client test",
        targets: ["10.0.0.5", "10.0.0.6"],
        template: "advanced",
        scannerId: 1,
        credentials: { ssh: [sshSudo] }
      })
      assert.isAbove(created.id, 0)
      assert.strictEqual(created.name, "cred-scan")
      const before = yield* nessus.scanProgress(created.id)
      assert.strictEqual(before.status, "empty")
      assert.strictEqual(before.percent, 0)
      const uuid = yield* nessus.launchScan(created.id)
      assert.match(uuid, /^[0-9a-f-]{36}$/i)
      const done = yield* waitForStatus(nessus, created.id, ["completed"])
      assert.strictEqual(NessusModel.progressPercent(done), 100)
      assert.strictEqual(done.hosts?.length, 2)
      assert.isTrue(done.history?.some((h) => h.uuid === uuid))
      const host = done.hosts![0]!
      const details = yield* nessus.hostDetails(created.id, host.host_id)
      assert.isAbove(details.vulnerabilities?.length ?? 0, 0)
      const checks = yield* nessus.credentialedChecks(created.id, host.host_id)
      assert.isTrue(Option.isSome(checks), "19506 output present")
      assert.include(Option.getOrElse(checks, () => ""), "Credentialed checks : yes, as 'scanuser' via ssh")
      const raw = yield* nessus.pluginOutput(created.id, host.host_id, 19506)
      assert.isAbove(raw.outputs?.length ?? 0, 0)
      // export through the file-id URLs, streamed
      const bytes = yield* nessus.exportScan(created.id).pipe(
        Stream.runFold(() => [] as Array<Uint8Array>, (acc, chunk) => [...acc, chunk])
      )
      const xml = Buffer.concat(bytes).toString("utf8")
      assert.include(xml, "<NessusClientData_v2>")
      assert.include(xml, "10.0.0.5")
      assert.include(xml, "Credentialed checks : yes")
      assert.isAtLeast(calls(sim, /^GET \/scans\/\{[a-z_]+\}\/export\/\{[a-z_]+\}\/download/), 1)
      assert.strictEqual(statsOf(sim).scans_launched["cred-scan"], 1)
    }).pipe(Effect.provide(HttpLive)))

  it.live("export through the /tokens/{token} URLs into a file", () =>
    Effect.gen(function*() {
      const sim = yield* simulator({ scanDurationMs: 0, exportDelayMs: 30 })
      const nessus = yield* keysClient(sim.scanners[0]!.url)
      const scan = yield* nessus.createScan({ name: "token-export", targets: "10.0.0.7" })
      yield* nessus.launchScan(scan.id)
      yield* waitForStatus(nessus, scan.id, ["completed"])
      const handle = yield* nessus.requestExport(scan.id, { via: "token" })
      assert.strictEqual(handle.via, "token")
      assert.isTrue(Option.isSome(handle.token))
      assert.strictEqual(yield* nessus.exportStatus(handle), "loading")
      yield* nessus.awaitExport(handle)
      const dir = mkdtempSync(join(tmpdir(), "nessus-client-"))
      yield* Effect.addFinalizer(() => Effect.sync(() => rmSync(dir, { recursive: true, force: true })))
      const path = join(dir, "scan.nessus")
      const written = yield* nessus.downloadExportToFile(handle, path).pipe(Effect.provide(NodeFileSystem.layer))
      const text = readFileSync(path, "utf8")
      assert.strictEqual(written.bytes, Buffer.byteLength(text))
      assert.include(text, "10.0.0.7")
      assert.isAtLeast(calls(sim, /^GET \/tokens\/\{[a-z_]+\}\/status/), 1)
      assert.isAtLeast(calls(sim, /^GET \/tokens\/\{[a-z_]+\}\/download/), 1)
      const viaFile = yield* nessus.exportScanToFile(scan.id, join(dir, "again.nessus")).pipe(
        Effect.provide(NodeFileSystem.layer)
      )
      assert.strictEqual(viaFile.bytes, written.bytes)
    }).pipe(Effect.provide(HttpLive)))

  it.effect("pause, resume, stop (→ canceled), delete; export of a running scan is a Conflict", () =>
    Effect.gen(function*() {
      const sim = yield* simulator({ scanDurationMs: 60_000, transitionMs: 20, pendingMs: 20 })
      const nessus = yield* keysClient(sim.scanners[0]!.url)
      const scan = yield* nessus.createScan({ name: "long", targets: "10.0.0.8" })
      yield* nessus.launchScan(scan.id)
      yield* waitForStatus(nessus, scan.id, ["running"])
      const conflict = failure(yield* Effect.exit(nessus.requestExport(scan.id)))
      assert.strictEqual(conflict.reason, "Conflict")
      assert.strictEqual(conflict.status, 409)
      assert.include(conflict.nessusMessage ?? "", "running")
      yield* nessus.pauseScan(scan.id)
      yield* waitForStatus(nessus, scan.id, ["paused"])
      yield* nessus.resumeScan(scan.id)
      yield* waitForStatus(nessus, scan.id, ["running"])
      const progress = yield* nessus.scanProgress(scan.id)
      assert.isTrue(progress.percent >= 0 && progress.percent < 100)
      yield* nessus.stopScan(scan.id)
      const stopped = yield* waitForStatus(nessus, scan.id, ["canceled"])
      assert.isTrue(NessusModel.isTerminal(stopped.info.status))
      yield* nessus.deleteScan(scan.id)
      const gone = failure(yield* Effect.exit(nessus.scanDetails(scan.id)))
      assert.strictEqual(gone.reason, "NotFound")
      assert.strictEqual(gone.status, 404)
      const bad = failure(yield* Effect.exit(nessus.launchScan(-1)))
      assert.strictEqual(bad.reason, "InvalidRequest")
    }).pipe(Effect.provide(HttpLive)))

  it.effect("Windows credentials and a failed SSH login are reflected in 19506", () =>
    Effect.gen(function*() {
      const sim = yield* simulator({
        scanDurationMs: 0,
        targetAccounts: [{ username: "scanuser", password: "scanpass" }, { username: "admin", password: "winpass", domain: "CORP", protocols: ["windows"] }]
      })
      const nessus = yield* keysClient(sim.scanners[0]!.url)
      const wrong = yield* nessus.createScan({
        name: "wrong-ssh",
        targets: "10.0.0.9",
        credentials: { ssh: [{ username: "scanuser", password: Redacted.make("nope") }] }
      })
      const windows = yield* nessus.createScan({
        name: "windows",
        targets: "10.0.0.10",
        credentials: { windows: [{ username: "admin", password: Redacted.make("winpass"), domain: "CORP" }] }
      })
      for (const id of [wrong.id, windows.id]) yield* nessus.launchScan(id)
      const [w, win] = yield* Effect.forEach([wrong.id, windows.id], (id) => waitForStatus(nessus, id, ["completed"]))
      const wrongText = yield* nessus.credentialedChecks(wrong.id, w!.hosts![0]!.host_id)
      assert.include(Option.getOrElse(wrongText, () => ""), "Credentialed checks : no")
      const winText = yield* nessus.credentialedChecks(windows.id, win!.hosts![0]!.host_id)
      assert.include(Option.getOrElse(winText, () => ""), "Credentialed checks : yes")
    }).pipe(Effect.provide(HttpLive)))

  it.effect("a bad scan specification is rejected before any request", () =>
    Effect.gen(function*() {
      const sim = yield* simulator()
      const nessus = yield* keysClient(sim.scanners[0]!.url)
      const bad = failure(yield* Effect.exit(nessus.createScan({
        name: "x",
        targets: "10.0.0.5",
        credentials: { ssh: [{ username: "u", password: Redacted.make("p"), escalation: "doas" as never }] }
      })))
      assert.strictEqual(bad.reason, "InvalidRequest")
      assert.include(bad.message, "escalation")
      assert.strictEqual(calls(sim, /^POST \/scans$/), 0)
    }).pipe(Effect.provide(HttpLive)))
})

describe("NessusClient auth", () => {
  it.effect("session: one login, transparent re-login once after the sessions are revoked, logout on close", () =>
    Effect.gen(function*() {
      const sim = yield* simulator()
      const url = sim.scanners[0]!.url
      yield* Effect.scoped(Effect.gen(function*() {
        const nessus = yield* passwordClient(url, "session")
        yield* nessus.listScans()
        yield* nessus.listFolders
        assert.strictEqual(statsOf(sim).sessions_created, 1)
        sim.scanners[0]!.setFaults({ revokeSessions: true })
        const scans = yield* nessus.listScans()
        assert.isArray(scans)
        assert.strictEqual(statsOf(sim).sessions_created, 2)
        // concurrent calls after another revocation share one re-login
        sim.scanners[0]!.setFaults({ revokeSessions: true })
        yield* Effect.all([nessus.listScans(), nessus.listFolders, nessus.listPolicies], { concurrency: 3 })
        assert.strictEqual(statsOf(sim).sessions_created, 3)
      }))
      assert.strictEqual(calls(sim, /^DELETE \/session$/), 1)
    }).pipe(Effect.provide(HttpLive)))

  it.effect("session expiry (TTL) is renewed the same way", () =>
    Effect.gen(function*() {
      const sim = yield* simulator({ sessionTtlMs: 250 })
      const nessus = yield* passwordClient(sim.scanners[0]!.url, "session")
      yield* nessus.listScans()
      const before = statsOf(sim).sessions_created
      yield* Effect.promise(() => new Promise((r) => setTimeout(r, 350)))
      assert.isArray(yield* nessus.listScans())
      assert.strictEqual(statsOf(sim).sessions_created, before + 1)
    }).pipe(Effect.provide(HttpLive)))

  it.effect("wrong password: Unauthorized, and the canary password appears in no error, message or Cause", () =>
    Effect.gen(function*() {
      const sim = yield* simulator()
      const canary = "canary-Pa55w0rd-7f3e91"
      const nessus = yield* passwordClient(sim.scanners[0]!.url, "session", { password: canary })
      const exit = yield* Effect.exit(nessus.listScans())
      const error = failure(exit)
      assert.strictEqual(error.reason, "Unauthorized")
      assert.strictEqual(error.status, 401)
      assert.strictEqual(error.nessusMessage, "Invalid Credentials")
      assert.strictEqual(error.operation, "session.create")
      const renderings = [
        error.message,
        String(error),
        JSON.stringify(error),
        error.stack ?? "",
        Exit.isFailure(exit) ? Cause.pretty(exit.cause) : ""
      ]
      for (const text of renderings) assert.notInclude(text, canary)
      // the API keys never show either
      const keys = yield* NessusClient.make({
        url: sim.scanners[0]!.url,
        auth: { mode: "api-keys", accessKey: Redacted.make(ACCESS_KEY), secretKey: Redacted.make("c".repeat(64)) }
      })
      const keysExit = yield* Effect.exit(keys.listScans())
      const keysError = failure(keysExit)
      assert.strictEqual(keysError.reason, "Unauthorized")
      assert.notInclude(Exit.isFailure(keysExit) ? Cause.pretty(keysExit.cause) : "", "c".repeat(64))
      assert.notInclude(JSON.stringify(keysError), ACCESS_KEY)
    }).pipe(Effect.provide(HttpLive)))

  it.effect("secrets never reach spans (even with every request header captured) or logs", () =>
    Effect.gen(function*() {
      const sim = yield* simulator({ scanApi: false })
      const canary = "canary-span-Pa55-0b9d"
      const spans: Array<Tracer.NativeSpan> = []
      const logs: Array<string> = []
      const tracer = Tracer.make({
        span: (options) => {
          const span = new Tracer.NativeSpan(options)
          spans.push(span)
          return span
        }
      })
      yield* Effect.gen(function*() {
        const bad = yield* passwordClient(sim.scanners[0]!.url, "session", { password: canary })
        yield* Effect.exit(bad.listScans())
        const webui = yield* passwordClient(sim.scanners[0]!.url, "web-ui")
        yield* webui.createScan({ name: "traced", targets: "10.0.0.5" })
        const keys = yield* keysClient(sim.scanners[0]!.url)
        yield* keys.listFolders
        // renewals and token refreshes log at debug level
        sim.scanners[0]!.setFaults({ revokeSessions: true })
        yield* webui.listScans()
      }).pipe(
        Effect.withTracer(tracer),
        Effect.provideService(HttpClient.TracerHeaderFilter, () => true),
        Effect.provide(Logger.layer([Logger.map(Logger.formatJson, (line) => void logs.push(line))])),
        Effect.provideService(References.MinimumLogLevel, "All")
      )
      assert.isTrue(logs.some((l) => l.includes("logging in again")), "debug logs were captured")
      for (const line of logs) {
        for (const secret of [canary, SECRET_KEY]) assert.notInclude(line, secret)
      }
      const names = spans.map((s) => s.name)
      assert.include(names, "NessusClient.scans.create")
      const dump = JSON.stringify(spans.map((s) => ({
        name: s.name,
        attributes: Object.fromEntries(s.attributes),
        events: s.events
      })))
      assert.include(dump, "x-apikeys", "request headers were captured")
      for (const secret of [canary, SECRET_KEY, "nessus\"}"]) assert.notInclude(dump, secret)
      const headerValues = spans.flatMap((s) =>
        [...s.attributes].filter(([k]) => /x-apikeys|x-cookie|x-api-token/i.test(k)).map(([, v]) => v)
      )
      assert.isAbove(headerValues.length, 0)
      for (const value of headerValues) assert.strictEqual(String(value), "<redacted>")
    }).pipe(Effect.provide(HttpLive)))

  it.effect("scan_api false: API keys and plain sessions get ScanApiUnavailable (412); reads and exports still work", () =>
    Effect.gen(function*() {
      const sim = yield* simulator({ scanApi: false, edition: "essentials", scanDurationMs: 0 })
      const url = sim.scanners[0]!.url
      const keys = yield* keysClient(url)
      const refused = failure(yield* Effect.exit(keys.createScan({ name: "gated", targets: "10.0.0.5" })))
      assert.strictEqual(refused.reason, "ScanApiUnavailable")
      assert.strictEqual(refused.status, 412)
      assert.strictEqual(refused.nessusMessage, "API is not available")
      assert.include(refused.message, "web-ui")
      assert.isFalse(refused.isTransient)
      const session = yield* passwordClient(url, "session")
      const refusedToo = failure(yield* Effect.exit(session.createScan({ name: "gated", targets: "10.0.0.5" })))
      assert.strictEqual(refusedToo.reason, "ScanApiUnavailable")
      assert.isArray(yield* keys.listScans())
      assert.isFalse(NessusModel.scanApiAvailable(yield* keys.serverProperties))
    }).pipe(Effect.provide(HttpLive)))

  it.effect("scan_api false, 412 whose body is dropped: still ScanApiUnavailable", () =>
    Effect.gen(function*() {
      const sim = yield* simulator({ scanApi: false, scanApiGateDropsBody: true })
      const keys = yield* keysClient(sim.scanners[0]!.url)
      const error = failure(yield* Effect.exit(keys.createScan({ name: "dropped", targets: "10.0.0.5" })))
      assert.strictEqual(error.reason, "ScanApiUnavailable")
      assert.strictEqual(error.status, 412)
      const launch = failure(yield* Effect.exit(keys.launchScan(1)))
      assert.strictEqual(launch.reason, "ScanApiUnavailable")
    }).pipe(Effect.provide(HttpLive)))

  it.effect("scanCreate412 fault with dropped body on a scan_api true scanner: ScanApiUnavailable, nothing created", () =>
    Effect.gen(function*() {
      const sim = yield* simulator()
      sim.scanners[0]!.setFaults({ scanCreate412: "dropBody" })
      const keys = yield* keysClient(sim.scanners[0]!.url)
      const error = failure(yield* Effect.exit(keys.createScan({ name: "x", targets: "10.0.0.5" })))
      assert.strictEqual(error.reason, "ScanApiUnavailable")
      assert.strictEqual((yield* keys.listScans()).length, 0)
    }).pipe(Effect.provide(HttpLive)))

  it.effect("web-ui: session + X-API-Token from /nessus6.js drives scans on a scan_api false scanner", () =>
    Effect.gen(function*() {
      const sim = yield* simulator({ scanApi: false, scanDurationMs: 0 })
      const nessus = yield* passwordClient(sim.scanners[0]!.url, "web-ui")
      assert.strictEqual(yield* nessus.authMode, "web-ui")
      const scan = yield* nessus.createScan({ name: "webui", targets: "10.0.0.5", credentials: { ssh: [sshSudo] } })
      yield* nessus.launchScan(scan.id)
      yield* waitForStatus(nessus, scan.id, ["completed"])
      yield* nessus.deleteScan(scan.id)
      assert.strictEqual(calls(sim, /^GET \/nessus6\.js/), 1)
      assert.strictEqual(statsOf(sim).scans_launched["webui"], 1)
    }).pipe(Effect.provide(HttpLive)))

  it.live("web-ui: a changed installation (new session and token) is handled by re-login and re-reading the token", () =>
    Effect.gen(function*() {
      const first = yield* Effect.promise(() =>
        Simulator.start({
          scanners: [{ scanApi: false, apiToken: "11111111-1111-4111-8111-111111111111" }]
        })
      )
      const url = first.scanners[0]!.url
      const port = Number(new URL(url).port)
      const nessus = yield* passwordClient(url, "web-ui")
      yield* nessus.createScan({ name: "before", targets: "10.0.0.5" })
      yield* Effect.promise(() => first.close())
      const second = yield* simulator({
        port,
        scanApi: false,
        apiToken: "22222222-2222-4222-8222-222222222222"
      })
      const scan = yield* nessus.createScan({ name: "after", targets: "10.0.0.5" })
      assert.isAbove(scan.id, 0)
      assert.strictEqual(statsOf(second).sessions_created, 1)
      assert.strictEqual(calls(second, /^GET \/nessus6\.js/), 1)
      assert.strictEqual(statsOf(second).scans_created["after"], 1)
    }).pipe(Effect.provide(HttpLive)))

  it.effect("auto: api-keys when scan_api is true, web-ui when false, session without keys", () =>
    Effect.gen(function*() {
      const open = yield* simulator()
      const gated = yield* simulator({ scanApi: false, scanDurationMs: 0 })
      const both = (url: string) =>
        NessusClient.make({
          url,
          auth: {
            mode: "auto",
            username: "nessus",
            password: Redacted.make("nessus"),
            accessKey: Redacted.make(ACCESS_KEY),
            secretKey: Redacted.make(SECRET_KEY)
          }
        })
      assert.strictEqual(yield* (yield* both(open.scanners[0]!.url)).authMode, "api-keys")
      assert.strictEqual(statsOf(open).sessions_created, 0)
      const auto = yield* both(gated.scanners[0]!.url)
      assert.strictEqual(yield* auto.authMode, "web-ui")
      const scan = yield* auto.createScan({ name: "auto", targets: "10.0.0.5" })
      yield* auto.launchScan(scan.id)
      const passwordOnly = yield* passwordClient(open.scanners[0]!.url, "auto")
      assert.strictEqual(yield* passwordOnly.authMode, "session")
      const keysOnlyGated = yield* NessusClient.make({
        url: gated.scanners[0]!.url,
        auth: { mode: "auto", accessKey: Redacted.make(ACCESS_KEY), secretKey: Redacted.make(SECRET_KEY) }
      })
      assert.strictEqual(yield* keysOnlyGated.authMode, "api-keys")
      const refused = failure(yield* Effect.exit(keysOnlyGated.createScan({ name: "no", targets: "10.0.0.5" })))
      assert.strictEqual(refused.reason, "ScanApiUnavailable")
    }).pipe(Effect.provide(HttpLive)))

  it.effect("a non-admin user listing scanners is Forbidden", () =>
    Effect.gen(function*() {
      const sim = yield* simulator({ users: [{ username: "nessus", password: "nessus", permissions: 32 }] })
      const nessus = yield* passwordClient(sim.scanners[0]!.url, "session")
      const error = failure(yield* Effect.exit(nessus.listScanners))
      assert.strictEqual(error.reason, "Forbidden")
      assert.strictEqual(error.status, 403)
    }).pipe(Effect.provide(HttpLive)))

  it.effect("layerConfig reads NESSUS_* settings (password Redacted) and builds a working client", () =>
    Effect.gen(function*() {
      const sim = yield* simulator({ scanApi: false })
      const env = {
        NESSUS_URL: sim.scanners[0]!.url,
        NESSUS_USERNAME: "nessus",
        NESSUS_PASSWORD: "nessus",
        NESSUS_REQUEST_TIMEOUT: "10 seconds"
      }
      const mode = yield* Effect.gen(function*() {
        const nessus = yield* NessusClient.NessusClient
        yield* nessus.createScan({ name: "from-config", targets: "10.0.0.5" })
        return yield* nessus.authMode
      }).pipe(
        Effect.provide(NessusClient.layerConfig().pipe(
          Layer.provide(HttpLive),
          Layer.provide(ConfigProvider.layer(ConfigProvider.fromEnvRecord(env)))
        ))
      )
      assert.strictEqual(mode, "web-ui")
      const missing = yield* Effect.exit(
        Effect.provide(
          Effect.gen(function*() {
            return yield* NessusClient.NessusClient
          }),
          NessusClient.layerConfig().pipe(
            Layer.provide(HttpLive),
            Layer.provide(ConfigProvider.layer(ConfigProvider.fromEnvRecord({ NESSUS_USERNAME: "x" })))
          )
        )
      )
      assert.isTrue(Exit.isFailure(missing))
      assert.include(Exit.isFailure(missing) ? Cause.pretty(missing.cause) : "", "NESSUS_URL")
    }))

  it.effect("invalid options fail with InvalidRequest", () =>
    Effect.gen(function*() {
      const bad = [
        { url: "not a url", auth: { mode: "api-keys", accessKey: Redacted.make("a"), secretKey: Redacted.make("b") } },
        { url: "ftp://x", auth: { mode: "api-keys", accessKey: Redacted.make("a"), secretKey: Redacted.make("b") } },
        { url: "http://127.0.0.1:1", auth: { mode: "session", username: "u" } },
        { url: "http://127.0.0.1:1", auth: { mode: "session", username: "u", password: "plain" } },
        { url: "http://127.0.0.1:1", auth: { mode: "auto" } }
      ] as unknown as Array<NessusClient.Options>
      for (const options of bad) {
        const error = failure(yield* Effect.exit(NessusClient.make(options)))
        assert.strictEqual(error.reason, "InvalidRequest")
      }
    }).pipe(Effect.provide(HttpLive)))
})

describe("NessusClient faults", () => {
  it.live("reads are retried through a 503 burst; writes are not", () =>
    Effect.gen(function*() {
      const sim = yield* simulator()
      const nessus = yield* keysClient(sim.scanners[0]!.url)
      sim.scanners[0]!.setFaults({ errorBurst: { status: 503, count: 2 } })
      assert.isArray(yield* nessus.listScans())
      assert.strictEqual(calls(sim, /^GET \/scans$/), 3)
      sim.scanners[0]!.setFaults({ errorBurst: { status: 503, count: 1 } })
      assert.strictEqual((yield* nessus.serverStatus).status, "ready")
      sim.scanners[0]!.setFaults({ errorBurst: { status: 502, count: 1 } })
      const error = failure(yield* Effect.exit(nessus.createFolder("f")))
      assert.strictEqual(error.reason, "ServerError")
      assert.strictEqual(error.status, 502)
      assert.isTrue(error.isTransient)
      assert.strictEqual(calls(sim, /^POST \/folders$/), 1)
    }).pipe(Effect.provide(HttpLive)))

  it.effect("a write whose connection is reset is not retried; createScan looks for the scan before failing", () =>
    Effect.gen(function*() {
      const sim = yield* simulator()
      const nessus = yield* keysClient(sim.scanners[0]!.url)
      sim.scanners[0]!.setFaults({ resetConnections: 1 })
      const error = failure(yield* Effect.exit(nessus.createScan({ name: "reset", targets: "10.0.0.5", template: BASIC })))
      assert.strictEqual(error.reason, "Transport")
      assert.isTrue(error.isTransient)
      assert.strictEqual(calls(sim, /^POST \/scans$/), 1)
      assert.strictEqual(calls(sim, /^GET \/scans$/), 1)
    }).pipe(Effect.provide(HttpLive)))

  it.effect("scan_api false and the connection dropped before any answer: ScanApiUnavailable", () =>
    Effect.gen(function*() {
      const sim = yield* simulator({ scanApi: false })
      const nessus = yield* keysClient(sim.scanners[0]!.url)
      sim.scanners[0]!.setFaults({ resetConnections: 1 })
      const error = failure(yield* Effect.exit(nessus.createScan({ name: "gone", targets: "10.0.0.5", template: BASIC })))
      assert.strictEqual(error.reason, "ScanApiUnavailable")
      assert.include(error.message, "closed the connection")
    }).pipe(Effect.provide(HttpLive)))

  it.live("429 is RateLimited and retried for reads; resets are retried for reads", () =>
    Effect.gen(function*() {
      const sim = yield* simulator()
      const nessus = yield* keysClient(sim.scanners[0]!.url)
      sim.scanners[0]!.setFaults({ rateLimit: { count: 1, retryAfterSeconds: 0 } })
      assert.isArray(yield* nessus.listFolders)
      sim.scanners[0]!.setFaults({ resetConnections: 1 })
      assert.isArray(yield* nessus.listPolicies)
      sim.scanners[0]!.setFaults({ rateLimit: { count: 5, retryAfterSeconds: 0 } })
      const limited = failure(yield* Effect.exit(nessus.createFolder("x")))
      assert.strictEqual(limited.reason, "RateLimited")
      assert.isTrue(limited.isTransient)
    }).pipe(Effect.provide(HttpLive)))

  it.effect("a scanner that is down is a transient Transport error", () =>
    Effect.gen(function*() {
      const sim = yield* simulator()
      const nessus = yield* keysClient(sim.scanners[0]!.url, { retry: false })
      sim.scanners[0]!.setFaults({ down: true })
      const error = failure(yield* Effect.exit(nessus.serverStatus))
      assert.strictEqual(error.reason, "Transport")
      assert.isTrue(error.isTransient)
      assert.include(error.message, "GET /server/status")
    }).pipe(Effect.provide(HttpLive)))

  it.live("a slow answer is a Timeout", () =>
    Effect.gen(function*() {
      const sim = yield* simulator()
      const nessus = yield* keysClient(sim.scanners[0]!.url, { retry: false, requestTimeout: "100 millis" })
      sim.scanners[0]!.setFaults({ latencyMs: 2_000 })
      const error = failure(yield* Effect.exit(nessus.listScans()))
      assert.strictEqual(error.reason, "Timeout")
    }).pipe(Effect.provide(HttpLive)))

  it.effect("export polling stuck in loading times out cleanly, backing off (TestClock)", () =>
    Effect.gen(function*() {
      const sim = yield* simulator({ scanDurationMs: 0 })
      const nessus = yield* keysClient(sim.scanners[0]!.url, { requestTimeout: "1 hour" })
      const scan = yield* nessus.createScan({ name: "stuck", targets: "10.0.0.5" })
      yield* nessus.launchScan(scan.id)
      yield* waitForStatus(nessus, scan.id, ["completed"])
      sim.scanners[0]!.setFaults({ exportStuckLoading: true })
      const handle = yield* nessus.requestExport(scan.id)
      const fiber = yield* Effect.forkChild(nessus.awaitExport(handle, { timeout: "60 seconds" }))
      const exit = yield* driveClock(fiber, "400 millis")
      const error = failure(exit)
      assert.strictEqual(error.reason, "Timeout")
      assert.include(error.message, "still loading")
      const polls = calls(sim, /export\/\{[a-z_]+\}\/status/)
      // a fixed 250 ms poll would make 240 calls in 60 s; the backoff (×1.5 up to 5 s) makes ~18
      assert.isAtLeast(polls, 5)
      assert.isAtMost(polls, 25)
    }).pipe(Effect.provide(HttpLive)))

  it.live("an export that ends in error is a ServerError", () =>
    Effect.gen(function*() {
      const sim = yield* simulator({ scanDurationMs: 0, exportDelayMs: 10 })
      const nessus = yield* keysClient(sim.scanners[0]!.url)
      const scan = yield* nessus.createScan({ name: "broken", targets: "10.0.0.5" })
      yield* nessus.launchScan(scan.id)
      yield* waitForStatus(nessus, scan.id, ["completed"])
      sim.scanners[0]!.setFaults({ exportError: true })
      const exit = yield* Effect.exit(Stream.runDrain(nessus.exportScan(scan.id)))
      const error = failure(exit)
      assert.strictEqual(error.reason, "ServerError")
      assert.include(error.message, "export")
    }).pipe(Effect.provide(HttpLive)))

  it.effect("unknown scans and export files are NotFound", () =>
    Effect.gen(function*() {
      const sim = yield* simulator()
      const nessus = yield* keysClient(sim.scanners[0]!.url)
      const scan = failure(yield* Effect.exit(nessus.scanDetails(9999)))
      assert.strictEqual(scan.reason, "NotFound")
      const file = failure(yield* Effect.exit(nessus.exportStatus({ scanId: 9999, file: 1, token: Option.none(), via: "file" })))
      assert.strictEqual(file.reason, "NotFound")
      assert.isFalse(file.isTransient)
    }).pipe(Effect.provide(HttpLive)))
})
