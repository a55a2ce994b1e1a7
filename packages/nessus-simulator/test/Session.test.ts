import { assert, describe, it } from "@effect/vitest"
import { afterAll, beforeAll } from "vitest"
import { Simulator } from "../src/index.js"
import { call, login } from "./helpers.js"

describe("sessions and API keys", () => {
  let sim: Simulator.RunningSimulator
  let base: string
  let shortTtl: string
  beforeAll(async () => {
    sim = await Simulator.start({
      scanners: [
        { id: "main", apiKeys: [{ accessKey: "a".repeat(64), secretKey: "b".repeat(64) }] },
        { id: "short", sessionTtlMs: 150 }
      ]
    })
    base = sim.scanner("main").url
    shortTtl = sim.scanner("short").url
  })
  afterAll(() => sim.close())

  it("POST /session returns a 48-hex token that works as X-Cookie", async () => {
    const r = await call(base, "POST", "/session", { body: { username: "nessus", password: "nessus" } })
    assert.strictEqual(r.status, 200)
    assert.match(r.json.token, /^[0-9a-f]{48}$/)
    assert.isString(r.json.md5sum_wizard_templates)
    const me = await call(base, "GET", "/session", { headers: { "X-Cookie": `token=${r.json.token}` } })
    assert.strictEqual(me.status, 200)
    assert.strictEqual(me.json.username, "nessus")
    assert.strictEqual(me.json.permissions, 128)
  })

  it("a wrong password gets 401 Invalid Credentials", async () => {
    const r = await call(base, "POST", "/session", { body: { username: "nessus", password: "wrong" } })
    assert.strictEqual(r.status, 401)
    assert.deepStrictEqual(r.json, { error: "Invalid Credentials" })
  })

  it("no auth gets 401 'You need to log in', a bad token 401 Invalid Credentials", async () => {
    const none = await call(base, "GET", "/scans")
    assert.strictEqual(none.status, 401)
    assert.deepStrictEqual(none.json, { error: "You need to log in to perform this request" })
    const bad = await call(base, "GET", "/scans", { headers: { "X-Cookie": "token=deadbeef" } })
    assert.strictEqual(bad.status, 401)
    assert.deepStrictEqual(bad.json, { error: "Invalid Credentials" })
  })

  it("a session expires after sessionTtlMs of inactivity (then 401, and a new login works)", async () => {
    const auth = await login(shortTtl)
    assert.strictEqual((await call(shortTtl, "GET", "/scans", { headers: auth })).status, 200)
    await new Promise((r) => setTimeout(r, 250))
    const expired = await call(shortTtl, "GET", "/scans", { headers: auth })
    assert.strictEqual(expired.status, 401)
    assert.deepStrictEqual(expired.json, { error: "Invalid Credentials" })
    const again = await login(shortTtl)
    assert.strictEqual((await call(shortTtl, "GET", "/scans", { headers: again })).status, 200)
  })

  it("DELETE /session logs out", async () => {
    const auth = await login(base)
    assert.strictEqual((await call(base, "DELETE", "/session", { headers: auth })).status, 200)
    assert.strictEqual((await call(base, "GET", "/scans", { headers: auth })).status, 401)
  })

  it("fixed API keys and keys minted by PUT /session/keys authenticate via X-ApiKeys", async () => {
    const fixed = { "X-ApiKeys": `accessKey=${"a".repeat(64)}; secretKey=${"b".repeat(64)}` }
    assert.strictEqual((await call(base, "GET", "/scans", { headers: fixed })).status, 200)
    const minted = await call(base, "PUT", "/session/keys", { headers: await login(base) })
    assert.strictEqual(minted.status, 200)
    assert.match(minted.json.accessKey, /^[0-9a-f]{64}$/)
    const h = { "X-ApiKeys": `accessKey=${minted.json.accessKey}; secretKey=${minted.json.secretKey}` }
    assert.strictEqual((await call(base, "GET", "/scans", { headers: h })).status, 200)
    const wrong = { "X-ApiKeys": `accessKey=${minted.json.accessKey}; secretKey=${"0".repeat(64)}` }
    const r = await call(base, "GET", "/scans", { headers: wrong })
    assert.strictEqual(r.status, 401)
    assert.deepStrictEqual(r.json, { error: "Invalid Credentials" })
  })

  it("revokeSessions invalidates every token (API keys keep working)", async () => {
    const auth = await login(base)
    sim.scanner("main").setFaults({ revokeSessions: true })
    assert.strictEqual((await call(base, "GET", "/scans", { headers: auth })).status, 401)
    const fixed = { "X-ApiKeys": `accessKey=${"a".repeat(64)}; secretKey=${"b".repeat(64)}` }
    assert.strictEqual((await call(base, "GET", "/scans", { headers: fixed })).status, 200)
  })

  it("server status and properties answer without auth, with the licence block", async () => {
    const s = await call(base, "GET", "/server/status")
    assert.strictEqual(s.json.status, "ready")
    const p = await call(base, "GET", "/server/properties")
    assert.strictEqual(p.json.license.features.scan_api, true)
    assert.strictEqual(p.json.server_version, "10.7.2")
  })

  it("reference shapes: templates by name, scanners, policies null, folders 2/3, scans null when empty", async () => {
    const auth = await login(base)
    const t = await call(base, "GET", "/editor/scan/templates", { headers: auth })
    const byName = Object.fromEntries(t.json.templates.map((x: any) => [x.name, x.uuid]))
    assert.strictEqual(byName.basic, "731a8e52-3ea6-a291-ec0a-d2ff0619c19d7bd788d6be818b65")
    assert.strictEqual(byName.advanced, "ad629e16-03b6-8c1d-cef6-ef8c9dd3c658d24bd260ef5f9e66")
    assert.strictEqual(byName.discovery, "bbd4f805-3966-d464-b2d1-0079eb89d69708c3a05ec2812bcf")
    const sc = await call(base, "GET", "/scanners", { headers: auth })
    assert.strictEqual(sc.json.scanners[0].type, "local")
    assert.strictEqual(sc.json.scanners[0].id, 1)
    assert.deepStrictEqual((await call(base, "GET", "/policies", { headers: auth })).json, { policies: null })
    const list = await call(base, "GET", "/scans", { headers: auth })
    assert.strictEqual(list.json.scans, null)
    assert.deepStrictEqual(list.json.folders.map((f: any) => [f.id, f.type]), [[2, "trash"], [3, "main"]])
    const f = await call(base, "POST", "/folders", { headers: auth, body: { name: "Automation" } })
    assert.isNumber(f.json.id)
    const wrongVerb = await call(base, "PATCH", "/scans", { headers: auth })
    assert.strictEqual(wrongVerb.status, 405)
    const unknown = await call(base, "GET", "/nope", { headers: auth })
    assert.strictEqual(unknown.status, 404)
  })
})
