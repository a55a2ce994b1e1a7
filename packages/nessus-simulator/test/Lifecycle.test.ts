import { assert, describe, it } from "@effect/vitest"
import { afterAll, beforeAll } from "vitest"
import { Simulator } from "../src/index.js"
import { call, createScan, exportText, login, waitStatus } from "./helpers.js"

describe("scan lifecycle", () => {
  let sim: Simulator.RunningSimulator
  let base: string
  let slow: string
  let auth: Record<string, string>
  let slowAuth: Record<string, string>
  beforeAll(async () => {
    sim = await Simulator.start({
      scanners: [
        { id: "fast", scanDurationMs: 300, pendingMs: 60, transitionMs: 40, exportDelayMs: 60 },
        { id: "slow", scanDurationMs: 60_000, pendingMs: 50, transitionMs: 40 }
      ]
    })
    base = sim.scanner("fast").url
    slow = sim.scanner("slow").url
    auth = await login(base)
    slowAuth = await login(slow)
  })
  afterAll(() => sim.close())

  it("empty → pending → running (per-host progress) → completed; uuid becomes the launch's scan_uuid", async () => {
    const id = await createScan(base, auth, "life", "10.0.0.1-4")
    const before = await call(base, "GET", `/scans/${id}`, { headers: auth })
    assert.strictEqual(before.json.info.status, "empty")
    assert.deepStrictEqual(before.json.hosts, [])
    assert.strictEqual(before.json.history, null)
    const listed = (await call(base, "GET", "/scans", { headers: auth })).json.scans.find((s: any) => s.id === id)
    assert.strictEqual(listed.status, "empty")
    assert.strictEqual(listed.uuid, null)

    const launch = await call(base, "POST", `/scans/${id}/launch`, { headers: auth, body: {} })
    assert.strictEqual(launch.status, 200)
    const pending = await call(base, "GET", `/scans/${id}`, { headers: auth })
    assert.strictEqual(pending.json.info.status, "pending")

    const running = await waitStatus(base, auth, id, ["running"])
    assert.strictEqual(running.hosts.length, 4)
    for (const h of running.hosts) {
      assert.strictEqual(h.scanprogresstotal, 100)
      assert.isAtMost(h.scanprogresscurrent, 100)
    }
    const done = await waitStatus(base, auth, id, ["completed"])
    assert.deepStrictEqual(done.hosts.map((h: any) => h.scanprogresscurrent), [100, 100, 100, 100])
    assert.deepStrictEqual(done.hosts.map((h: any) => h.hostname), ["10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4"])
    assert.isAbove(done.vulnerabilities.length, 0)
    assert.strictEqual(done.history[0].uuid, launch.json.scan_uuid)
    assert.strictEqual(done.info.uuid, launch.json.scan_uuid)
    assert.isNumber(done.info.scan_end)
    const after = (await call(base, "GET", "/scans", { headers: auth })).json.scans.find((s: any) => s.id === id)
    assert.strictEqual(after.uuid, launch.json.scan_uuid)
    assert.strictEqual(after.status, "completed")
  })

  it("pause → pausing → paused, resume → resuming → running, progress kept", async () => {
    const id = await createScan(slow, slowAuth, "pausable", "10.0.1.1")
    await call(slow, "POST", `/scans/${id}/launch`, { headers: slowAuth })
    await waitStatus(slow, slowAuth, id, ["running"])
    await new Promise((r) => setTimeout(r, 60))
    assert.strictEqual((await call(slow, "POST", `/scans/${id}/pause`, { headers: slowAuth })).status, 200)
    assert.strictEqual((await call(slow, "GET", `/scans/${id}`, { headers: slowAuth })).json.info.status, "pausing")
    const paused = await waitStatus(slow, slowAuth, id, ["paused"])
    const p1 = paused.hosts[0].scanprogresscurrent
    await new Promise((r) => setTimeout(r, 80))
    const stillPaused = await call(slow, "GET", `/scans/${id}`, { headers: slowAuth })
    assert.strictEqual(stillPaused.json.hosts[0].scanprogresscurrent, p1)
    assert.strictEqual((await call(slow, "POST", `/scans/${id}/resume`, { headers: slowAuth })).status, 200)
    assert.strictEqual((await call(slow, "GET", `/scans/${id}`, { headers: slowAuth })).json.info.status, "resuming")
    await waitStatus(slow, slowAuth, id, ["running"])
    // a running scan cannot be exported, resumed, launched again or deleted
    const exp = await call(slow, "POST", `/scans/${id}/export`, { headers: slowAuth, body: { format: "nessus" } })
    assert.strictEqual(exp.status, 409)
    assert.deepStrictEqual(exp.json, { error: "Can not export running scans" })
    assert.strictEqual((await call(slow, "POST", `/scans/${id}/resume`, { headers: slowAuth })).status, 409)
    assert.strictEqual((await call(slow, "POST", `/scans/${id}/launch`, { headers: slowAuth })).status, 409)
    assert.strictEqual((await call(slow, "DELETE", `/scans/${id}`, { headers: slowAuth })).status, 409)
    // stop → stopping → canceled, then delete works
    assert.strictEqual((await call(slow, "POST", `/scans/${id}/stop`, { headers: slowAuth })).status, 200)
    assert.strictEqual((await call(slow, "GET", `/scans/${id}`, { headers: slowAuth })).json.info.status, "stopping")
    const canceled = await waitStatus(slow, slowAuth, id, ["canceled"])
    assert.isBelow(canceled.hosts[0].scanprogresscurrent, 100)
    assert.strictEqual((await call(slow, "DELETE", `/scans/${id}`, { headers: slowAuth })).status, 200)
    assert.strictEqual((await call(slow, "GET", `/scans/${id}`, { headers: slowAuth })).status, 404)
  })

  it("export: request → loading → ready on both the /scans/{id}/export/{file} and /tokens/{token} paths", async () => {
    const id = await createScan(base, auth, "exported", "10.0.2.1,10.0.2.2")
    await call(base, "POST", `/scans/${id}/launch`, { headers: auth })
    await waitStatus(base, auth, id, ["completed"])
    const e = await call(base, "POST", `/scans/${id}/export`, { headers: auth, body: { format: "nessus" } })
    assert.strictEqual(e.status, 200)
    assert.isNumber(e.json.file)
    assert.match(e.json.token, /^[0-9a-f]{64}$/)
    const first = await call(base, "GET", `/scans/${id}/export/${e.json.file}/status`, { headers: auth })
    assert.deepStrictEqual(first.json, { status: "loading" })
    const notYet = await call(base, "GET", `/scans/${id}/export/${e.json.file}/download`, { headers: auth })
    assert.strictEqual(notYet.status, 409)
    const viaFile = await exportText(base, auth, id, "file")
    const viaToken = await exportText(base, auth, id, "token")
    for (const xml of [viaFile, viaToken]) {
      assert.match(xml, /^<\?xml /)
      assert.include(xml, "<NessusClientData_v2>")
      assert.include(xml, "<Report name=\"exported\"")
      assert.strictEqual((xml.match(/<ReportHost /g) ?? []).length, 2)
      assert.include(xml, "<ReportHost name=\"10.0.2.1\">")
      assert.include(xml, "<tag name=\"host-ip\">10.0.2.2</tag>")
      assert.include(xml, "</NessusClientData_v2>")
    }
    assert.strictEqual(viaFile, viaToken)
    const missing = await call(base, "GET", `/scans/${id}/export/12345/status`, { headers: auth })
    assert.strictEqual(missing.status, 404)
    assert.deepStrictEqual(missing.json, { error: "The requested file was not found" })
    assert.strictEqual((await call(base, "GET", `/tokens/${"0".repeat(64)}/download`, { headers: auth })).status, 404)
  })

  it("history_id selects a run; host details and plugin output are served", async () => {
    const id = await createScan(base, auth, "twice", "10.0.3.1")
    const a = await call(base, "POST", `/scans/${id}/launch`, { headers: auth })
    await waitStatus(base, auth, id, ["completed"])
    const b = await call(base, "POST", `/scans/${id}/launch`, { headers: auth })
    const d = await waitStatus(base, auth, id, ["completed"])
    assert.deepStrictEqual(d.history.map((h: any) => h.uuid), [a.json.scan_uuid, b.json.scan_uuid])
    const first = await call(base, "GET", `/scans/${id}?history_id=${d.history[0].history_id}`, { headers: auth })
    assert.strictEqual(first.json.info.uuid, a.json.scan_uuid)
    const host = await call(base, "GET", `/scans/${id}/hosts/1`, { headers: auth })
    assert.strictEqual(host.json.info["host-ip"], "10.0.3.1")
    assert.isTrue(host.json.vulnerabilities.some((v: any) => v.plugin_id === 19506))
    const out = await call(base, "GET", `/scans/${id}/hosts/1/plugins/19506`, { headers: auth })
    assert.match(out.json.outputs[0].plugin_output, /Credentialed checks : no/)
    assert.strictEqual((await call(base, "GET", `/scans/${id}/hosts/9`, { headers: auth })).status, 404)
  })

  it("bad create bodies get 400 with a Nessus-style error; CIDR targets expand", async () => {
    const noName = await call(base, "POST", "/scans", { headers: auth, body: { uuid: "x", settings: {} } })
    assert.strictEqual(noName.status, 400)
    assert.isString(noName.json.error)
    const id = await createScan(base, auth, "cidr", "192.168.7.0/30, host-a.example")
    await call(base, "POST", `/scans/${id}/launch`, { headers: auth })
    const d = await waitStatus(base, auth, id, ["completed"])
    assert.deepStrictEqual(d.hosts.map((h: any) => h.hostname), [
      "192.168.7.0",
      "192.168.7.1",
      "192.168.7.2",
      "192.168.7.3",
      "host-a.example"
    ])
  })
})
