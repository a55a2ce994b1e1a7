import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { Findings, type Report } from "../src/index.js"

const finding = (extra: Record<string, Report.FieldValue> = {}): Report.Finding => ({
  host: "10.0.0.7",
  plugin_id: 12345,
  plugin_name: "OpenSSH < 9.3 Multiple Vulnerabilities",
  plugin_family: "Misc.",
  severity: 3,
  port: 22,
  protocol: "tcp",
  svc_name: "ssh",
  ...extra
})

const check = (filters: Findings.Filters, f: Report.Finding, host?: Findings.HostKey) =>
  Findings.compileFilters(filters).pipe(Effect.map((c) => Findings.matches(f, c, host)))

describe("Findings filters", () => {
  it.effect("numeric comparisons, text substrings, lists, booleans, ids", () =>
    Effect.gen(function*() {
      const f = finding({ cvss3_base_score: 7.5, cve: ["CVE-2023-38408", "CVE-2021-41617"], exploit_available: false })
      assert.isTrue(yield* check({ severity: ">=3" }, f))
      assert.isFalse(yield* check({ severity: ">3" }, f))
      assert.isTrue(yield* check({ cvss3_base_score: ">7.0" }, f))
      assert.isTrue(yield* check({ plugin_name: "openssh" }, f))
      assert.isTrue(yield* check({ cve: "cve-2021" }, f))
      assert.isFalse(yield* check({ cve: "CVE-2019" }, f))
      assert.isTrue(yield* check({ exploit_available: false }, f))
      assert.isTrue(yield* check({ exploit_available: "false" }, f))
      assert.isTrue(yield* check({ plugin_id: 12345 }, f))
      assert.isTrue(yield* check({ plugin_id: "12345" }, f))
      assert.isFalse(yield* check({ plugin_id: 1234 }, f))
      assert.isTrue(yield* check({ severity: [1, 3] }, f))
      assert.isFalse(yield* check({ vpr_score: ">1" }, f))
      assert.isTrue(yield* check({ custom_field: "abc" }, finding({ custom_field: "xxABCxx" })))
    }))

  it.effect("host: exact name, IP or FQDN, and IPv4/IPv6 CIDR", () =>
    Effect.gen(function*() {
      const f = finding()
      assert.isTrue(yield* check({ host: "10.0.0.0/24" }, f))
      assert.isFalse(yield* check({ host: "10.0.1.0/24" }, f))
      assert.isTrue(yield* check({ host: "10.0.0.7" }, f))
      assert.isFalse(yield* check({ host: "10.0.0.70" }, f))
      const named = finding({ host: "web" })
      const key = { name: "web", ip: "fd00::1:5", fqdn: "web.corp.example" }
      assert.isTrue(yield* check({ host: "fd00::/64" }, named, key))
      assert.isTrue(yield* check({ host: "WEB.corp.example" }, named, key))
      assert.isFalse(yield* check({ host: "fd01::/64" }, named, key))
    }))

  it.effect("invalid filters name the field", () =>
    Effect.gen(function*() {
      for (const [filters, field] of [
        [{ severity: "critical" }, "severity"],
        [{ cvss3_base_score: true }, "cvss3_base_score"],
        [{ exploit_available: "yes" }, "exploit_available"],
        [{ cve: 2021 }, "cve"],
        [{ host: "10.0.0.0/99" }, "host"],
        [{ description: "<5" }, "description"],
        [{ severity: [] }, "severity"],
        [{ "bad field!": "x" }, "bad field!"]
      ] as const) {
        const e = yield* Effect.flip(Findings.compileFilters(filters as unknown as Findings.Filters))
        assert.strictEqual(e.reason, "invalid_filter")
        assert.strictEqual(e.field, field)
        assert.include(e.message, `'${field}'`)
      }
    }))

  it.effect("profiles and projection (absent fields omitted, order kept)", () =>
    Effect.gen(function*() {
      const sel = yield* Findings.resolveSelection({ profile: "minimal" })
      assert.deepStrictEqual(Findings.project(finding({ cve: ["CVE-1"] }), sel.fields), {
        host: "10.0.0.7",
        plugin_id: 12345,
        severity: 3,
        cve: ["CVE-1"]
      })
      assert.strictEqual((yield* Findings.resolveSelection({})).profile, "brief")
      assert.deepStrictEqual((yield* Findings.resolveSelection({ fields: ["port", "host", "port"] })).fields, ["port", "host"])
      assert.isNull(Findings.fieldsOf("full"))
      assert.strictEqual((yield* Effect.flip(Findings.resolveSelection({ fields: [] }))).reason, "invalid_query")
    }))
})
