import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { Authentication, Verdict } from "../src/index.js"
import { host, item, nessus, scanInfo, tempDir, writeTemp } from "./support.js"

const verdictOf = (xml: string, scanType: Authentication.ScanType = "authenticated") =>
  Effect.acquireUseRelease(
    Effect.sync(tempDir),
    ({ dir }) => Verdict.validateFile(writeTemp(xml, dir), { scanType }),
    ({ dispose }) => Effect.sync(dispose)
  )

const oneHost = (items: string, props: Record<string, string> = {}) => nessus(host("10.0.0.5", props, items))

describe("plugin 19506 Credentialed checks line (every variant of the reference)", () => {
  const cases: ReadonlyArray<[string, "yes" | "no" | null, string | null, string | null, boolean]> = [
    ["Credentialed checks : no", "no", null, null, false],
    ["Credentialed checks : yes", "yes", null, null, false],
    ["Credentialed checks : yes, as 'net2\\adm-kbarron' via SMB", "yes", "net2\\adm-kbarron", "SMB", false],
    ["Credentialed checks : yes (on the localhost)", "yes", null, null, true],
    ["Credentialed checks : yes as scanuser via ssh", "yes", "scanuser", "ssh", false],
    ["Credentialed checks : yes, via HTTPS", "yes", null, "HTTPS", false],
    ["Credentialed checks : yes, as '192.168.1.174\\administrator' via SMB", "yes", "192.168.1.174\\administrator", "SMB", false],
    ["Credentialed checks : yes, as 'nobody' via ssh", "yes", "nobody", "ssh", false],
    ["Credentialed checks : no (the account 'yesman' failed)", "no", null, null, false],
    ["                    Credentialed checks : no", "no", null, null, false],
    ["Credentialed checks:yes", "yes", null, null, false],
    ["Credentialed checks : partial", null, null, null, false],
    ["Credentialed checks : unknown", null, null, null, false],
    ["Not credentialed checks : yes", null, null, null, false]
  ]
  for (const [line, answer, account, protocol, localhost] of cases) {
    it(JSON.stringify(line), () => {
      const info = Authentication.parseScanInformation(`Information about this scan : \n\nNessus version : 10.1.1\n${line}\nPatch management checks : None\n`)
      assert.strictEqual(info.credentialed_checks, answer)
      assert.strictEqual(info.account, account)
      assert.strictEqual(info.protocol, protocol)
      assert.strictEqual(info.on_localhost, localhost)
      assert.strictEqual(info.fields["Nessus version"], "10.1.1")
    })
  }

  it("reads fields with odd spacing, trailing spaces and the 10.10 WARNING block", () => {
    const info = Authentication.parseScanInformation(
      "Information about this scan : \n\nNessus version : 5.2.4 (Nessus 5.2.5 is available - consider upgrading)\n\nPort scanner(s) : nessus_syn_scanner \nWARNING : No port scanner was enabled during the scan. This may\nlead to incomplete results.\nAllow post-scan editing: Yes\nCredentialed checks : yes\r\n"
    )
    assert.strictEqual(info.fields["Port scanner(s)"], "nessus_syn_scanner")
    assert.strictEqual(info.fields["Allow post-scan editing"], "Yes")
    assert.strictEqual(info.fields["Nessus version"], "5.2.4 (Nessus 5.2.5 is available - consider upgrading)")
    assert.strictEqual(info.credentialed_checks, "yes")
  })

  it("empty or unrelated output gives no answer", () => {
    assert.strictEqual(Authentication.parseScanInformation("").credentialed_checks, null)
    assert.strictEqual(Authentication.parseScanInformation("CVE-2020-1234 некоторый текст").credentialed_checks, null)
  })

  it.effect("the XML-escaped form (&apos;) from real exports", () =>
    Effect.gen(function*() {
      const v = yield* verdictOf(oneHost(scanInfo("yes, as &apos;nobody&apos; via ssh")))
      assert.strictEqual(v.hosts[0]?.credentialed_checks, "yes")
      assert.strictEqual(v.authentication_status, "success")
      assert.match(v.hosts[0]!.evidence[0]!, /as 'nobody' via ssh/)
    }))

  it.effect("duplicate 19506 items on one host are de-duplicated", () =>
    Effect.gen(function*() {
      const v = yield* verdictOf(oneHost(scanInfo("yes") + scanInfo("yes")))
      assert.strictEqual(v.hosts[0]?.evidence.filter((e) => e.startsWith("plugin 19506")).length, 1)
      assert.strictEqual(v.stats.findings_total, 2)
    }))

  it.effect("19506 with an empty output falls through to the next signal", () =>
    Effect.gen(function*() {
      const v = yield* verdictOf(oneHost(item(19506, "<plugin_output></plugin_output>"), { Credentialed_Scan: "true" }))
      assert.strictEqual(v.hosts[0]?.credentialed_checks, null)
      assert.strictEqual(v.hosts[0]?.authentication_status, "success")
    }))
})

