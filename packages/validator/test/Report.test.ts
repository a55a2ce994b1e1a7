import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Stream from "effect/Stream"
import { Report, ValidatorError, Verdict } from "../src/index.js"
import { host, item, nessus, scanInfo, tempDir, writeTemp } from "./support.js"

const bytes = (s: string) => new TextEncoder().encode(s)

/** Parses a document split into chunks of the given size. */
const parse = (doc: string | Uint8Array, chunk = 1 << 16) => {
  const b = typeof doc === "string" ? bytes(doc) : doc
  const chunks: Array<Uint8Array> = []
  for (let i = 0; i < b.length; i += chunk) chunks.push(b.subarray(i, i + chunk))
  return Stream.runCollect(Report.stream(Stream.fromIterable(chunks)))
}

const parseError = (doc: string | Uint8Array, chunk?: number) =>
  Effect.flip(parse(doc, chunk)).pipe(Effect.map((e) => e as ValidatorError.ValidatorError))

const findings = (events: ReadonlyArray<Report.ReportEvent>) => events.flatMap((e) => (e._tag === "Finding" ? [e.finding] : []))

const sample = nessus(
  host("10.0.0.1", { "host-ip": "10.0.0.1", "Credentialed_Scan": "true", "host-fqdn": "a.example" }, [
    scanInfo("yes, as &apos;root&apos; via ssh"),
    item(
      11111,
      `<description>A &lt;b&gt; &amp; &quot;q&quot; &#65;&#x42; — ünïcode ✓</description>
<cve>CVE-2021-1111</cve>
<cve>CVE-2022-2222</cve>
<see_also>https://a.example/1
https://a.example/2</see_also>
<cvss3_base_score>9.8</cvss3_base_score>
<epss_score>0.0123</epss_score>
<exploit_available>true</exploit_available>
<plugin_output><![CDATA[raw <xml> & stuff]]> then text</plugin_output>
<cm:compliance-check-name>1.1 Ensure X</cm:compliance-check-name>
<cm:compliance-result>FAILED</cm:compliance-result>
<custom_tag>one</custom_tag>
<custom_tag>two</custom_tag>
<empty_tag/>`,
      { severity: 4, port: 443, name: "Big &amp; Bad" }
    )
  ].join(""))
)

