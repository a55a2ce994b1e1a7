import { rmSync } from "node:fs"
import { request } from "node:https"
import { assert, describe, it } from "@effect/vitest"
import { afterAll, beforeAll } from "vitest"
import { Simulator } from "../src/index.js"
import { selfSigned } from "./tls.js"

const get = (url: string, ca?: string): Promise<{ status: number; body: string }> =>
  new Promise((resolve, reject) => {
    const req = request(url, { method: "GET", ...(ca !== undefined ? { ca } : {}) }, (res) => {
      let body = ""
      res.on("data", (d) => (body += d))
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }))
    })
    req.on("error", reject)
    req.end()
  })

describe("HTTPS", () => {
  let sim: Simulator.RunningSimulator
  let tls: ReturnType<typeof selfSigned>
  beforeAll(async () => {
    tls = selfSigned()
    sim = await Simulator.start({ scanners: [{ tls: { cert: tls.cert, key: tls.key } }, { id: "plain" }] })
  })
  afterAll(async () => {
    await sim.close()
    rmSync(tls.dir, { recursive: true, force: true })
  })

  it("serves https:// with the given certificate (trusted via its CA) next to a plain HTTP instance", async () => {
    const s = sim.scanners[0]!
    assert.match(s.url, /^https:\/\/127\.0\.0\.1:\d+$/)
    const r = await get(`${s.url}/server/status`, tls.cert)
    assert.strictEqual(r.status, 200)
    assert.strictEqual(JSON.parse(r.body).status, "ready")
    assert.match(sim.scanner("plain").url, /^http:\/\//)
  })

  it("an untrusted self-signed certificate is refused by a default client", async () => {
    let error: unknown
    try {
      await get(`${sim.scanners[0]!.url}/server/status`)
    } catch (e) {
      error = e
    }
    assert.isDefined(error)
    assert.match(String((error as NodeJS.ErrnoException).code), /SELF_SIGNED|UNABLE_TO_VERIFY|DEPTH_ZERO/)
  })
})
