import { assert, describe, it } from "@effect/vitest"
import { afterAll, beforeAll, beforeEach } from "vitest"
import { Simulator } from "../src/index.js"
import { ADVANCED, call, createScan, login, waitStatus } from "./helpers.js"

const transportFails = async (f: () => Promise<unknown>): Promise<boolean> => {
  try {
    await f()
    return false
  } catch {
    return true
  }
}

describe("fault injection", () => {
  let sim: Simulator.RunningSimulator
  let base: string
  let other: string
  let auth: Record<string, string>
  beforeAll(async () => {
    sim = await Simulator.start({
      scanners: [{ id: "faulty", scanDurationMs: 0, exportDelayMs: 0 }, { id: "healthy", scanDurationMs: 0 }]
    })
    base = sim.scanner("faulty").url
    other = sim.scanner("healthy").url
    auth = await login(base)
  })
  beforeEach(() => {
    sim.scanner("faulty").setFaults({})
  })
  afterAll(() => sim.close())

  it("latencyMs delays answers", async () => {
    sim.scanner("faulty").setFaults({ latencyMs: 150 })
    const t0 = Date.now()
    assert.strictEqual((await call(base, "GET", "/server/status")).status, 200)
    assert.isAtLeast(Date.now() - t0, 140)
  })

  it("errorBurst answers N requests with the status, then recovers", async () => {
    sim.scanner("faulty").setFaults({ errorBurst: { status: 503, count: 2 } })
    const statuses = []
    for (let i = 0; i < 3; i++) statuses.push((await call(base, "GET", "/server/status")).status)
    assert.deepStrictEqual(statuses, [503, 503, 200])
    const r = await call(base, "POST", "/_sim/faults", { body: { errorBurst: { status: 500, count: 1 } } })
    assert.deepStrictEqual(r.json, { errorBurst: { status: 500, count: 1 } })
    const e = await call(base, "GET", "/scans", { headers: auth })
    assert.strictEqual(e.status, 500)
    assert.isString(e.json.error)
  })

  it("rateLimit answers 429 with Retry-After", async () => {
    sim.scanner("faulty").setFaults({ rateLimit: { count: 1, retryAfterSeconds: 7 } })
    const r = await call(base, "GET", "/scans", { headers: auth })
    assert.strictEqual(r.status, 429)
    assert.strictEqual(r.headers.get("retry-after"), "7")
    assert.strictEqual((await call(base, "GET", "/scans", { headers: auth })).status, 200)
  })

  it("resetConnections destroys the next N connections", async () => {
    sim.scanner("faulty").setFaults({ resetConnections: 1 })
    assert.isTrue(await transportFails(() => call(base, "GET", "/server/status")))
    assert.strictEqual((await call(base, "GET", "/server/status")).status, 200)
  })

  it("down makes the scanner unreachable (admin endpoints still answer; other instances unaffected)", async () => {
    await call(base, "POST", "/_sim/faults", { body: { down: true } })
    assert.isTrue(await transportFails(() => call(base, "GET", "/server/status")))
    assert.strictEqual((await call(other, "GET", "/server/status")).status, 200)
    assert.deepStrictEqual((await call(base, "GET", "/_sim/faults")).json, { down: true })
    await call(base, "POST", "/_sim/faults", { body: {} })
    assert.strictEqual((await call(base, "GET", "/server/status")).status, 200)
  })

  it("scanCreate412 refuses POST /scans with 412 even when scan_api is true", async () => {
    sim.scanner("faulty").setFaults({ scanCreate412: true })
    const r = await call(base, "POST", "/scans", { headers: auth, body: { uuid: ADVANCED, settings: { name: "x", text_targets: "10.0.0.1" } } })
    assert.strictEqual(r.status, 412)
    assert.deepStrictEqual(r.json, { error: "API is not available" })
    sim.scanner("faulty").setFaults({ scanCreate412: "dropBody" })
    assert.isTrue(
      await transportFails(() =>
        call(base, "POST", "/scans", { headers: auth, body: { uuid: ADVANCED, settings: { name: "x", text_targets: "10.0.0.1" } } })
      )
    )
  })

  it("exportStuckLoading keeps the export loading; exportError ends it in error on both paths", async () => {
    const id = await createScan(base, auth, "exp-faults", "10.0.0.1")
    await call(base, "POST", `/scans/${id}/launch`, { headers: auth })
    await waitStatus(base, auth, id, ["completed"])
    sim.scanner("faulty").setFaults({ exportStuckLoading: true })
    const e = await call(base, "POST", `/scans/${id}/export`, { headers: auth, body: { format: "nessus" } })
    await new Promise((r) => setTimeout(r, 30))
    for (let i = 0; i < 3; i++) {
      const s = await call(base, "GET", `/scans/${id}/export/${e.json.file}/status`, { headers: auth })
      assert.deepStrictEqual(s.json, { status: "loading" })
    }
    sim.scanner("faulty").setFaults({})
    assert.deepStrictEqual((await call(base, "GET", `/tokens/${e.json.token}/status`, { headers: auth })).json, { status: "ready" })

    sim.scanner("faulty").setFaults({ exportError: true })
    const e2 = await call(base, "POST", `/scans/${id}/export`, { headers: auth, body: { format: "nessus" } })
    const s1 = await call(base, "GET", `/scans/${id}/export/${e2.json.file}/status`, { headers: auth })
    assert.strictEqual(s1.status, 500)
    assert.deepStrictEqual(s1.json, { status: "error" })
    sim.scanner("faulty").setFaults({})
    // an export that failed stays failed
    const s2 = await call(base, "GET", `/tokens/${e2.json.token}/status`, { headers: auth })
    assert.strictEqual(s2.json.status, "error")
    assert.strictEqual((await call(base, "GET", `/tokens/${e2.json.token}/download`, { headers: auth })).status, 500)
  })

  it("invalid fault bodies get 400 naming the key", async () => {
    const r = await call(base, "POST", "/_sim/faults", { body: { errorBurst: { status: 404, count: 1 } } })
    assert.strictEqual(r.status, 400)
    assert.include(r.json.error, "faults.errorBurst.status")
  })
})