describe("Report parser", () => {
  it.effect("decodes entities, CDATA and unicode, and types the fields", () =>
    Effect.gen(function*() {
      const events = yield* parse(sample)
      assert.deepStrictEqual(events.map((e) => e._tag), ["ScanStarted", "HostStarted", "Finding", "Finding", "HostEnded", "ScanEnded"])
      const f = findings(events)[1]!
      assert.strictEqual(f.plugin_name, "Big & Bad")
      assert.strictEqual(f["description"], "A <b> & \"q\" AB — ünïcode ✓")
      assert.deepStrictEqual(f["cve"], ["CVE-2021-1111", "CVE-2022-2222"])
      assert.deepStrictEqual(f["see_also"], ["https://a.example/1", "https://a.example/2"])
      assert.strictEqual(f["cvss3_base_score"], 9.8)
      assert.strictEqual(f["epss_score"], 0.0123)
      assert.strictEqual(f["exploit_available"], true)
      assert.strictEqual(f["plugin_output"], "raw <xml> & stuff then text")
      assert.strictEqual(f["cm:compliance-result"], "FAILED")
      assert.deepStrictEqual(f["custom_tag"], ["one", "two"])
      assert.strictEqual(f["empty_tag"], "")
      assert.strictEqual(f.severity, 4)
      assert.strictEqual(f.port, 443)
      assert.strictEqual(f.host, "10.0.0.1")
      const h = events.find((e) => e._tag === "HostStarted")
      assert.strictEqual(h?._tag === "HostStarted" ? h.host.fqdn : null, "a.example")
    }))

  it.effect("gives the same events whatever the chunk boundaries (1, 7, 4096 bytes)", () =>
    Effect.gen(function*() {
      const whole = JSON.stringify(yield* parse(sample))
      for (const size of [1, 7, 4096]) assert.strictEqual(JSON.stringify(yield* parse(sample, size)), whole)
    }))

  it.effect("CRLF line endings and a single-line document", () =>
    Effect.gen(function*() {
      const crlf = findings(yield* parse(sample.replaceAll("\n", "\r\n")))
      assert.strictEqual(crlf.length, 2)
      assert.deepStrictEqual(crlf[1]!["see_also"], ["https://a.example/1", "https://a.example/2"])
      const oneLine = findings(yield* parse(sample.replaceAll("\n", " ")))
      assert.strictEqual(oneLine.length, 2)
    }))

  it.effect("empty HostProperties, a host without properties, zero hosts, comments and PIs", () =>
    Effect.gen(function*() {
      const doc = nessus(
        `<!-- a comment --><ReportHost name="h1"><HostProperties/>${item(1)}</ReportHost>` +
          `<ReportHost name="h2">${item(2)}${item(3)}</ReportHost><?pi stuff?>`
      )
      const events = yield* parse(doc)
      assert.strictEqual(findings(events).length, 3)
      const ends = events.filter((e) => e._tag === "HostEnded")
      assert.deepStrictEqual(ends.map((e) => (e._tag === "HostEnded" ? [e.host.name, e.findings] : [])), [["h1", 1], ["h2", 2]])
      const none = yield* parse(nessus(""))
      assert.deepStrictEqual(none.map((e) => e._tag), ["ScanStarted", "ScanEnded"])
      const { dir, dispose } = tempDir()
      const v = yield* Verdict.validateFile(writeTemp(nessus(""), dir))
      dispose()
      assert.isFalse(v.valid)
      assert.strictEqual(v.error?.code, "no_hosts")
    }))

  it.effect("v1 and other roots are unsupported_format", () =>
    Effect.gen(function*() {
      const v1 = yield* parseError(`<?xml version="1.0"?><NessusClientData><Report></Report></NessusClientData>`)
      assert.strictEqual(v1.reason, "unsupported_format")
      assert.match(v1.message, /v1/)
      const other = yield* parseError(`<html><body/></html>`)
      assert.strictEqual(other.reason, "unsupported_format")
      assert.match(other.message, /<html>/)
    }))

  it.effect("a truncated file is malformed_xml at the end, wherever it is cut", () =>
    Effect.gen(function*() {
      const b = bytes(sample)
      for (const cut of [10, 60, Math.floor(b.length / 3), Math.floor(b.length / 2), b.length - 30, b.length - 3]) {
        const e = yield* parseError(b.subarray(0, cut), 997)
        assert.strictEqual(e.reason, "malformed_xml", `cut at ${cut}`)
        assert.isNumber(e.line)
        assert.isNumber(e.column)
      }
      const empty = yield* parseError("")
      assert.strictEqual(empty.reason, "malformed_xml")
    }))

  it.effect("a mismatched tag is reported with line and column", () =>
    Effect.gen(function*() {
      const e = yield* parseError(`<?xml version="1.0"?>\n<NessusClientData_v2>\n  <Report name="x">\n  </Policy>\n</NessusClientData_v2>`)
      assert.strictEqual(e.reason, "malformed_xml")
      assert.strictEqual(e.line, 4)
      assert.strictEqual(e.column, 3)
      assert.match(e.message, /expected <\/Report>, found <\/Policy>/)
    }))

  it.effect("invalid UTF-8 is malformed_xml with a position", () =>
    Effect.gen(function*() {
      const head = bytes(`<?xml version="1.0"?>\n<NessusClientData_v2>\n<Report name="`)
      const doc = new Uint8Array([...head, 0xff, 0xfe, ...bytes(`"></Report></NessusClientData_v2>`)])
      const e = yield* parseError(doc)
      assert.strictEqual(e.reason, "malformed_xml")
      assert.match(e.message, /invalid UTF-8/)
      assert.strictEqual(e.line, 3)
    }))

  it.effect("billion laughs fails fast at the DOCTYPE, before any expansion", () =>
    Effect.gen(function*() {
      let dtd = `<!DOCTYPE lolz [\n<!ENTITY lol "lol">\n`
      for (let i = 1; i <= 9; i++) dtd += `<!ENTITY lol${i} "${`&lol${i - 1 || ""};`.repeat(10)}">\n`
      const doc = `<?xml version="1.0"?>\n${dtd}]>\n<NessusClientData_v2><Report name="&lol9;"></Report></NessusClientData_v2>`
      const before = process.memoryUsage().heapUsed
      const started = performance.now()
      const e = yield* parseError(doc)
      assert.isBelow(performance.now() - started, 1000)
      assert.isBelow(process.memoryUsage().heapUsed - before, 50 * 1024 * 1024)
      assert.strictEqual(e.reason, "malformed_xml")
      assert.match(e.message, /entit/)
    }))

  it.effect("external entities and undeclared entity references are refused", () =>
    Effect.gen(function*() {
      const ext = yield* parseError(`<?xml version="1.0"?><!DOCTYPE x SYSTEM "file:///etc/passwd"><NessusClientData_v2/>`)
      assert.strictEqual(ext.reason, "malformed_xml")
      assert.match(ext.message, /external/)
      const ref = yield* parseError(nessus(host("h", {}, item(1, "<description>&xxe;</description>"))))
      assert.strictEqual(ref.reason, "malformed_xml")
      assert.match(ref.message, /entity/)
      const plain = yield* parse(`<?xml version="1.0"?><!DOCTYPE NessusClientData_v2><NessusClientData_v2></NessusClientData_v2>`)
      assert.strictEqual(plain.at(-1)?._tag, "ScanEnded")
    }))

  it.effect("garbage after the root and a second root are errors", () =>
    Effect.gen(function*() {
      assert.strictEqual((yield* parseError(nessus("") + "junk")).reason, "malformed_xml")
      assert.strictEqual((yield* parseError(nessus("") + "<NessusClientData_v2/>")).reason, "malformed_xml")
      assert.strictEqual((yield* parseError(`<NessusClientData_v2><a b=c/></NessusClientData_v2>`)).reason, "malformed_xml")
    }))

  it.effect("a long text node spread over many chunks stays linear and intact", () =>
    Effect.gen(function*() {
      const big = "x&amp;y ".repeat(200_000)
      const f = findings(yield* parse(nessus(host("h", {}, item(1, `<plugin_output>${big}</plugin_output>`))), 4096))
      assert.strictEqual((f[0]!["plugin_output"] as string).length, "x&y ".length * 200_000)
    }))

  it.effect("file APIs: streamFile, events (async iterator) and unreadable files", () =>
    Effect.gen(function*() {
      const { dir, dispose } = tempDir()
      const path = writeTemp(sample, dir)
      const viaStream = yield* Stream.runCollect(Report.streamFile(path))
      const viaIterator = yield* Effect.promise(async () => {
        const out: Array<Report.ReportEvent> = []
        for await (const e of Report.events(path)) out.push(e)
        return out
      })
      assert.strictEqual(JSON.stringify(viaIterator), JSON.stringify(viaStream))
      const missing = yield* Effect.exit(Verdict.validateFile(`${dir}/nope.nessus`))
      const dirError = yield* Effect.flip(Verdict.validateFile(dir))
      dispose()
      assert.isTrue(Exit.isFailure(missing))
      assert.strictEqual(dirError.reason, "file_unreadable")
      assert.match(dirError.message, /directory/)
    }))
})
