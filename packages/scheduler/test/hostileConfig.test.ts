/**
 * Hostile scanners files: malformed YAML, unknown keys, missing environment variables, duplicate instance
 * ids, alias bombs, deep nesting, huge files, wrong root types, values that try to inject YAML through an
 * environment variable. Each must end in a `config_invalid` error that names the file, the line and the key
 * (`file:line: key: problem`), quickly; loaded through `ScannerConfig.load` from a real file, and through
 * `nessus-admin config validate --json` (the operator's check) for the four classic mistakes.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit, Redacted } from "effect"
import { execFile } from "node:child_process"
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join, resolve } from "node:path"
import * as ScannerConfig from "../src/ScannerConfig.js"
import type * as SchedulerError from "../src/SchedulerError.js"

const repo = resolve(import.meta.dirname, "../../..")
const adminCli = join(repo, "apps/admin-cli/bin/run.js")

const dir = mkdtempSync(join(tmpdir(), "scheduler-hostile-config-"))
let counter = 0

/** Writes a scanners file and returns its path. */
const file = (text: string | Uint8Array): string => {
  const path = join(dir, `scanners-${counter++}.yaml`)
  writeFileSync(path, text)
  return path
}

const scanner = (id: string, extra = "") => `      - instance_id: ${id}
        url: https://${id}.example:8834
        username: admin
        password: secret${extra}
`

const valid = `default_pool: nessus
pools:
  nessus:
    allowed_targets: [10.0.0.0/8]
    scanners:
${scanner("scanner1")}`

/** Loads a file and returns its error, failing the test if it loads or takes too long. */
const loadError = (path: string, env: Record<string, string | undefined> = {}, withinMs = 2_000) =>
  Effect.gen(function*() {
    const started = performance.now()
    const exit = yield* Effect.exit(ScannerConfig.load(path, { env }))
    const elapsed = performance.now() - started
    assert.isBelow(elapsed, withinMs, `${path} took ${elapsed.toFixed(0)} ms`)
    if (Exit.isSuccess(exit)) throw new Error(`expected a configuration error for ${path}`)
    const error = exit.cause.reasons.find((r) => r._tag === "Fail")?.error as SchedulerError.SchedulerError | undefined
    if (error === undefined) throw new Error(`expected a SchedulerError, got ${String(exit.cause)}`)
    assert.strictEqual(error.reason, "config_invalid")
    return error
  })

/** The error names `path:line: key:` for this line and key, in its message and its fields. */
const names = (error: SchedulerError.SchedulerError, path: string, line: number, key: string | RegExp) => {
  const lines = error.message.split("\n")
  const hit = lines.find((l) => l.trim().startsWith(`${path}:${line}: `) && (typeof key === "string" ? l.includes(`: ${key}: `) : key.test(l)))
  assert.isDefined(hit, `no "${path}:${line}: ${String(key)}: …" line in:\n${error.message}`)
  assert.strictEqual(error.file, path)
  assert.isAbove(error.line ?? 0, 0)
  return hit!
}

