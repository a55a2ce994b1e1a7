import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"
import { rmSync } from "node:fs"
import { writeLocalExport } from "../bench/generator.js"
import { Findings, FindingsIndex, Report } from "../src/index.js"
import { fixture, host, item, nessus, scanInfo, tempDir, writeTemp } from "./support.js"

const withDir = <A, E>(f: (dir: string) => Effect.Effect<A, E>) =>
  Effect.acquireUseRelease(Effect.sync(tempDir), ({ dir }) => f(dir), ({ dispose }) => Effect.sync(dispose))

/** Every finding the in-memory API keeps for these filters, projected like the index does. */
const reference = (path: string, filters: Findings.Filters, fields: ReadonlyArray<string> | null) =>
  Effect.gen(function*() {
    const compiled = yield* Findings.compileFilters(filters)
    const events = yield* Stream.runCollect(Report.streamFile(path))
    const hosts = new Map<string, Findings.HostKey>()
    const out: Array<unknown> = []
    for (const e of events) {
      if (e._tag === "HostStarted") hosts.set(e.host.name, { name: e.host.name, ip: e.host.ip, fqdn: e.host.fqdn })
      if (e._tag === "Finding" && Findings.matches(e.finding, compiled, hosts.get(e.finding.host))) {
        out.push(Findings.project(e.finding, fields))
      }
    }
    return out
  })

/** Walks every page through cursors. */
const allPages = (dir: string, q: FindingsIndex.Query) =>
  Effect.gen(function*() {
    const out: Array<unknown> = []
    let page = yield* FindingsIndex.query(dir, q)
    const total = page.total
    out.push(...page.findings)
    while (page.next_cursor !== null) {
      page = yield* FindingsIndex.query(dir, { ...q, cursor: page.next_cursor })
      assert.strictEqual(page.total, total)
      out.push(...page.findings)
    }
    return { out, total, pages: page.page }
  })

