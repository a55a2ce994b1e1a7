/**
 * Scanners, circuits, the configuration and housekeeping: `scanners check` against the simulator over HTTP
 * and HTTPS (a self-signed certificate, like Nessus's own), the licence gate (`scan_api: false`), a wrong
 * password and a closed port; the others against a real Redis seeded through the scheduler library.
 */
import { assert, describe, it } from "@effect/vitest"
import { Scheduler } from "@nessus-mcp/scheduler"
import { Simulator } from "@nessus-mcp/nessus-simulator"
import { Effect, Option } from "effect"
import { TestClock } from "effect/testing"
import { execFileSync } from "node:child_process"
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs"
import { createServer } from "node:net"
import { join } from "node:path"
import { afterAll, beforeAll } from "vitest"
import { cli, type Env, json, makeEnv, shape, submit, tempDir } from "./support.js"

const CANARY = "canary-Pa55w0rd-7f3a"

let env: Env
let checkSim: Simulator.RunningSimulator
let checkConfig: string
let closedPort: number

const selfSigned = () => {
  const dir = tempDir("tls")
  execFileSync("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", "k.pem", "-out", "c.pem", "-days", "2", "-subj", "/CN=nessus-scanner"], { cwd: dir, stdio: "pipe" })
  const cert = readFileSync(join(dir, "c.pem"), "utf8")
  const fingerprint = execFileSync("openssl", ["x509", "-noout", "-fingerprint", "-sha256", "-in", "c.pem"], { cwd: dir, encoding: "utf8" }).split("=")[1]!.trim()
  return { cert, key: readFileSync(join(dir, "k.pem"), "utf8"), fingerprint }
}

beforeAll(async () => {
  env = await makeEnv("scanners")
  const tls = selfSigned()
  checkSim = await Simulator.start({
    scanners: [
      { id: "pro", users: [{ username: "nessus", password: CANARY }] },
      { id: "essentials", scanApi: false, edition: "essentials", users: [{ username: "nessus", password: CANARY }] },
      { id: "tls", tls: { cert: tls.cert, key: tls.key }, users: [{ username: "nessus", password: CANARY }] }
    ]
  })
  closedPort = await new Promise<number>((resolve) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port
      s.close(() => resolve(port))
    })
  })
  const [pro, ess, https] = checkSim.scanners
  const entry = (id: string, url: string, extra: ReadonlyArray<string> = [], password = "${ADMIN_CHECK_PASSWORD}") =>
    [`      - instance_id: ${id}`, `        url: ${url}`, "        username: nessus", `        password: ${password}`, ...extra.map((l) => `        ${l}`)].join("\n")
  checkConfig = join(tempDir("check"), "scanners.yaml")
  writeFileSync(checkConfig, [
    "pools:",
    "  nessus:",
    "    allowed_targets: [192.0.2.0/24]",
    "    scanners:",
    entry("pro", pro!.url),
    entry("essentials-auto", ess!.url),
    entry("essentials-api", ess!.url, ["api_mode: api"]),
    entry("wrong-password", pro!.url, [], "not-the-password"),
    entry("down", `http://127.0.0.1:${closedPort}`),
    entry("tls-untrusted", https!.url),
    entry("tls-pinned", https!.url, [`tls: { fingerprint: "${tls.fingerprint}" }`, "enabled: false"]),
    ""
  ].join("\n"))
  process.env["ADMIN_CHECK_PASSWORD"] = CANARY
})
afterAll(async () => {
  delete process.env["ADMIN_CHECK_PASSWORD"]
  await checkSim.close()
  await env.close()
})