describe("hostile scanners files (ScannerConfig.load)", () => {
  it.effect("malformed YAML: tabs, unterminated quotes, bad indentation, duplicate keys, stray characters", () =>
    Effect.gen(function*() {
      const cases: ReadonlyArray<readonly [string, string, number]> = [
        ["tab indentation", valid.replace("    allowed_targets", "\tallowed_targets"), 4],
        // A double-quoted scalar may span lines, so YAML only sees the missing quote at the end of the file.
        ["unterminated quote", valid.replace("url: https://scanner1.example:8834", "url: \"https://scanner1.example:8834"), 10],
        ["bad indentation", valid.replace("        username: admin", "      username: admin"), 8],
        ["duplicate key", valid.replace("        username: admin", "        username: admin\n        username: root"), 9],
        ["unclosed flow sequence", valid.replace("[10.0.0.0/8]", "[10.0.0.0/8"), 5],
        ["stray character", valid.replace("pools:", "pools: ]"), 2]
      ]
      for (const [label, text, line] of cases) {
        const path = file(text)
        const error = yield* loadError(path)
        const hit = names(error, path, line, "(yaml)")
        assert.isAbove(hit.length, path.length + 12, `${label}: the problem is described`)
      }
    }))

  it.effect("unknown keys at every level name their key path and line", () =>
    Effect.gen(function*() {
      const cases: ReadonlyArray<readonly [string, string, number, string]> = [
        ["top level", `${valid}defualt_pool: nessus\n`, 10, "defualt_pool"],
        ["pool", valid.replace("    scanners:", "    max_target: 5\n    scanners:"), 5, "pools.nessus.max_target"],
        ["scanner", valid.replace("        password: secret", "        pasword: secret\n        password: secret"), 9, "pools.nessus.scanners[0].pasword"],
        ["tls", valid.replace("        password: secret", "        password: secret\n        tls: { insecure: true, verify: false }"), 10, "pools.nessus.scanners[0].tls.verify"],
        ["credential", `${valid}credentials:\n  linux: { type: ssh, username: u, password: p, sudo: yes }\n`, 11, "credentials.linux.sudo"],
        ["prototype key", `${valid}__proto__: { polluted: true }\n`, 10, "__proto__"],
        ["constructor key", valid.replace("    scanners:", "    constructor: 1\n    scanners:"), 5, "pools.nessus.constructor"]
      ]
      for (const [label, text, line, key] of cases) {
        const path = file(text)
        const error = yield* loadError(path)
        const hit = names(error, path, line, key)
        assert.include(hit, "unknown key", label)
      }
      assert.isUndefined(({} as Record<string, unknown>)["polluted"], "no prototype pollution")
    }))

  it.effect("missing environment variables name the variable, its key and line; every one is reported at once", () =>
    Effect.gen(function*() {
      const text = valid
        .replace("username: admin", "username: ${NESSUS_USER_HOSTILE}")
        .replace("password: secret", "password: ${NESSUS_PASSWORD_HOSTILE}")
        .replace("https://scanner1.example:8834", "https://${NESSUS_HOST_HOSTILE}:8834")
      const path = file(text)
      const error = yield* loadError(path, {})
      assert.include(names(error, path, 7, "pools.nessus.scanners[0].url"), "NESSUS_HOST_HOSTILE")
      assert.include(names(error, path, 8, "pools.nessus.scanners[0].username"), "NESSUS_USER_HOSTILE")
      assert.include(names(error, path, 9, "pools.nessus.scanners[0].password"), "NESSUS_PASSWORD_HOSTILE")
      // Set to the empty string counts as unset for a required value.
      const empty = yield* loadError(path, { NESSUS_USER_HOSTILE: "", NESSUS_PASSWORD_HOSTILE: "p", NESSUS_HOST_HOSTILE: "h" })
      names(empty, path, 8, "pools.nessus.scanners[0].username")
      // Malformed references are errors too, not literal text.
      for (const bad of ["${}", "${NESSUS_USER", "${1BAD}", "${A B}"]) {
        const p = file(valid.replace("username: admin", `username: "${bad}"`))
        const e = yield* loadError(p, {})
        names(e, p, 8, "pools.nessus.scanners[0].username")
      }
    }))

  it.effect("an environment value cannot inject YAML: it stays one string value", () =>
    Effect.gen(function*() {
      const injected = "p\n        enabled: false\n      - instance_id: evil\n        url: https://evil:8834"
      const path = file(valid.replace("password: secret", "password: ${NESSUS_PASSWORD_HOSTILE}"))
      const config = yield* ScannerConfig.load(path, { env: { NESSUS_PASSWORD_HOSTILE: injected } })
      const scanners = config.pools.flatMap((p) => p.scanners)
      assert.deepStrictEqual(scanners.map((s) => [s.instanceId, s.enabled]), [["scanner1", true]])
      const auth = scanners[0]!.auth
      assert.strictEqual(auth._tag, "Password")
      if (auth._tag === "Password") assert.strictEqual(Redacted.value(auth.password), injected)
    }))

  it.effect("duplicate instance ids, in one pool and across pools, name the second occurrence", () =>
    Effect.gen(function*() {
      const samePool = file(`${valid}${scanner("scanner1")}`)
      const e1 = yield* loadError(samePool)
      assert.include(names(e1, samePool, 10, "pools.nessus.scanners[1].instance_id"), "duplicate instance_id \"scanner1\"")
      const crossPool = file(`${valid}  dmz:\n    allowed_targets: [192.0.2.0/24]\n    scanners:\n${scanner("scanner1")}`)
      const e2 = yield* loadError(crossPool)
      assert.include(names(e2, crossPool, 13, "pools.dmz.scanners[0].instance_id"), "already used in pools.nessus")
    }))

  it.effect("YAML alias bombs and deep nesting are refused quickly, without blowing up memory", () =>
    Effect.gen(function*() {
      let bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
      for (let i = 1; i <= 9; i++) bomb += `${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(10).fill(`*${String.fromCharCode(96 + i)}`).join(", ")}]\n`
      const bombPath = file(`${valid}${bomb}`)
      const heap = process.memoryUsage().heapUsed
      const e1 = yield* loadError(bombPath)
      assert.isBelow(process.memoryUsage().heapUsed - heap, 100 * 1024 * 1024)
      names(e1, bombPath, 10, "a")

      // An alias bomb used as a value the schema reads (allowed_targets) must not be expanded 10^9 times.
      let anchors = "anchors:\n  - &t0 [10.0.0.1, 10.0.0.2, 10.0.0.3, 10.0.0.4, 10.0.0.5, 10.0.0.6, 10.0.0.7, 10.0.0.8, 10.0.0.9, 10.0.0.10]\n"
      for (let i = 1; i <= 9; i++) anchors += `  - &t${i} [${Array(10).fill(`*t${i - 1}`).join(", ")}]\n`
      const aliasPath = file(`${anchors}pools:\n  nessus:\n    allowed_targets: *t9\n    scanners:\n${scanner("scanner1")}`)
      const heap2 = process.memoryUsage().heapUsed
      const e2 = yield* loadError(aliasPath)
      assert.isBelow(process.memoryUsage().heapUsed - heap2, 100 * 1024 * 1024)
      names(e2, aliasPath, 1, "anchors")
      assert.isBelow(e2.message.length, 20_000, "the error does not list a billion targets")

      const depth = 20_000
      const nested = file(`${valid}extra: ${"[".repeat(depth)}${"]".repeat(depth)}\n`)
      const e3 = yield* loadError(nested, {}, 10_000)
      assert.match(e3.message, new RegExp(`${nested.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}:\\d+: `))
    }))

  it.effect("wrong root types, empty and binary files, huge files and unreadable paths are clear errors", () =>
    Effect.gen(function*() {
      const list = file("- pools\n- nessus\n")
      names(yield* loadError(list), list, 1, /: (pools|\(root\)|\(yaml\)|)[^:]*: /)
      const scalar = file("just a string\n")
      assert.include(names(yield* loadError(scalar), scalar, 1, /: [^:]*: /), scalar)
      const empty = file("")
      names(yield* loadError(empty), empty, 1, "pools")
      const comments = file("# nothing here\n# at all\n")
      names(yield* loadError(comments), comments, 1, "pools")
      const binary = file(new Uint8Array([0xff, 0xfe, 0x00, 0x01, 0x80, 0x0a, 0x1b, 0x5b, 0x33, 0x31, 0x6d]))
      const eb = yield* loadError(binary)
      assert.include(eb.message, binary)
      // 20 MB of comments then a scanner with an unknown key: found, with its line, in bounded time.
      const filler = "# padding padding padding padding padding padding padding padding padding padding\n".repeat(250_000)
      const huge = file(`${filler}${valid.replace("        password: secret", "        password: secret\n        bogus: 1")}`)
      names(yield* loadError(huge, {}, 15_000), huge, 250_000 + 10, "pools.nessus.scanners[0].bogus")
      const missing = join(dir, "does-not-exist.yaml")
      const em = yield* loadError(missing)
      assert.include(em.message, missing)
      assert.match(em.message, /ENOENT|no such file/)
      const directory = yield* loadError(dir)
      assert.include(directory.message, dir)
    }), 60_000)
})

