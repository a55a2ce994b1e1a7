import { connect } from "node:net"
import { assert, describe, it } from "@effect/vitest"
import { afterAll, beforeAll } from "vitest"
import { Simulator } from "../src/index.js"
import { ADVANCED, call, createScan, login } from "./helpers.js"

const scanBody = { uuid: ADVANCED, settings: { name: "gated", text_targets: "10.0.0.1" } }

/** Raw HTTP exchange, to see exactly what the server sends before closing. */
const raw = (port: number, request: string): Promise<string> =>
  new Promise((resolve, reject) => {
    const s = connect(port, "127.0.0.1", () => s.write(request))
    let data = ""
    s.on("data", (d) => (data += d.toString("latin1")))
    s.on("end", () => resolve(data))
    s.on("close", () => resolve(data))
    s.on("error", reject)
  })

describe("scan_api licence gate", () => {
  let sim: Simulator.RunningSimulator
  let gatedUrl: string
  beforeAll(async () => {
    sim = await Simulator.start({
      scanners: [
        { id: "essentials", scanApi: false, edition: "essentials", apiKeys: [{ accessKey: "k1", secretKey: "s1" }], scanDurationMs: 0 },
        { id: "dropping", scanApi: false, scanApiGateDropsBody: true }
      ]
    })
    gatedUrl = sim.scanner("essentials").url
  })
  afterAll(() => sim.close())

  it("server/properties shows scan_api false and Essentials", async () => {
    const p = await call(gatedUrl, "GET", "/server/properties")
    assert.strictEqual(p.json.license.features.scan_api, false)
    assert.strictEqual(p.json.license.name, "Nessus Essentials")
  })

  it("API keys get 412 {\"error\":\"API is not available\"} (32 bytes, Connection: close) on POST /scans", async () => {
    const r = await call(gatedUrl, "POST", "/scans", { headers: { "X-ApiKeys": "accessKey=k1; secretKey=s1" }, body: scanBody })
    assert.strictEqual(r.status, 412)
    assert.strictEqual(r.text, "{\"error\":\"API is not available\"}")
    assert.strictEqual(r.text.length, 32)
    assert.strictEqual(r.headers.get("connection"), "close")
    // reads stay allowed
    assert.strictEqual((await call(gatedUrl, "GET", "/scans", { headers: { "X-ApiKeys": "accessKey=k1; secretKey=s1" } })).status, 200)
  })

  it("a session without (or with a wrong) X-API-Token gets 412", async () => {
    const auth = await login(gatedUrl)
    assert.strictEqual((await call(gatedUrl, "POST", "/scans", { headers: auth, body: scanBody })).status, 412)
    const wrong = { ...auth, "X-API-Token": "00000000-0000-0000-0000-000000000000" }
    assert.strictEqual((await call(gatedUrl, "POST", "/scans", { headers: wrong, body: scanBody })).status, 412)
  })

  it("the token read from /nessus6.js with the public regexes unlocks create, launch and delete", async () => {
    const js = (await call(gatedUrl, "GET", "/nessus6.js?v=1607644926568")).text
    const patterns = [
      /getApiToken[^}]+return["']([A-Fa-f0-9-]+)["']/,
      /key:"getApiToken",value:function\(\)\{return"([^"]+)"/,
      /{key:"getApiToken",value:function\(\){return"(.*)"}},{key/,
      /[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}/
    ]
    const found = patterns.map((p) => {
      const m = p.exec(js)
      return m ? (m[1] ?? m[0]) : undefined
    })
    assert.deepStrictEqual(found, patterns.map(() => sim.scanner("essentials").apiToken))
    assert.include(js, "return g(a,[{key:\"getApiToken\",value:function(){")
    const auth = { ...(await login(gatedUrl)), "X-API-Token": found[0]! }
    const id = await createScan(gatedUrl, auth, "ui-path", "10.0.0.1")
    const launched = await call(gatedUrl, "POST", `/scans/${id}/launch`, { headers: auth })
    assert.strictEqual(launched.status, 200)
    assert.match(launched.json.scan_uuid, /^[0-9a-f-]{36}$/)
    assert.strictEqual((await call(gatedUrl, "DELETE", `/scans/${id}`, { headers: auth })).status, 200)
    // the same token with API keys is still refused, as on real Essentials
    const keysAndToken = { "X-ApiKeys": "accessKey=k1; secretKey=s1", "X-API-Token": found[0]! }
    assert.strictEqual((await call(gatedUrl, "POST", "/scans", { headers: keysAndToken, body: scanBody })).status, 412)
  })

  it("scanApiGateDropsBody: headers announce 32 bytes, then the connection closes without the body", async () => {
    const d = sim.scanner("dropping")
    const tokenReply = await call(d.url, "POST", "/session", { body: { username: "nessus", password: "nessus" } })
    const body = JSON.stringify(scanBody)
    const text = await raw(
      d.port,
      `POST /scans HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Cookie: token=${tokenReply.json.token}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`
    )
    assert.match(text, /^HTTP\/1\.1 412 /)
    assert.match(text, /content-length: 32/i)
    const afterHeaders = text.slice(text.indexOf("\r\n\r\n") + 4)
    assert.strictEqual(afterHeaders, "")
    // fetch sees a transport failure
    let failed = false
    try {
      await call(d.url, "POST", "/scans", { headers: { "X-Cookie": `token=${tokenReply.json.token}` }, body: scanBody })
    } catch {
      failed = true
    }
    assert.isTrue(failed)
  })
})
