/**
 * Every fixture of ../shared/fixtures/nessus parses to the counts in its INDEX.md (read from the table at
 * test time), or fails with the error code its notes call for; 19506 answers match the listed lines.
 */
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"
import { readFileSync } from "node:fs"
import { Report, Verdict } from "../src/index.js"
import { fixture, fixturesDir } from "./support.js"

interface Row {
  readonly file: string
  readonly hosts: number | null
  readonly items: number | null
  readonly severity: ReadonlyArray<number> | null
  readonly yes: number
  readonly no: number
}

const rows: ReadonlyArray<Row> = readFileSync(`${fixturesDir}/INDEX.md`, "utf8")
  .split("\n")
  .filter((l) => l.startsWith("| `"))
  .map((l) => {
    const cells = l.split("|").map((c) => c.trim())
    const num = (s: string) => (/^\d+$/.test(s) ? Number(s) : null)
    const count = (answer: string) => {
      const m = new RegExp("Credentialed checks : " + answer + "` x(\\d+)").exec(cells[6] ?? "")
      return m === null ? 0 : Number(m[1])
    }
    return {
      file: cells[1]!.replaceAll("`", ""),
      hosts: num(cells[2]!),
      items: num(cells[3]!),
      severity: /^\d+\/\d+\/\d+\/\d+\/\d+$/.test(cells[4]!) ? cells[4]!.split("/").map(Number) : null,
      yes: count("yes"),
      no: count("no")
    }
  })

/** Files whose INDEX.md notes say they are not v2 exports or not well-formed. */
const expectedErrors: Record<string, "unsupported_format" | "malformed_xml"> = {
  "libnessus__nessus_report_test_local.v1.nessus": "unsupported_format", // root <NessusClientData> (v1)
  "rubynessus__example_v1.nessus": "unsupported_format", // v1 root, refused before its later syntax error
  "rubynessus__example_v_wrong.nessus": "unsupported_format", // root <NessusClientData_vwrong>
  "rubynessus__spec_example_v2_malformed.nessus": "malformed_xml" // "<<plugin_publication_date>" at line 1488
}