describe("fallback signals", () => {
  const status = (items: string, props: Record<string, string> = {}, scanType: Authentication.ScanType = "authenticated") =>
    verdictOf(oneHost(items, props), scanType).pipe(Effect.map((v) => ({ host: v.hosts[0]!, v })))

  it.effect("Credentialed_Scan=true / false when 19506 has no line", () =>
    Effect.gen(function*() {
      assert.strictEqual((yield* status(scanInfo(null), { Credentialed_Scan: "true" })).host.authentication_status, "success")
      const f = yield* status(item(10180), { Credentialed_Scan: "false" })
      assert.strictEqual(f.host.authentication_status, "failed")
      assert.strictEqual(f.v.error?.code, "authentication_failed")
      assert.include(f.host.evidence, "HostProperties Credentialed_Scan=false")
    }))

  for (const id of [21745, 104410]) {
    it.effect(`failure plugin ${id}`, () =>
      Effect.gen(function*() {
        const r = yield* status(item(id, "<plugin_output>\n  - Failed to authenticate using the supplied password.\n</plugin_output>"))
        assert.strictEqual(r.host.authentication_status, "failed")
        assert.isTrue(r.host.evidence.some((e) => e.startsWith(`plugin ${id}`) && e.includes("Failed to authenticate")))
        assert.match(r.v.error!.message, new RegExp(`10\\.0\\.0\\.5 \\(plugin ${id}`))
      }))
  }

  for (const id of [141118, 110095, 117887, 12634, 22869, 97993]) {
    it.effect(`success plugin ${id}`, () =>
      Effect.gen(function*() {
        const r = yield* status(item(id, "<plugin_output>Nessus was able to execute commands.</plugin_output>"))
        assert.strictEqual(r.host.authentication_status, "success")
        assert.isTrue(r.v.valid)
      }))
  }

  for (const id of [110723, 117886]) {
    it.effect(`not-run plugin ${id} is weak failure evidence`, () =>
      Effect.gen(function*() {
        assert.strictEqual((yield* status(item(id))).host.authentication_status, "failed")
        assert.strictEqual((yield* status(item(id) + item(12634))).host.authentication_status, "success")
      }))
  }

  it.effect("failure and success plugins together make a partial host", () =>
    Effect.gen(function*() {
      const r = yield* status(item(104410) + item(141118))
      assert.strictEqual(r.host.authentication_status, "partial")
      assert.strictEqual(r.v.authentication_status, "partial")
      assert.isTrue(r.v.valid)
    }))

  for (const id of [110385, 102094]) {
    it.effect(`insufficient privilege ${id}: partial for authenticated_privileged, success for authenticated`, () =>
      Effect.gen(function*() {
        const items = scanInfo("yes, as &apos;scan&apos; via ssh") + item(id)
        const privileged = yield* status(items, {}, "authenticated_privileged")
        assert.strictEqual(privileged.host.authentication_status, "partial")
        assert.strictEqual(privileged.v.authentication_status, "partial")
        assert.isTrue(privileged.v.valid)
        assert.match(privileged.v.warnings[0]!, /insufficient privilege/)
        const plain = yield* status(items, {}, "authenticated")
        assert.strictEqual(plain.host.authentication_status, "success")
      }))
  }

  it.effect("19506 'no' is overridden only by 141118/110095 (paranoid reporting)", () =>
    Effect.gen(function*() {
      assert.strictEqual((yield* status(scanInfo("no") + item(110095))).host.authentication_status, "success")
      assert.strictEqual((yield* status(scanInfo("no") + item(22869))).host.authentication_status, "failed")
    }))

  it.effect("19506 wins over Credentialed_Scan and plugins", () =>
    Effect.gen(function*() {
      assert.strictEqual((yield* status(scanInfo("yes") + item(21745), { Credentialed_Scan: "false" })).host.authentication_status, "success")
    }))

  it.effect("LastAuthenticatedResults / LastUnauthenticatedResults as the last resort", () =>
    Effect.gen(function*() {
      assert.strictEqual((yield* status(item(1), { LastAuthenticatedResults: "1741603331" })).host.authentication_status, "success")
      assert.strictEqual((yield* status(item(1), { LastUnauthenticatedResults: "1741603331" })).host.authentication_status, "failed")
      assert.strictEqual((yield* status(item(1))).host.authentication_status, "unknown")
    }))

  it.effect("149334 (SSH password auth accepted) is not evidence of a login", () =>
    Effect.gen(function*() {
      assert.strictEqual((yield* status(item(149334))).host.authentication_status, "unknown")
    }))
})

describe("scan-level aggregation", () => {
  it("aggregate", () => {
    assert.strictEqual(Authentication.aggregate("untrusted", ["failed"]), "not_applicable")
    assert.strictEqual(Authentication.aggregate("authenticated", ["success", "success"]), "success")
    assert.strictEqual(Authentication.aggregate("authenticated", ["success", "failed"]), "partial")
    assert.strictEqual(Authentication.aggregate("authenticated", ["failed", "failed", "unknown"]), "failed")
    assert.strictEqual(Authentication.aggregate("authenticated", ["unknown"]), "unknown")
    assert.strictEqual(Authentication.aggregate("authenticated_privileged", ["success", "partial"]), "partial")
    assert.strictEqual(Authentication.aggregate("authenticated", ["success", "unknown"]), "success")
  })

  it.effect("a failed authenticated scan names hosts and what to check", () =>
    Effect.gen(function*() {
      const xml = nessus(host("a", {}, scanInfo("no")) + host("b", {}, scanInfo("no")))
      const v = yield* verdictOf(xml, "authenticated_privileged")
      assert.isFalse(v.valid)
      assert.strictEqual(v.error?.code, "authentication_failed")
      assert.match(v.error!.message, /2 of 2 host\(s\) of this authenticated_privileged scan: a \(plugin 19506: Credentialed checks : no\), b/)
      assert.match(v.error!.message, /credentials/)
      const untrusted = yield* verdictOf(xml, "untrusted")
      assert.isTrue(untrusted.valid)
      assert.strictEqual(untrusted.authentication_status, "not_applicable")
    }))

  it.effect("some hosts without evidence give a warning, not a failure", () =>
    Effect.gen(function*() {
      const v = yield* verdictOf(nessus(host("a", {}, scanInfo("yes")) + host("b", {}, item(1))))
      assert.strictEqual(v.authentication_status, "success")
      assert.match(v.warnings[0]!, /No authentication evidence for 1 host/)
      assert.strictEqual(v.stats.credentialed_hosts, 1)
    }))
})