describe("FindingsIndex", () => {
  it.effect("after the build, pages never need the XML: verdict in the same pass, templates shared", () =>
    withDir((dir) =>
      Effect.gen(function*() {
        const gen = yield* Effect.promise(() =>
          writeLocalExport(`${dir}/gen.nessus`, { hosts: 12, findingsPerHost: 250, seed: 3, credentialedHosts: 9 })
        )
        const expected = yield* reference(gen.path, { severity: ">=3", cve: "CVE-20" }, Findings.fieldsOf("summary"))
        const built = yield* FindingsIndex.build(gen.path, `${dir}/index`, { scanType: "authenticated" })
        assert.strictEqual(built.findings, gen.findings)
        assert.strictEqual(built.hosts, 12)
        assert.deepStrictEqual(
          [built.verdict.stats.severity_counts.info, built.verdict.stats.severity_counts.low, built.verdict.stats.severity_counts.medium, built.verdict.stats.severity_counts.high, built.verdict.stats.severity_counts.critical],
          [...gen.severity]
        )
        assert.strictEqual(built.verdict.authentication_status, "partial")
        assert.strictEqual(built.verdict.stats.credentialed_hosts, 9)
        assert.isBelow(built.templates, built.findings / 2)
        rmSync(gen.path)
        const { out, pages, total } = yield* allPages(`${dir}/index`, { profile: "summary", filters: { severity: ">=3", cve: "CVE-20" }, page_size: 37 })
        assert.strictEqual(total, expected.length)
        assert.strictEqual(pages, Math.ceil(total / 37))
        assert.deepStrictEqual(out, expected)
      })
    ))

  it.effect("index results equal in-memory filtering (source kept)", () =>
    withDir((dir) =>
      Effect.gen(function*() {
        const gen = yield* Effect.promise(() => writeLocalExport(`${dir}/gen.nessus`, { hosts: 8, findingsPerHost: 120, seed: 5 }))
        yield* FindingsIndex.build(gen.path, `${dir}/index`)
        const cases: ReadonlyArray<[Findings.Filters, FindingsIndex.Query, ReadonlyArray<string> | null]> = [
          [{}, {}, Findings.fieldsOf("brief")],
          [{ severity: ">=3" }, { profile: "minimal" }, Findings.fieldsOf("minimal")],
          [{ cvss3_base_score: ">7.0", exploit_available: true }, { profile: "summary" }, Findings.fieldsOf("summary")],
          [{ cve: "CVE-2021" }, { fields: ["host", "cve"] }, ["host", "cve"]],
          [{ host: "10.0.0.0/30" }, { fields: ["host", "plugin_id", "port"] }, ["host", "plugin_id", "port"]],
          [{ host: "host-3.example.invalid", port: 443 }, { profile: "full" }, null],
          [{ plugin_name: "ESCALATION", severity: [3, 4] }, { fields: ["plugin_name", "severity"] }, ["plugin_name", "severity"]],
          [{ plugin_output: "pkg-1", svc_name: "www" }, { fields: ["plugin_output", "svc_name"] }, ["plugin_output", "svc_name"]],
          [{ plugin_id: 19506 }, { fields: ["plugin_id", "host"] }, ["plugin_id", "host"]],
          [{ see_also: "advisory/1", risk_factor: "high", epss_score: "<0.5" }, { profile: "brief" }, Findings.fieldsOf("brief")]
        ]
        for (const [filters, q, fields] of cases) {
          const expected = yield* reference(gen.path, filters, fields)
          const { out, total } = yield* allPages(`${dir}/index`, { ...q, filters, page_size: 23 })
          assert.strictEqual(total, expected.length, JSON.stringify(filters))
          assert.deepStrictEqual(out, expected, JSON.stringify(filters))
          if (Object.keys(filters).length > 0 && expected.length === gen.findings) assert.fail(`filter ${JSON.stringify(filters)} matched everything`)
        }
      })
    ))

  it.effect("page numbers, totals after filtering, filters on fields that are not returned", () =>
    withDir((dir) =>
      Effect.gen(function*() {
        const path = writeTemp(
          nessus(
            host("10.1.0.1", { "host-ip": "10.1.0.1" }, scanInfo("yes") + item(1, "<cvss3_base_score>9.1</cvss3_base_score>", { severity: 4 }) + item(2, "", { severity: 1 })) +
              host("web.example", { "host-ip": "192.168.5.9" }, item(3, "<cve>CVE-2021-1</cve>", { severity: 3 }) + item(1, "<cvss3_base_score>9.1</cvss3_base_score>", { severity: 4 }))
          ),
          dir
        )
        yield* FindingsIndex.build(path, `${dir}/i`)
        const p1 = yield* FindingsIndex.query(`${dir}/i`, { profile: "minimal", filters: { severity: ">=3" }, page_size: 2, page: 1 })
        assert.strictEqual(p1.total, 3)
        assert.strictEqual(p1.total_pages, 2)
        assert.strictEqual(p1.findings.length, 2)
        assert.isNotNull(p1.next_cursor)
        const p2 = yield* FindingsIndex.query(`${dir}/i`, { profile: "minimal", filters: { severity: ">=3" }, page_size: 2, page: 2 })
        assert.strictEqual(p2.findings.length, 1)
        assert.isNull(p2.next_cursor)
        const viaCursor = yield* FindingsIndex.query(`${dir}/i`, { profile: "minimal", filters: { severity: ">=3" }, page_size: 2, cursor: p1.next_cursor! })
        assert.deepStrictEqual(viaCursor.findings, p2.findings)
        assert.strictEqual(viaCursor.page, 2)
        const byIp = yield* FindingsIndex.query(`${dir}/i`, { fields: ["host", "plugin_id"], filters: { host: "192.168.5.0/24", cvss3_base_score: ">=9" } })
        assert.deepStrictEqual(byIp.findings, [{ host: "web.example", plugin_id: 1 }])
        const exact = yield* FindingsIndex.query(`${dir}/i`, { fields: ["plugin_id"], filters: { host: "192.168.5.9" } })
        assert.strictEqual(exact.total, 2)
        const none = yield* FindingsIndex.query(`${dir}/i`, { filters: { severity: 2 } })
        assert.strictEqual(none.total, 0)
        assert.strictEqual(none.total_pages, 1)
        assert.isNull(none.next_cursor)
        const meta = yield* FindingsIndex.meta(`${dir}/i`)
        assert.strictEqual(meta.findings, 5)
        assert.strictEqual(meta.verdict.stats.hosts_scanned, 2)
      })
    ))

  it.effect("bad queries are specific errors", () =>
    withDir((dir) =>
      Effect.gen(function*() {
        yield* FindingsIndex.build(fixture("eafonin__sample_scan.nessus"), `${dir}/i`)
        const err = (q: FindingsIndex.Query) => Effect.flip(FindingsIndex.query(`${dir}/i`, q))
        const f1 = yield* err({ filters: { severity: "high" } })
        assert.strictEqual(f1.reason, "invalid_filter")
        assert.strictEqual(f1.field, "severity")
        const f2 = yield* err({ filters: { exploit_available: "maybe" } })
        assert.strictEqual(f2.field, "exploit_available")
        const f3 = yield* err({ filters: { host: "10.0.0.0/33" } })
        assert.strictEqual(f3.field, "host")
        const f4 = yield* err({ filters: { synopsis: ">=3" } })
        assert.strictEqual(f4.field, "synopsis")
        const f5 = yield* err({ filters: { cve: 2021 } })
        assert.strictEqual(f5.field, "cve")
        assert.strictEqual((yield* err({ page_size: 0 })).reason, "invalid_query")
        assert.strictEqual((yield* err({ page: 99 })).reason, "invalid_query")
        assert.strictEqual((yield* err({ cursor: "garbage" })).reason, "invalid_query")
        assert.strictEqual((yield* err({ profile: "huge" as Findings.Profile })).reason, "invalid_query")
        assert.strictEqual((yield* err({ profile: "full", fields: ["host"] })).reason, "invalid_query")
        const first = yield* FindingsIndex.query(`${dir}/i`, { page_size: 5 })
        const mixed = yield* err({ page_size: 5, cursor: first.next_cursor!, filters: { severity: 4 } })
        assert.match(mixed.message, /another query/)
        assert.strictEqual((yield* Effect.flip(FindingsIndex.query(`${dir}/nothing`, {}))).reason, "index_unreadable")
      })
    ))

  it.effect("build fails cleanly on malformed input and leaves no index", () =>
    withDir((dir) =>
      Effect.gen(function*() {
        const e = yield* Effect.flip(FindingsIndex.build(fixture("rubynessus__spec_example_v2_malformed.nessus"), `${dir}/i`))
        assert.strictEqual(e.reason, "malformed_xml")
        assert.strictEqual((yield* Effect.flip(FindingsIndex.meta(`${dir}/i`))).reason, "index_unreadable")
      })
    ))

  it.effect("JSON-NL rendering: schema, metadata, one line per finding, pagination", () =>
    withDir((dir) =>
      Effect.gen(function*() {
        yield* FindingsIndex.build(fixture("eafonin__sample_scan.nessus"), `${dir}/i`)
        const meta = yield* FindingsIndex.meta(`${dir}/i`)
        const page = yield* FindingsIndex.query(`${dir}/i`, { profile: "minimal", filters: { severity: ">=3" }, page_size: 10 })
        const lines = Findings.renderJsonl(page, meta.metadata).split("\n").map((l) => JSON.parse(l))
        assert.strictEqual(lines.length, 13)
        assert.deepStrictEqual(lines[0], {
          type: "schema",
          profile: "minimal",
          fields: ["host", "plugin_id", "severity", "cve", "cvss_base_score", "exploit_available"],
          filters_applied: { severity: ">=3" },
          total_vulnerabilities: 20,
          total_pages: 2
        })
        assert.strictEqual(lines[1].type, "scan_metadata")
        assert.strictEqual(lines[1].scan_name, "Integration Test - Complete Scan 172.32.0.215")
        assert.strictEqual(lines[2].type, "vulnerability")
        assert.isAtLeast(lines[2].severity, 3)
        assert.deepStrictEqual({ ...lines[12], next_cursor: null }, { type: "pagination", page: 1, page_size: 10, total_pages: 2, has_next: true, next_page: 2, next_cursor: null })
      })
    ))
})