describe("fixtures (INDEX.md)", () => {
  it("reads all 25 rows of the index", () => {
    assert.strictEqual(rows.length, 25)
  })

  for (const row of rows) {
    it.effect(`${row.file}`, () =>
      Effect.gen(function*() {
        const v = yield* Verdict.validateFile(fixture(row.file), { scanType: "authenticated" })
        const expected = expectedErrors[row.file]
        if (expected !== undefined) {
          assert.isFalse(v.valid)
          assert.strictEqual(v.error?.code, expected)
          return
        }
        assert.strictEqual(v.stats.hosts_scanned, row.hosts)
        assert.strictEqual(v.stats.findings_total, row.items)
        const s = v.stats.severity_counts
        assert.deepStrictEqual([s.info, s.low, s.medium, s.high, s.critical], row.severity)
        assert.strictEqual(v.stats.total_vulnerabilities, s.low + s.medium + s.high + s.critical)
        assert.strictEqual(v.hosts.filter((h) => h.credentialed_checks === "yes").length, row.yes)
        assert.strictEqual(v.hosts.filter((h) => h.credentialed_checks === "no").length, row.no)
      }))
  }

  it.effect("the malformed copy of example_v2 reports line 1488 and the column of the second '<'", () =>
    Effect.gen(function*() {
      const v = yield* Verdict.validateFile(fixture("rubynessus__spec_example_v2_malformed.nessus"))
      assert.strictEqual(v.error?.code, "malformed_xml")
      assert.match(v.error!.message, /line 1488, column 34/)
    }))

  it.effect("verdicts follow the Credentialed checks lines", () =>
    Effect.gen(function*() {
      const check = (file: string, scanType: "authenticated" | "untrusted") =>
        Verdict.validateFile(fixture(file), { scanType })
      const mixed = yield* check("libnessus__nessus_report_test_local.nessus", "authenticated")
      assert.strictEqual(mixed.authentication_status, "partial")
      assert.isTrue(mixed.valid)
      assert.match(mixed.warnings[0]!, /Partial authentication: 1 of 2/)
      const yes = yield* check("libnessus__nessus_report_localpci.nessus", "authenticated")
      assert.strictEqual(yes.authentication_status, "success")
      assert.strictEqual(yes.stats.credentialed_hosts, 1)
      const no = yield* check("libnessus__nessus_report_local_3.nessus", "authenticated")
      assert.strictEqual(no.authentication_status, "failed")
      assert.strictEqual(no.error?.code, "authentication_failed")
      assert.match(no.error!.message, /3 of 3 host/)
      assert.match(no.error!.message, /21745/)
      const untrusted = yield* check("eafonin__sample_scan.nessus", "untrusted")
      assert.isTrue(untrusted.valid)
      assert.strictEqual(untrusted.authentication_status, "not_applicable")
      assert.strictEqual(untrusted.hosts[0]?.authentication_status, "not_applicable")
      assert.strictEqual(untrusted.hosts[0]?.credentialed_checks, "no")
      const indented = yield* check("defectdojo__nessus_with_cvssv3.nessus", "authenticated")
      assert.strictEqual(indented.hosts[0]?.credentialed_checks, "no")
      const agent = yield* check("pytenable__example.nessus", "authenticated")
      assert.strictEqual(agent.authentication_status, "success")
      const was = yield* check("pytenable__tio_export_was.nessus", "authenticated")
      assert.strictEqual(was.authentication_status, "unknown")
      assert.isTrue(was.valid)
      assert.match(was.warnings[0]!, /could not be verified/)
    }))

  it.effect("metadata comes from the Report, the Policy and plugin 19506", () =>
    Effect.gen(function*() {
      const events = yield* Stream.runCollect(Report.streamFile(fixture("eafonin__sample_scan.nessus")))
      const end = events.find((e) => e._tag === "ScanEnded")
      assert.isDefined(end)
      if (end?._tag !== "ScanEnded") return
      assert.strictEqual(end.metadata.report_name, "Integration Test - Complete Scan 172.32.0.215")
      assert.strictEqual(end.metadata.policy_name, "Advanced Scan")
      assert.strictEqual(end.metadata.nessus_version, "10.10.1")
      assert.strictEqual(end.metadata.scan_start, "2025-11-07T13:25:00-05:00")
      assert.strictEqual(end.metadata.scan_end, "2025-11-07T13:27:17-05:00")
      assert.strictEqual(end.metadata.scan_duration_seconds, 137)
      const host = events.find((e) => e._tag === "HostStarted")
      assert.strictEqual(host?._tag === "HostStarted" ? host.host.credentialed_scan : undefined, false)
    }))

  it.effect("a single-line Tenable.io export and CRLF files parse", () =>
    Effect.gen(function*() {
      const tio = yield* Verdict.validateFile(fixture("pytenable__tio_export_scan175.nessus"))
      assert.strictEqual(tio.stats.findings_total, 133)
      const crlf = yield* Verdict.validateFile(fixture("dradis__vulnerability_priority_rating.nessus"))
      assert.strictEqual(crlf.stats.findings_total, 1)
    }))

  it.effect("typed fields: repeated tags are arrays, scores numbers, flags booleans", () =>
    Effect.gen(function*() {
      const events = yield* Stream.runCollect(Report.streamFile(fixture("defectdojo__nessus_with_cwe-.nessus")))
      const f = events.flatMap((e) => (e._tag === "Finding" ? [e.finding] : []))[0]!
      assert.isTrue(Array.isArray(f["cve"]) && (f["cve"] as Array<string>).length > 1)
      assert.isTrue(Array.isArray(f["cwe"]))
      assert.isTrue(Array.isArray(f["bid"]))
      assert.strictEqual(typeof f["cvss_base_score"], "number")
      assert.strictEqual(typeof f["vpr_score"], "number")
      assert.strictEqual(typeof f["exploit_available"], "boolean")
      assert.strictEqual(typeof f.plugin_id, "number")
      assert.strictEqual(f.severity, 3)
    }))
})
