import { assert, describe, it } from "@effect/vitest"
import { ConfigProvider, Context, Deferred, Effect, Exit, Layer, Redacted, Result, Scope } from "effect"
import { mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join, resolve } from "node:path"
import * as ScannerConfig from "../src/ScannerConfig.js"
import type * as SchedulerError from "../src/SchedulerError.js"
import { logCapture } from "./harness.js"

const repo = resolve(import.meta.dirname, "../../..")

const parse = (text: string, env: Record<string, string | undefined> = {}) => ScannerConfig.parse(text, { file: "scanners.yaml", env })

const failure = (text: string, env: Record<string, string | undefined> = {}): SchedulerError.SchedulerError => {
  const r = parse(text, env)
  if (Result.isSuccess(r)) throw new Error("expected a configuration error")
  return r.failure
}

const minimal = `pools:
  nessus:
    allowed_targets: [10.0.0.0/8]
    scanners:
      - instance_id: scanner1
        url: https://nessus1:8834
        username: \${NESSUS_USERNAME_1}
        password: \${NESSUS_PASSWORD_1:-changeme}
`

describe("ScannerConfig", () => {
  it("expands ${VAR} and ${VAR:-default} anywhere in a string and applies defaults", () => {
    const r = parse(minimal.replace("https://nessus1:8834", "https://${HOST:-nessus9}:8834/"), { NESSUS_USERNAME_1: "alice", NESSUS_PASSWORD_1: "" })
    assert.isTrue(Result.isSuccess(r))
    if (Result.isFailure(r)) return
    const c = r.success
    assert.strictEqual(c.defaultPool, "nessus")
    const s = c.pools[0]?.scanners[0]
    assert.strictEqual(s?.url, "https://nessus9:8834")
    assert.strictEqual(s?.maxConcurrentScans, 2)
    assert.strictEqual(s?.enabled, true)
    assert.strictEqual(s?.apiMode, "auto")
    assert.strictEqual(s?.name, "scanner1")
    assert.strictEqual(c.pools[0]?.maxTargets, 4096)
    if (s?.auth._tag !== "Password") throw new Error("expected password auth")
    assert.strictEqual(s.auth.username, "alice")
    assert.strictEqual(Redacted.value(s.auth.password), "changeme", "an empty variable takes the default, like the shell")
    const shown = JSON.stringify(ScannerConfig.summary(c))
    assert.include(shown, "password (user alice)")
    assert.notInclude(shown, "changeme")
  })

  it("names the file, line and key of an unset variable", () => {
    const e = failure(minimal)
    assert.strictEqual(e.reason, "config_invalid")
    assert.strictEqual(e.file, "scanners.yaml")
    assert.strictEqual(e.line, 7)
    assert.strictEqual(e.key, "pools.nessus.scanners[0].username")
    assert.include(e.message, "scanners.yaml:7: pools.nessus.scanners[0].username: environment variable NESSUS_USERNAME_1 is not set")
  })

  it("refuses unknown keys with their line", () => {
    const e = failure(minimal.replace("        url:", "        max_concurrent_scan: 3\n        url:"), { NESSUS_USERNAME_1: "a" })
    assert.strictEqual(e.line, 6)
    assert.strictEqual(e.key, "pools.nessus.scanners[0].max_concurrent_scan")
    assert.include(e.message, 'unknown key "max_concurrent_scan"')
    const top = failure(`${minimal}default_pol: nessus\n`, { NESSUS_USERNAME_1: "a" })
    assert.strictEqual(top.line, 9)
    assert.strictEqual(top.key, "default_pol")
  })

  it("refuses duplicate instance ids across pools", () => {
    const text = `${minimal}  dmz:
    scanners:
      - instance_id: scanner1
        url: https://dmz:8834
        access_key: a
        secret_key: b
`
    const e = failure(text, { NESSUS_USERNAME_1: "a" })
    assert.include(e.message, 'scanners.yaml:11: pools.dmz.scanners[0].instance_id: duplicate instance_id "scanner1" (already used in pools.nessus)')
  })

  it("reports every problem, each with its line", () => {
    const text = `pools:
  nessus:
    allowed_targets: [10.0.0.0/8, "bad;target"]
    max_targets: lots
    scanners:
      - instance_id: scanner1
        url: ftp://nessus1
        username: u
        password: p
        api_mode: magic
        max_concurrent_scans: 0
        tls: { insecure: yes-please }
      - instance_id: scanner2
        url: https://user:pw@nessus2:8834
        username: u
        password: p
        access_key: k
        secret_key: s
default_pool: other
`
    const e = failure(text)
    const lines = e.message.split("\n").slice(1)
    const expect = [
      "scanners.yaml:3: pools.nessus.allowed_targets[1]:",
      "scanners.yaml:4: pools.nessus.max_targets:",
      "scanners.yaml:7: pools.nessus.scanners[0].url:",
      "scanners.yaml:10: pools.nessus.scanners[0].api_mode:",
      "scanners.yaml:11: pools.nessus.scanners[0].max_concurrent_scans:",
      "scanners.yaml:12: pools.nessus.scanners[0].tls.insecure:",
      "scanners.yaml:13: pools.nessus.scanners[1]: give either username/password or access_key/secret_key",
      "scanners.yaml:14: pools.nessus.scanners[1].url: must not carry a user or password",
      "scanners.yaml:19: default_pool:"
    ]
    for (const x of expect) assert.isTrue(lines.some((l) => l.trim().startsWith(x)), `missing: ${x}\n${e.message}`)
    // the same problems as a structured list, in file order
    const issues = e.issues ?? []
    assert.strictEqual(issues.length, lines.length)
    for (const x of expect) {
      const [file, line, key] = x.split(": ")[0]?.split(":") ?? []
      assert.isTrue(issues.some((i) => i.file === file && i.line === Number(line) && x.startsWith(`${i.file}:${i.line}: ${i.key}:`)), `missing issue: ${x} (${key})`)
    }
    assert.include(issues.find((i) => i.key === "pools.nessus.scanners[0].api_mode")?.problem ?? "", "auto, api or web-ui")
  })

  it("never echoes a secret's value in a configuration error", () => {
    const e = failure(minimal.replace("password: \${NESSUS_PASSWORD_1:-changeme}", "password: \"hunter2\${oops\""), { NESSUS_USERNAME_1: "a" })
    assert.strictEqual(e.key, "pools.nessus.scanners[0].password")
    assert.include(e.message, "malformed variable reference")
    assert.notInclude(e.message, "hunter2")
    assert.notInclude(JSON.stringify(e.issues), "hunter2")
  })

  it("reports YAML syntax errors and duplicate keys with a line", () => {
    const e = failure("pools:\n  nessus:\n    max_targets: 1\n    max_targets: 2\n")
    assert.strictEqual(e.key, "(yaml)")
    assert.strictEqual(e.line, 4)
    assert.strictEqual(failure("").reason, "config_invalid")
    assert.include(failure("credentials: {}\n").message, "pools: is required")
  })

  it("validates named credentials", () => {
    const e = failure(`${minimal}credentials:\n  bad name!: { username: u, password: p }\n  ok: { username: u, password: p, elevate_privileges_with: root-please }\n`, { NESSUS_USERNAME_1: "a" })
    assert.include(e.message, "scanners.yaml:10: credentials.bad name!:")
    assert.include(e.message, "scanners.yaml:11: credentials.ok.elevate_privileges_with:")
  })

  it.effect("loads the shipped config/scanners.yaml with defaults from the environment", () =>
    Effect.gen(function*() {
      const c = yield* ScannerConfig.load(join(repo, "config/scanners.yaml"), { env: {} })
      assert.strictEqual(c.defaultPool, "nessus")
      const scanners = ScannerConfig.scannersOf(c, "nessus")
      assert.deepStrictEqual(scanners.map((s) => [s.instanceId, s.url, s.maxConcurrentScans]), [
        ["scanner1", "http://127.0.0.1:8834", 2],
        ["scanner2", "http://127.0.0.1:8835", 2]
      ])
      const auth = scanners[0]?.auth
      assert.isTrue(auth?._tag === "Password" && auth.username === "nessus" && Redacted.value(auth.password) === "nessus")
      const cred = ScannerConfig.credentialOf(c, "linux-admin")
      assert.strictEqual(cred?.username, "scanuser")
      assert.strictEqual(Redacted.value(cred?.password ?? Redacted.make("")), "scanpass")
      assert.strictEqual(Redacted.value(cred?.escalationPassword ?? Redacted.make("")), "sudopass")
      assert.strictEqual(cred?.elevatePrivilegesWith, "sudo")
      assert.deepStrictEqual(ScannerConfig.poolOf(c)?.allowedTargets.map((t) => t.text), [
        "127.0.0.0/8",
        "::1/128",
        "192.0.2.0/24",
        "198.51.100.0/24",
        "203.0.113.0/24",
        "2001:db8::/32"
      ])
    }))

  it.effect("the documented example parses once its variables are set, and names the missing ones otherwise", () =>
    Effect.gen(function*() {
      const path = join(repo, "config/scanners.example.yaml")
      const env = Object.fromEntries(
        ["NESSUS_USERNAME_1", "NESSUS_PASSWORD_1", "NESSUS_ACCESS_KEY_2", "NESSUS_SECRET_KEY_2", "NESSUS_DMZ_PASSWORD", "SCAN_USER", "SCAN_PASS", "SCAN_SUDO"].map((v) => [v, `value-of-${v}`])
      )
      const c = yield* ScannerConfig.load(path, { env })
      assert.deepStrictEqual(c.pools.map((p) => [p.name, p.scanners.length]), [["nessus", 2], ["dmz", 1]])
      assert.strictEqual(ScannerConfig.scannerOf(c, "scanner2")?.auth._tag, "ApiKeys")
      assert.isTrue(ScannerConfig.scannerOf(c, "dmz-scanner1")?.tls.insecure)
      const e = yield* Effect.flip(ScannerConfig.load(path, { env: {} }))
      assert.include(e.message, "NESSUS_USERNAME_1 is not set")
      assert.include(e.message, "SCAN_SUDO is not set")
    }))

  it.effect("reads variables through the ConfigProvider when no env is given, and reports unreadable files", () =>
    Effect.gen(function*() {
      const dir = mkdtempSync(join(tmpdir(), "scanners-"))
      const file = join(dir, "scanners.yaml")
      writeFileSync(file, minimal)
      const c = yield* ScannerConfig.load(file).pipe(
        Effect.provide(ConfigProvider.layer(ConfigProvider.fromUnknown({ NESSUS_USERNAME_1: "bob" })))
      )
      const auth = c.pools[0]?.scanners[0]?.auth
      assert.isTrue(auth?._tag === "Password" && auth.username === "bob")
      const missing = yield* Effect.flip(ScannerConfig.load(join(dir, "nope.yaml")))
      assert.strictEqual(missing.reason, "config_invalid")
      assert.include(missing.message, "nope.yaml")
    }))

  it.effect("reload swaps the configuration and keeps the old one when the file turns bad", () =>
    Effect.gen(function*() {
      const dir = mkdtempSync(join(tmpdir(), "scanners-"))
      const file = join(dir, "scanners.yaml")
      writeFileSync(file, minimal)
      const env = { NESSUS_USERNAME_1: "a" }
      const service = yield* ScannerConfig.make(ScannerConfig.load(file, { env }))
      writeFileSync(file, minimal.replace("scanner1", "scanner7"))
      yield* service.reload
      assert.strictEqual((yield* service.current).pools[0]?.scanners[0]?.instanceId, "scanner7")
      writeFileSync(file, "pools: [")
      const e = yield* Effect.flip(service.reload)
      assert.strictEqual(e.reason, "config_invalid")
      assert.strictEqual((yield* service.current).pools[0]?.scanners[0]?.instanceId, "scanner7")
    }))

  it.effect("reloads on SIGHUP for the lifetime of the scope", () =>
    Effect.gen(function*() {
      const reloaded = yield* Deferred.make<number>()
      let loads = 0
      const loader = Effect.suspend(() => {
        loads++
        if (loads === 2) Deferred.doneUnsafe(reloaded, Effect.succeed(loads))
        const r = parse(minimal.replace("scanner1", `scanner${loads}`), { NESSUS_USERNAME_1: "a" })
        return Result.isSuccess(r) ? Effect.succeed(r.success) : Effect.fail(r.failure)
      })
      const service = yield* ScannerConfig.make(loader)
      const before = process.listenerCount("SIGHUP")
      yield* ScannerConfig.reloadOnSighup.pipe(Effect.provideService(ScannerConfig.ScannerConfig, service))
      assert.strictEqual(process.listenerCount("SIGHUP"), before + 1)
      process.emit("SIGHUP", "SIGHUP")
      assert.strictEqual(yield* Deferred.await(reloaded), 2)
      let id: string | undefined
      for (let i = 0; i < 100 && id !== "scanner2"; i++) {
        yield* Effect.yieldNow
        id = (yield* service.current).pools[0]?.scanners[0]?.instanceId
      }
      assert.strictEqual(id, "scanner2")
    }))

  it.effect("SIGHUP layer: a bad file is refused with an error log naming file, line and key; the old configuration stays; a good one applies", () =>
    Effect.gen(function*() {
      const dir = mkdtempSync(join(tmpdir(), "scanners-"))
      const file = join(dir, "scanners.yaml")
      writeFileSync(file, minimal)
      const env = { NESSUS_USERNAME_1: "a" }
      const log = logCapture()
      const scope = yield* Scope.make()
      const before = process.listenerCount("SIGHUP")
      const context = yield* Layer.build(
        Layer.provideMerge(ScannerConfig.layerReloadOnSighup, ScannerConfig.layer({ path: file, env }))
      ).pipe(Scope.provide(scope), Effect.provide(log.layer))
      const service = Context.get(context, ScannerConfig.ScannerConfig)
      assert.strictEqual(process.listenerCount("SIGHUP"), before + 1)

      const bad = minimal.replace("scanner1", "scanner2").replace("url: https://nessus1:8834", "url: ftp://nessus1")
      writeFileSync(file, bad)
      const badLine = bad.split("\n").findIndex((l) => l.includes("ftp://")) + 1
      process.emit("SIGHUP", "SIGHUP")
      const refused = yield* log.next((e) => e.annotations["event"] === "config_reload_failed")
      assert.strictEqual(refused.level, "Error")
      assert.include(refused.message, `${file}:${badLine}: pools.nessus.scanners[0].url`)
      assert.deepInclude(refused.annotations, { trigger: "SIGHUP", file, line: badLine, key: "pools.nessus.scanners[0].url" })
      assert.strictEqual((yield* service.current).pools[0]?.scanners[0]?.instanceId, "scanner1")

      writeFileSync(file, minimal.replace("scanner1", "scanner3"))
      process.emit("SIGHUP", "SIGHUP")
      const applied = yield* log.next((e) => e.annotations["event"] === "config_reloaded")
      assert.include(applied.message, file)
      assert.strictEqual((yield* service.current).pools[0]?.scanners[0]?.instanceId, "scanner3")

      yield* Scope.close(scope, Exit.void)
      assert.strictEqual(process.listenerCount("SIGHUP"), before)
    }))

  it.effect("a mapped view (layerMap) follows its base: reloading the base reloads the view", () =>
    Effect.gen(function*() {
      const dir = mkdtempSync(join(tmpdir(), "scanners-"))
      const file = join(dir, "scanners.yaml")
      const two = minimal + "      - { instance_id: scanner2, url: \"https://nessus2:8834\", username: u, password: p }\n"
      writeFileSync(file, two)
      const env = { NESSUS_USERNAME_1: "a" }
      const full = Context.get(yield* Layer.build(ScannerConfig.layer({ path: file, env })), ScannerConfig.ScannerConfig)
      const restricted = ScannerConfig.layerMap((c) => ({ ...c, pools: c.pools.map((p) => ({ ...p, scanners: p.scanners.filter((x) => x.instanceId !== "scanner1") })) }))
      const view = Context.get(yield* Layer.build(restricted.pipe(Layer.provide(Layer.succeed(ScannerConfig.ScannerConfig, full)))), ScannerConfig.ScannerConfig)
      assert.deepStrictEqual((yield* view.current).pools[0]?.scanners.map((x) => x.instanceId), ["scanner2"])
      writeFileSync(file, two.replace("scanner2", "scanner3"))
      yield* full.reload
      assert.deepStrictEqual((yield* view.current).pools[0]?.scanners.map((x) => x.instanceId), ["scanner3"])
      assert.deepStrictEqual((yield* full.current).pools[0]?.scanners.map((x) => x.instanceId), ["scanner1", "scanner3"])
    }))
})