describe("nessus-admin scanners check", () => {
  it("gives a verdict per scanner: reachable, TLS, login, version, licence and the API mode used", async () => {
    const r = await cli("scanners", "check", "--config", checkConfig, "--timeout", "5s", "--json")
    assert.strictEqual(r.code, 1, r.stderr)
    assert.notInclude(r.stdout, CANARY)
    const doc = await shape("scanners check", r)
    assert.isFalse(doc.ok)
    const by = Object.fromEntries(doc.scanners.map((s: { instance_id: string }) => [s.instance_id, s]))
    assert.deepInclude(by["pro"], {
      verdict: "ok", reachable: "ok", login: "ok", server_status: "ready", nessus_version: "10.7.2", scan_api: true, api_mode_configured: "auto", api_mode_used: "session"
    })
    assert.deepStrictEqual(by["pro"].tls, { result: "skipped", mode: "none (plain http)" })
    assert.deepInclude(by["essentials-auto"], { verdict: "ok", login: "ok", scan_api: false, api_mode_used: "web-ui" })
    assert.match(by["essentials-auto"].notes.join(" "), /scan_api: false; scans are driven through the web UI token/)
    assert.deepInclude(by["essentials-api"], { verdict: "failed", login: "ok", scan_api: false, api_mode_used: "session" })
    assert.match(by["essentials-api"].problems[0], /scan_api: false.*HTTP 412.*use api_mode auto or web-ui/)
    assert.deepInclude(by["wrong-password"], { verdict: "failed", reachable: "ok", login: "failed" })
    assert.match(by["wrong-password"].problems[0], /login refused \(Unauthorized/)
    assert.deepInclude(by["down"], { verdict: "failed", reachable: "failed", login: "skipped" })
    assert.match(by["down"].problems[0], /unreachable: ECONNREFUSED/)
    assert.deepInclude(by["tls-untrusted"], { verdict: "failed", reachable: "ok", login: "skipped" })
    assert.deepStrictEqual(by["tls-untrusted"].tls, { result: "failed", mode: "system CAs" })
    assert.match(by["tls-untrusted"].problems[0], /certificate is not trusted \((DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN)\).*tls.fingerprint/)
    assert.deepInclude(by["tls-pinned"], { verdict: "warning", reachable: "ok", login: "ok", enabled: false })
    assert.deepStrictEqual(by["tls-pinned"].tls, { result: "ok", mode: "pinned fingerprint" })
    assert.match(by["tls-pinned"].notes.join(" "), /disabled in the scanners file/)

    const human = await cli("scanners", "check", "--config", checkConfig, "--timeout", "5s")
    assert.strictEqual(human.code, 1)
    assert.match(human.stdout, /SCANNER\s+VERDICT\s+REACHABLE\s+TLS\s+LOGIN\s+VERSION\s+SCAN_API\s+API MODE\s+URL/)
    assert.match(human.stdout, /^pro\s+OK\s+ok\s+none \(plain http\)\s+ok\s+10\.7\.2\s+\S+\s+true\s+auto → session\s+http:/m)
    assert.match(human.stdout, /^essentials-auto\s+OK\s+.*false\s+auto → web-ui/m)
    assert.match(human.stdout, /^down: FAILED: unreachable/m)
    assert.match(human.stdout, /4 of 7 scanner\(s\) cannot be used by the workers\./)
    assert.notInclude(human.stdout + human.stderr, CANARY)
  })

  it("checks one scanner by instance id (exit 0 when usable) and refuses an unknown one (exit 2)", async () => {
    const one = await shape("scanners check", await cli("scanners", "check", "essentials-auto", "--config", checkConfig, "--json"))
    assert.deepStrictEqual(one.scanners.map((s: { instance_id: string }) => s.instance_id), ["essentials-auto"])
    assert.isTrue(one.ok)
    const ok = await cli("scanners", "check", "pro", "--config", checkConfig)
    assert.strictEqual(ok.code, 0)
    assert.match(ok.stdout, /All 1 scanner\(s\) usable\./)
    const unknown = await cli("scanners", "check", "nope", "--config", checkConfig, "--json")
    assert.strictEqual(unknown.code, 2)
    assert.strictEqual(json(unknown).error.code, "unknown_scanner")
  })
})

describe("nessus-admin scanners list / circuits", () => {
  it("scanners list shows live load; circuits list shows an open circuit and circuits reset closes it", async () => {
    const q = env.queue("circuits")
    await q.seed(Effect.gen(function*() {
      const s = yield* Scheduler.Scheduler
      yield* submit("running")
      yield* s.claim({ pool: "nessus", worker: "w" })
      for (let i = 0; i < 5; i++) yield* s.reportScanner("dmz1", "failure")
    }))
    const list = await shape("scanners list", await cli("scanners", "list", ...q.flags, "--json"))
    assert.deepStrictEqual(list.scanners.map((s: { instance_id: string }) => s.instance_id), ["scanner1", "scanner2", "dmz1"])
    assert.strictEqual(list.scanners.reduce((n: number, s: { running: number }) => n + s.running, 0), 1)
    assert.strictEqual(list.scanners[2].circuit_state, "open")
    const onlyDmz = await shape("scanners list", await cli("scanners", "list", "--pool", "dmz", ...q.flags, "--json"))
    assert.strictEqual(onlyDmz.scanners.length, 1)
    const table = await cli("scanners", "list", ...q.flags)
    // an open circuit leaves no usable slot: AVAILABLE 0 although nothing runs there
    assert.match(table.stdout, /^dmz1\s+dmz\s+yes\s+0\s+2\s+0\s+0%\s+0\s+open\s+auto\s+http:/m)

    const circuits = await shape("circuits list", await cli("circuits", "list", ...q.flags, "--json"))
    const dmz = circuits.circuits.find((c: { instance_id: string }) => c.instance_id === "dmz1")
    assert.strictEqual(dmz.state, "open")
    assert.strictEqual(dmz.consecutive_failures, 5)
    assert.isString(dmz.retry_at)
    assert.deepInclude(circuits.transitions[0], { instance_id: "dmz1", from: "closed", to: "open" })
    const human = await cli("circuits", "list", ...q.flags)
    assert.match(human.stdout, /^dmz1\s+open\s+5\s+\S+Z/m)
    assert.match(human.stdout, /Recent transitions:/)

    const reset = await shape("circuits reset", await cli("circuits", "reset", "dmz1", ...q.flags, "--json"))
    assert.strictEqual(reset.previous_state, "open")
    assert.deepInclude(reset.circuit, { instance_id: "dmz1", state: "closed", consecutive_failures: 0 })
    const text = await cli("circuits", "reset", "dmz1", ...q.flags)
    assert.strictEqual(text.stdout.trim(), "Circuit of dmz1: closed → closed.")
    const unknown = await cli("circuits", "reset", "nope", ...q.flags, "--json")
    assert.strictEqual(unknown.code, 2)
    assert.strictEqual(json(unknown).error.code, "unknown_scanner")
  })

  it("an unreachable Redis exits 4 with backend_unavailable and never prints the URL's password", async () => {
    const r = await cli("queue", "stats", "--redis-url", `redis://:${CANARY}@127.0.0.1:${closedPort}`, "--config", env.configFile, "--json")
    assert.strictEqual(r.code, 4)
    assert.strictEqual(json(r).error.code, "backend_unavailable")
    assert.notInclude(r.stdout + r.stderr, CANARY)
    const none = await cli("queue", "stats", "--redis-url", "", "--config", env.configFile, "--json")
    assert.strictEqual(none.code, 2)
    assert.strictEqual(json(none).error.code, "missing_redis_url")
  })
})

describe("nessus-admin config validate", () => {
  it("a valid file: summary without secrets and the referenced environment (set or not, never the values)", async () => {
    const r = await cli("config", "validate", "--config", checkConfig, "--json")
    assert.strictEqual(r.code, 0, r.stdout)
    assert.notInclude(r.stdout, CANARY)
    const doc = await shape("config validate", r)
    assert.isTrue(doc.valid)
    assert.deepStrictEqual(doc.problems, [])
    assert.deepStrictEqual(doc.environment, [{ name: "ADMIN_CHECK_PASSWORD", set: true, has_default: false }])
    assert.strictEqual(doc.summary.pools[0].scanners.length, 7)
    assert.strictEqual(doc.summary.pools[0].scanners[0].auth, "password (user nessus)")
    const human = await cli("config", "validate", "--config", env.configFile)
    assert.strictEqual(human.code, 0)
    assert.match(human.stdout, /^VALID  \S+scanners\.yaml: 2 pool\(s\), 3 scanner\(s\), 1 named credential\(s\); default pool nessus/)
    assert.match(human.stdout, /ADMIN_TEST_SCAN_PASS: unset \(the file's default applies\)/)
  })

  it("an invalid file: every problem with file and line (exit 1); an unreadable file exits 3", async () => {
    const dir = tempDir("badconfig")
    const file = join(dir, "scanners.yaml")
    writeFileSync(file, [
      "pools:", //                                            1
      "  nessus:", //                                         2
      "    allowed_targets: [192.0.2.0/24, not a target!]", // 3
      "    scanners:", //                                     4
      "      - instance_id: s1", //                           5
      "        url: ftp://nessus", //                         6
      "        username: nessus", //                          7
      "        password: ${ADMIN_UNSET_VARIABLE_X}", //       8
      "        colour: blue", //                              9
      "      - instance_id: s2", //                           10
      "        url: https://127.0.0.1:8834", //               11
      "        username: nessus", //                          12
      "        password: x", //                               13
      "        tls: { ca_file: /nonexistent/ca.pem }", //     14
      ""
    ].join("\n"))
    const r = await cli("config", "validate", "--config", file, "--json")
    assert.strictEqual(r.code, 1)
    const doc = await shape("config validate", r)
    assert.isFalse(doc.valid)
    assert.strictEqual(doc.summary, null)
    const at = (line: number) => doc.problems.find((p: { line: number }) => p.line === line)
    assert.include(at(3).key, "pools.nessus.allowed_targets[1]")
    assert.deepInclude(at(6), { file, key: "pools.nessus.scanners[0].url" })
    assert.match(at(8).problem, /environment variable ADMIN_UNSET_VARIABLE_X is not set/)
    assert.match(at(9).problem, /unknown key "colour"/)
    assert.deepStrictEqual(doc.environment, [{ name: "ADMIN_UNSET_VARIABLE_X", set: false, has_default: false }])
    const human = await cli("config", "validate", "--config", file)
    assert.strictEqual(human.code, 1)
    assert.match(human.stdout, /^NOT VALID  \S+ \(\d+ problems\)/)
    assert.include(human.stdout, `${file}:6: pools.nessus.scanners[0].url: "ftp://nessus" must be an http(s) URL`)
    assert.match(human.stdout, /ADMIN_UNSET_VARIABLE_X: UNSET/)

    // once the file parses, an unreadable tls.ca_file is a problem too, at its line
    writeFileSync(file, readFileSync(file, "utf8").replace("not a target!", "198.51.100.0/24").replace("ftp://", "https://").replace("        colour: blue\n", ""))
    process.env["ADMIN_UNSET_VARIABLE_X"] = "set now"
    try {
      const ca = await shape("config validate", await cli("config", "validate", "--config", file, "--json"))
      assert.deepStrictEqual(ca.problems.map((p: { line: number; key: string }) => [p.line, p.key]), [[13, "scanner s2: tls.ca_file"]])
    } finally {
      delete process.env["ADMIN_UNSET_VARIABLE_X"]
    }

    const missing = await cli("config", "validate", "--config", join(dir, "missing.yaml"), "--json")
    assert.strictEqual(missing.code, 3)
    assert.strictEqual(json(missing).error.code, "file_unreadable")
  })
})

describe("nessus-admin housekeeping run", () => {
  it("--dry-run reports expired and stale tasks without touching them; a real run deletes, times out and cleans artifacts", async () => {
    const q = env.queue("housekeeping")
    const day = 86_400_000
    // seeded on a clock in the past: a task completed 8 days ago, one running for 25 hours
    const { expired, stale } = await q.seed(Effect.gen(function*() {
      const s = yield* Scheduler.Scheduler
      yield* TestClock.setTime(Date.now() - 8 * day)
      const done = yield* submit("old and done")
      const c1 = Option.getOrThrow(yield* s.claim({ pool: "nessus", worker: "w" }))
      yield* s.complete(c1.lease, { artifacts: { status: join(env.dataDir, done.id, "status.json") } })
      yield* TestClock.setTime(Date.now() - 25 * 3_600_000)
      const long = yield* submit("stuck for a day")
      yield* s.claim({ pool: "nessus", worker: "w" })
      return { expired: done.id, stale: long.id }
    }).pipe(Effect.provide(TestClock.layer())))
    const fresh = await q.seed(submit("fresh"))
    mkdirSync(join(env.dataDir, expired), { recursive: true })
    writeFileSync(join(env.dataDir, expired, "status.json"), "{}")

    const dry = await cli("housekeeping", "run", "--dry-run", "--data-dir", env.dataDir, ...q.flags, "--json")
    assert.strictEqual(dry.code, 0, dry.stdout)
    const preview = await shape("housekeeping run", dry)
    assert.isTrue(preview.dry_run)
    assert.deepStrictEqual(preview.expired.map((e: { task_id: string }) => e.task_id), [expired])
    assert.deepStrictEqual(preview.timed_out.map((t: { task_id: string }) => t.task_id), [stale])
    assert.deepStrictEqual(preview.errors, [])
    const human = await cli("housekeeping", "run", "--dry-run", "--data-dir", env.dataDir, ...q.flags)
    assert.match(human.stdout, /Would expire 1 finished task\(s\) past their retention\./)
    assert.match(human.stdout, /Would time out 1 stale running task\(s\)\./)
    assert.isTrue(existsSync(join(env.dataDir, expired)))

    const real = await shape("housekeeping run", await cli("housekeeping", "run", "--data-dir", env.dataDir, ...q.flags, "--json"))
    assert.isFalse(real.dry_run)
    assert.deepStrictEqual(real.expired.map((e: { task_id: string }) => e.task_id), [expired])
    assert.deepStrictEqual(real.scanner_scans.map((s: { instance_id: string }) => s.instance_id), ["scanner1", "scanner2", "dmz1"])
    assert.deepStrictEqual(real.errors, [])
    assert.isFalse(existsSync(join(env.dataDir, expired)))
    const gone = await cli("tasks", "show", expired, ...q.flags, "--json")
    assert.strictEqual(gone.code, 3)
    const timedOut = await shape("tasks show", await cli("tasks", "show", stale, ...q.flags, "--json"))
    assert.strictEqual(timedOut.task.state, "timeout")
    const dlq = await shape("dlq list", await cli("dlq", "list", ...q.flags, "--json"))
    assert.deepStrictEqual(dlq.entries.map((e: { task_id: string }) => e.task_id), [stale])
    assert.strictEqual((await shape("tasks show", await cli("tasks", "show", fresh.id, ...q.flags, "--json"))).task.state, "queued")
  })
})
