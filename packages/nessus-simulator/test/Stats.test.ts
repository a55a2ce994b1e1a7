import { assert, describe, it } from "@effect/vitest"
import { afterAll, beforeAll } from "vitest"
import { Simulator } from "../src/index.js"
import { call, createScan, login } from "./helpers.js"

describe("/_sim/stats", () => {
  let sim: Simulator.RunningSimulator
  beforeAll(async () => {
    sim = await Simulator.start({
      scanners: [{ id: "a", scanDurationMs: 60_000, pendingMs: 20 }, { id: "b", scanDurationMs: 0 }]
    })
  })
  afterAll(() => sim.close())

  it("counts are exact under 50 concurrent clients", async () => {
    const a = sim.scanner("a")
    const clients = 50
    const perClient = 6
    await Promise.all(
      Array.from({ length: clients }, async (_v, c) => {
        const auth = await login(a.url)
        const name = `scan-${c % 10}`
        const id = await createScan(a.url, auth, name, `10.1.${c}.1`)
        for (let i = 0; i < perClient; i++) {
          const r = await call(a.url, "GET", "/scans", { headers: auth })
          assert.strictEqual(r.status, 200)
        }
        await call(a.url, "GET", `/scans/${id}`, { headers: auth })
        if (c < 20) await call(a.url, "POST", `/scans/${id}/launch`, { headers: auth })
      })
    )
    const s = (await call(a.url, "GET", "/_sim/stats")).json.instances.a
    assert.strictEqual(s.sessions_created, clients)
    assert.strictEqual(s.api_calls["POST /session"], clients)
    assert.strictEqual(s.api_calls["POST /scans"], clients)
    assert.strictEqual(s.api_calls["GET /scans"], clients * perClient)
    assert.strictEqual(s.api_calls["GET /scans/{id}"], clients)
    assert.strictEqual(s.api_calls["POST /scans/{id}/launch"], 20)
    assert.deepStrictEqual(
      s.scans_created,
      Object.fromEntries(Array.from({ length: 10 }, (_v, i) => [`scan-${i}`, 5]))
    )
    assert.deepStrictEqual(
      s.scans_launched,
      Object.fromEntries(Array.from({ length: 10 }, (_v, i) => [`scan-${i}`, 2]))
    )
    assert.strictEqual(s.max_concurrent_running, 20)
    assert.strictEqual(s.running_now, 20)
    // /_sim calls are not counted; the other instance saw nothing
    assert.isUndefined(s.api_calls["GET /_sim/stats"])
    assert.deepStrictEqual(sim.stats().instances.b!.api_calls, {})
  })

  it("reset clears scans and counters of one instance", async () => {
    const b = sim.scanner("b")
    const auth = await login(b.url)
    await createScan(b.url, auth, "x", "10.0.0.1")
    assert.strictEqual(b.stats().scans_created.x, 1)
    await call(b.url, "POST", "/_sim/reset")
    assert.deepStrictEqual(b.stats().scans_created, {})
    assert.strictEqual((await call(b.url, "GET", "/scans", { headers: auth })).json.scans, null)
  })
})
