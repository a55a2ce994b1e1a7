/** Cross-check against the simulator's generator: its ground truth must be what the validator reports. */
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { Generator } from "@nessus-mcp/nessus-simulator"
import { FindingsIndex, Verdict } from "../src/index.js"
import { tempDir } from "./support.js"

const withDir = <A, E>(f: (dir: string) => Effect.Effect<A, E>) =>
  Effect.acquireUseRelease(Effect.sync(tempDir), ({ dir }) => f(dir), ({ dispose }) => Effect.sync(dispose))

describe("simulator exports", () => {
  it.effect("counts and per-host authentication match the generator's ground truth", () =>
    withDir((dir) =>
      Effect.gen(function*() {
        const path = `${dir}/sim.nessus`
        const truth = yield* Effect.promise(() =>
          Generator.writeExport(path, {
          hosts: 8,
          findingsPerHost: 40,
          seed: 9,
          credentials: [
            { status: "success", username: "scan", protocol: "ssh" },
            { status: "failed", username: "scan", protocol: "ssh" },
            { status: "escalationFailed", username: "scan", protocol: "ssh", escalation: "sudo" },
            { status: "none" }
          ]
        })
        )
        const v = yield* Verdict.validateFile(path, { scanType: "authenticated_privileged" })
        assert.strictEqual(v.stats.file_size_bytes, truth.bytes)
        assert.strictEqual(v.stats.hosts_scanned, truth.hosts)
        assert.strictEqual(v.stats.findings_total, truth.findings)
        const s = v.stats.severity_counts
        assert.deepStrictEqual([s.info, s.low, s.medium, s.high, s.critical], [...truth.severityCounts])
        assert.strictEqual(v.hosts.filter((h) => h.credentialed_checks === "yes").length, truth.credentialedHosts)
        const count = (status: string) => v.hosts.filter((h) => h.authentication_status === status).length
        assert.strictEqual(count("success"), truth.outcomes.success)
        assert.strictEqual(count("partial"), truth.outcomes.escalationFailed)
        assert.strictEqual(count("failed"), truth.outcomes.failed + truth.outcomes.none)
        assert.strictEqual(v.authentication_status, "partial")
        assert.isTrue(v.valid)
        const built = yield* FindingsIndex.build(path, `${dir}/index`, { scanType: "authenticated_privileged" })
        assert.deepStrictEqual(built.verdict, v)
        const page = yield* FindingsIndex.query(`${dir}/index`, { profile: "minimal", filters: { plugin_id: 19506 } })
        assert.strictEqual(page.total, truth.hosts)
      })
    ))

  it.effect("an authenticated scan where every login failed is not valid", () =>
    withDir((dir) =>
      Effect.gen(function*() {
        const path = `${dir}/failed.nessus`
        yield* Effect.promise(() => Generator.writeExport(path, { hosts: 3, findingsPerHost: 20, seed: 2, credentials: { status: "failed", username: "scan", protocol: "smb" } }))
        const v = yield* Verdict.validateFile(path, { scanType: "authenticated" })
        assert.isFalse(v.valid)
        assert.strictEqual(v.error?.code, "authentication_failed")
        assert.isTrue(v.hosts.every((h) => h.evidence.some((e) => e.startsWith("plugin 21745") || e.startsWith("plugin 104410"))))
      })
    ))
})