// ---------------------------------------------------------------------------------------------------------
// The operator's check: nessus-admin config validate --json
// ---------------------------------------------------------------------------------------------------------

interface Validation {
  readonly valid: boolean
  readonly file: string
  readonly problems: ReadonlyArray<{ readonly file: string; readonly line: number; readonly key: string; readonly problem: string }>
}

const validate = (path: string) =>
  Effect.promise(() =>
    new Promise<{ code: number; result: Validation }>((done, reject) => {
      const env: Record<string, string> = {}
      for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith("NESSUS_")) env[k] = v
      execFile(process.execPath, [adminCli, "config", "validate", "--config", path, "--json"], { env, timeout: 30_000, encoding: "utf8" }, (error, stdout) => {
        if (error !== null && typeof error.code !== "number") return reject(error)
        try {
          done({ code: error === null ? 0 : Number(error.code), result: JSON.parse(stdout) as Validation })
        } catch (e) {
          reject(new Error(`nessus-admin printed no JSON: ${stdout.slice(0, 500)} (${String(e)})`))
        }
      })
    })
  )

describe("hostile scanners files (nessus-admin config validate)", () => {
  it.effect("reports each problem with file, line and key, and exits 1", () =>
    Effect.gen(function*() {
      assert.isTrue(existsSync(adminCli), `${adminCli} is missing; build apps/admin-cli`)
      const cases: ReadonlyArray<readonly [string, string, number, string]> = [
        ["malformed YAML", valid.replace("    allowed_targets", "\tallowed_targets"), 4, "(yaml)"],
        ["unknown key", valid.replace("    scanners:", "    max_target: 5\n    scanners:"), 5, "pools.nessus.max_target"],
        ["missing variable", valid.replace("password: secret", "password: ${NESSUS_PASSWORD_HOSTILE}"), 9, "pools.nessus.scanners[0].password"],
        ["duplicate instance id", `${valid}${scanner("scanner1")}`, 10, "pools.nessus.scanners[1].instance_id"]
      ]
      for (const [label, text, line, key] of cases) {
        const path = file(text)
        const { code, result } = yield* validate(path)
        assert.strictEqual(code, 1, label)
        assert.isFalse(result.valid, label)
        const problem = result.problems.find((p) => p.line === line && p.key === key)
        assert.isDefined(problem, `${label}: ${JSON.stringify(result.problems)}`)
        assert.strictEqual(problem!.file, path)
        assert.isAbove(problem!.problem.length, 5)
      }
      const ok = yield* validate(file(valid))
      assert.strictEqual(ok.code, 0)
      assert.isTrue(ok.result.valid)
    }), 120_000)
})

process.on("exit", () => rmSync(dir, { recursive: true, force: true }))
