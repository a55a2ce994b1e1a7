import { execFileSync } from "node:child_process"
import { createHash } from "node:crypto"
import { mkdtempSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { afterAll } from "vitest"
import { Catalogue, Generator } from "../src/index.js"
import { fixturesDir, genTool } from "./helpers.js"

/** Counts with plain regexes, independent of the generator's own bookkeeping. */
const regexCounts = (xml: string) => {
  const severity = [0, 0, 0, 0, 0]
  for (const m of xml.matchAll(/<ReportItem [^>]*severity="(\d)"/g)) severity[Number(m[1])]!++
  return {
    hosts: (xml.match(/<ReportHost /g) ?? []).length,
    findings: (xml.match(/<ReportItem /g) ?? []).length,
    severity,
    credentialedYes: (xml.match(/Credentialed checks : yes/g) ?? []).length
  }
}

/** Python's ElementTree as an independent, strict XML parser. */
const pythonCounts = (file: string) =>
  JSON.parse(
    execFileSync("python3", [
      "-c",
      `import json,sys,xml.etree.ElementTree as ET
h=n=0; sev=[0]*5
for ev,el in ET.iterparse(sys.argv[1]):
    if el.tag=="ReportItem":
        n+=1; sev[int(el.get("severity"))]+=1
    elif el.tag=="ReportHost":
        h+=1; el.clear()
print(json.dumps({"hosts":h,"findings":n,"severity":sev}))`,
      file
    ]).toString()
  ) as { hosts: number; findings: number; severity: Array<number> }

const mixed: ReadonlyArray<Generator.CredentialOutcome> = [
  { status: "none" },
  { status: "success", username: "root", protocol: "ssh" },
  { status: "failed", username: "bob", protocol: "ssh" },
  { status: "escalationFailed", username: "scanuser", protocol: "ssh", escalation: "sudo" },
  { status: "success", username: "CORP\\adm", protocol: "smb" }
]

describe("Generator", () => {
  const dir = mkdtempSync(join(tmpdir(), "nessus-sim-gen-"))
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  it("ground truth matches independent regex and XML-parser counts (fixture catalogue, mixed credentials)", async () => {
    const file = join(dir, "mixed.nessus")
    const truth = await Generator.writeExport(file, { hosts: 25, findingsPerHost: 40, seed: 3, credentials: mixed, fixture: fixturesDir })
    const xml = readFileSync(file, "utf8")
    const rc = regexCounts(xml)
    assert.strictEqual(truth.hosts, 25)
    assert.strictEqual(truth.findings, 25 * 40)
    assert.strictEqual(rc.hosts, truth.hosts)
    assert.strictEqual(rc.findings, truth.findings)
    assert.deepStrictEqual(rc.severity, [...truth.severityCounts])
    assert.strictEqual(rc.credentialedYes, truth.credentialedHosts)
    assert.strictEqual(truth.credentialedHosts, 15)
    assert.deepStrictEqual(truth.outcomes, { none: 5, success: 10, failed: 5, escalationFailed: 5 })
    assert.strictEqual(truth.bytes, Buffer.byteLength(xml))
    const py = pythonCounts(file)
    assert.deepStrictEqual(py, { hosts: truth.hosts, findings: truth.findings, severity: [...truth.severityCounts] })
    // (pluginID, port, protocol) is unique per host even when findings repeat
    for (const host of xml.split("<ReportHost ").slice(1)) {
      const keys = [...host.matchAll(/<ReportItem port="(\d+)" svc_name="[^"]*" protocol="(\w+)"[^>]*pluginID="(\d+)"/g)].map(
        (m) => `${m[3]}/${m[1]}/${m[2]}`
      )
      assert.strictEqual(new Set(keys).size, keys.length)
    }
  })

  it("agrees with shared/tools/gen-large-nessus.py on hosts, items and severities (replay of a real export)", async () => {
    const source = join(fixturesDir, "eafonin__sample_scan.nessus")
    const pyOut = join(dir, "py.nessus")
    const py = JSON.parse(execFileSync("python3", [genTool, source, pyOut, "2.3", "1"]).toString()) as {
      hosts: number
      report_items: number
      severity: Array<number>
    }
    assert.isAbove(py.hosts, 3)
    const ours = join(dir, "ours.nessus")
    const truth = await Generator.writeExport(ours, { hosts: py.hosts, fixture: source })
    assert.strictEqual(truth.hosts, py.hosts)
    assert.strictEqual(truth.findings, py.report_items)
    assert.deepStrictEqual([...truth.severityCounts], py.severity)
    // both documents give the same counts to the same independent parser
    assert.deepStrictEqual(pythonCounts(pyOut), { hosts: py.hosts, findings: py.report_items, severity: py.severity })
    assert.deepStrictEqual(pythonCounts(ours), { hosts: py.hosts, findings: py.report_items, severity: py.severity })
    // hosts are renamed in both
    const xml = readFileSync(ours, "utf8")
    assert.notInclude(xml, "<ReportHost name=\"172.32.0.215\"")
    assert.include(xml, "<ReportHost name=\"10.0.0.1\">")
  })

  it("works from the built-in catalogue alone (no fixtures), with more findings than templates", async () => {
    const cat = Catalogue.builtin()
    assert.strictEqual(cat.source, "builtin")
    assert.isAbove(cat.findings, 20)
    const file = join(dir, "builtin.nessus")
    const truth = await Generator.writeExport(file, {
      hosts: ["web01.example", "10.5.0.9"],
      findingsPerHost: 80,
      fixture: false,
      credentials: { status: "success", username: "root", protocol: "ssh" }
    })
    assert.strictEqual(truth.findings, 160)
    const py = pythonCounts(file)
    assert.strictEqual(py.findings, 160)
    const xml = readFileSync(file, "utf8")
    assert.include(xml, "<ReportHost name=\"web01.example\">")
    assert.include(xml, "<tag name=\"host-fqdn\">web01.example</tag>")
    assert.include(xml, "Ubuntu Local Security Checks")
  })

  it("is deterministic for a seed and varies with it", async () => {
    const hash = async (seed: number) => {
      const h = createHash("sha256")
      const s = Generator.stream({ hosts: 12, findingsPerHost: 25, seed, fixture: fixturesDir })
      for await (const chunk of s) h.update(chunk as Buffer)
      return h.digest("hex")
    }
    assert.strictEqual(await hash(1), await hash(1))
    assert.notStrictEqual(await hash(1), await hash(2))
  })

  it("streams in bounded chunks and reports the truth at the end", async () => {
    const s = Generator.stream({ hosts: 60, findingsPerHost: 100, chunkSize: 1 << 20, fixture: fixturesDir })
    let bytes = 0
    let maxChunk = 0
    for await (const chunk of s) {
      bytes += (chunk as Buffer).length
      maxChunk = Math.max(maxChunk, (chunk as Buffer).length)
    }
    const truth = await s.groundTruth
    assert.strictEqual(truth.bytes, bytes)
    assert.strictEqual(truth.findings, 6000)
    // chunks are ~1 MiB; only the fixture's ~2 MB <Policy> head is written as one piece
    assert.isAtMost(maxChunk, 4 << 20)
  })

  it("writeExport keeps memory flat: buffers are recycled, growth is a fraction of the file", async () => {
    const cat = Catalogue.fromFiles(fixturesDir)
    const file = join(dir, "flat.nessus")
    const before = process.memoryUsage()
    let peakRss = before.rss
    let peakBuffers = before.arrayBuffers
    const sampler = setInterval(() => {
      const m = process.memoryUsage()
      peakRss = Math.max(peakRss, m.rss)
      peakBuffers = Math.max(peakBuffers, m.arrayBuffers)
    }, 2)
    const truth = await Generator.writeExport(file, { hosts: 600, findingsPerHost: 100, fixture: cat })
    clearInterval(sampler)
    rmSync(file)
    assert.isAbove(truth.bytes, 100_000_000)
    assert.isBelow(peakBuffers - before.arrayBuffers, 32 << 20)
    assert.isBelow(peakRss - before.rss, truth.bytes / 3)
  })

  it("rejects bad options with a SimulatorError naming the option", async () => {
    let message = ""
    try {
      await Generator.writeExport(join(dir, "x.nessus"), { hosts: -1 })
    } catch (e) {
      message = (e as Error).message
    }
    assert.include(message, "hosts")
  })
})
