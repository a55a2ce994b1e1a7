/**
 * `report validate` in-process (oclif's runner over the built commands), and once as the built binary for
 * the real error printer. Build first (`pnpm --filter @nessus-mcp/admin-cli build`).
 */
import { assert, describe, it } from "@effect/vitest"
import { join } from "node:path"
import { cli, fixtures, shape, spawnCli } from "./support.js"

const run = cli

const VERDICT_KEYS = ["valid", "error", "warnings", "authentication_status", "stats", "hosts"]
const HOST_KEYS = ["name", "authentication_status", "credentialed_checks", "evidence"]

describe("nessus-admin report validate", () => {
  it("prints a table for people and exits 0 on a valid report", async () => {
    const r = await run("report", "validate", join(fixtures, "libnessus__nessus_report_test_local.nessus"), "--scan-type", "authenticated")
    assert.strictEqual(r.code, 0, r.stderr)
    assert.match(r.stdout, /^VALID /)
    assert.match(r.stdout, /Authentication: partial\s+Hosts: 2\s+Credentialed hosts: 1/)
    assert.match(r.stdout, /HOST\s+AUTHENTICATION\s+CREDENTIALED CHECKS\s+EVIDENCE/)
    assert.match(r.stdout, /192\.168\.1\.3\s+success\s+yes\s+plugin 19506: Credentialed checks : yes/)
    assert.match(r.stdout, /Partial authentication/)
    assert.strictEqual(r.stderr, "")
  })

  it("--json prints exactly the verdict's fields", async () => {
    const r = await run("report", "validate", join(fixtures, "libnessus__nessus_report_test_local.nessus"), "--scan-type", "authenticated", "--json")
    assert.strictEqual(r.code, 0, r.stderr)
    const v = await shape("report validate", r)
    assert.deepStrictEqual(Object.keys(v), VERDICT_KEYS)
    assert.strictEqual(v.valid, true)
    assert.strictEqual(v.error, null)
    assert.strictEqual(v.authentication_status, "partial")
    assert.deepStrictEqual(Object.keys(v.stats), [
      "file_size_bytes",
      "hosts_scanned",
      "findings_total",
      "severity_counts",
      "total_vulnerabilities",
      "credentialed_hosts"
    ])
    assert.deepStrictEqual(v.stats.severity_counts, { critical: 1, high: 0, medium: 19, low: 8, info: 119 })
    assert.strictEqual(v.hosts.length, 2)
    for (const h of v.hosts) assert.deepStrictEqual(Object.keys(h), HOST_KEYS)
    assert.deepStrictEqual(v.hosts.map((h: { credentialed_checks: string }) => h.credentialed_checks).sort(), ["no", "yes"])
  })

  it("exits 1 with authentication_failed when an authenticated scan did not log in", async () => {
    const r = await run("report", "validate", join(fixtures, "libnessus__nessus_report_local_3.nessus"), "--scan-type", "authenticated", "--json")
    assert.strictEqual(r.code, 1)
    const v = JSON.parse(r.stdout)
    assert.strictEqual(v.valid, false)
    assert.strictEqual(v.error.code, "authentication_failed")
    assert.strictEqual(v.authentication_status, "failed")
    const human = await run("report", "validate", join(fixtures, "libnessus__nessus_report_local_3.nessus"), "--scan-type", "authenticated")
    assert.strictEqual(human.code, 1)
    assert.match(human.stdout, /^NOT VALID/)
    assert.match(human.stdout, /Error \(authentication_failed\)/)
  })

  it("the same file is valid as an untrusted scan (the default)", async () => {
    const r = await run("report", "validate", join(fixtures, "libnessus__nessus_report_local_3.nessus"), "--json")
    assert.strictEqual(r.code, 0)
    assert.strictEqual(JSON.parse(r.stdout).authentication_status, "not_applicable")
  })

  it("malformed and unsupported files are invalid verdicts (exit 1)", async () => {
    const bad = await run("report", "validate", join(fixtures, "rubynessus__spec_example_v2_malformed.nessus"), "--json")
    assert.strictEqual(bad.code, 1)
    assert.strictEqual(JSON.parse(bad.stdout).error.code, "malformed_xml")
    const v1 = await run("report", "validate", join(fixtures, "libnessus__nessus_report_test_local.v1.nessus"), "--json")
    assert.strictEqual(v1.code, 1)
    assert.strictEqual(JSON.parse(v1.stdout).error.code, "unsupported_format")
  })

  it("an unreadable file exits 3: JSON error object on stdout, or a message on stderr", async () => {
    const j = await run("report", "validate", join(fixtures, "missing.nessus"), "--json")
    assert.strictEqual(j.code, 3)
    const e = JSON.parse(j.stdout)
    assert.deepStrictEqual(Object.keys(e), ["error"])
    assert.strictEqual(e.error.code, "file_unreadable")
    assert.match(e.error.message, /no such file/)
    const h = await spawnCli(["report", "validate", join(fixtures, "missing.nessus")])
    assert.strictEqual(h.code, 3)
    assert.strictEqual(h.stdout, "")
    assert.match(h.stderr, /Error: cannot read/)
    assert.match(h.stderr, /Code: file_unreadable/)
  })

  it("usage errors exit 2", async () => {
    const bad = await run("report", "validate", "x.nessus", "--scan-type", "trusted_basic", "--json")
    assert.strictEqual(bad.code, 2)
    assert.strictEqual(JSON.parse(bad.stdout).error.code, "usage_error")
    const missing = await run("report", "validate")
    assert.strictEqual(missing.code, 2)
    assert.match(missing.stderr, /Missing 1 required arg/)
  })

  it("--help shows the usage, flags and examples with a space as topic separator", async () => {
    const r = await run("report", "validate", "--help")
    assert.strictEqual(r.code, 0)
    assert.match(r.stdout, /nessus-admin report validate FILE/)
    assert.match(r.stdout, /--scan-type=<option>/)
    assert.match(r.stdout, /authenticated_privileged/)
    assert.match(r.stdout, /EXAMPLES/)
  })
})
