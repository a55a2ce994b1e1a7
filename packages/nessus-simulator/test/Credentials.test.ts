import { assert, describe, it } from "@effect/vitest"
import { afterAll, beforeAll } from "vitest"
import { Simulator } from "../src/index.js"
import { call, createScan, exportText, login, ssh, waitStatus } from "./helpers.js"

const pluginIds = (xml: string) => new Set([...xml.matchAll(/pluginID="(\d+)"/g)].map((m) => Number(m[1])))

describe("credential-dependent plugin 19506 and evidence", () => {
  let sim: Simulator.RunningSimulator
  let base: string
  let auth: Record<string, string>
  const run = async (name: string, targets: string, credentials?: unknown) => {
    const id = await createScan(base, auth, name, targets, credentials)
    await call(base, "POST", `/scans/${id}/launch`, { headers: auth })
    await waitStatus(base, auth, id, ["completed"])
    return { id, xml: await exportText(base, auth, id) }
  }
  beforeAll(async () => {
    sim = await Simulator.start({
      scanners: [{
        scanDurationMs: 0,
        exportDelayMs: 0,
        targetAccounts: [
          { username: "scanuser", password: "scanpass", escalation: { method: "sudo", password: "sudopass" } },
          { username: "winadmin", password: "W1n!", domain: "CORP", protocols: ["windows"] },
          { username: "onlyb", password: "pb", hosts: ["10.9.0.2"] }
        ]
      }]
    })
    base = sim.scanners[0]!.url
    auth = await login(base)
  })
  afterAll(() => sim.close())

  it("right account + right escalation → yes, as 'scanuser' via ssh, with local-check plugins", async () => {
    const { id, xml } = await run("right", "10.9.0.1", ssh({ username: "scanuser", password: "scanpass", elevate: "sudo", escalationPassword: "sudopass" }))
    assert.include(xml, "Credentialed checks : yes, as &apos;scanuser&apos; via ssh")
    const ids = pluginIds(xml)
    for (const p of [19506, 141118, 110095, 117887, 12634, 22869]) assert.isTrue(ids.has(p), `plugin ${p}`)
    for (const p of [21745, 104410, 110385]) assert.isFalse(ids.has(p), `plugin ${p}`)
    assert.include(xml, "<tag name=\"Credentialed_Scan\">true</tag>")
    assert.include(xml, "<tag name=\"local-checks-proto\">ssh</tag>")
    const out = await call(base, "GET", `/scans/${id}/hosts/1/plugins/19506`, { headers: auth })
    assert.include(out.json.outputs[0].plugin_output, "Credentialed checks : yes, as 'scanuser' via ssh")
  })

  it("wrong password → no, with 21745 and 104410 failure evidence", async () => {
    const { xml } = await run("wrong", "10.9.0.1", ssh({ username: "scanuser", password: "nope", elevate: "sudo", escalationPassword: "sudopass" }))
    assert.include(xml, "Credentialed checks : no")
    assert.notInclude(xml, "Credentialed checks : yes")
    const ids = pluginIds(xml)
    assert.isTrue(ids.has(21745))
    assert.isTrue(ids.has(104410))
    assert.isFalse(ids.has(141118))
    assert.include(xml, "Nessus was unable to log into the following host")
    assert.include(xml, "<tag name=\"Credentialed_Scan\">false</tag>")
  })

  it("right login but failed escalation → yes plus 110385 insufficient privilege (no 110095)", async () => {
    const { xml } = await run("escalation", "10.9.0.1", ssh({ username: "scanuser", password: "scanpass", elevate: "sudo", escalationPassword: "bad" }))
    assert.include(xml, "Credentialed checks : yes, as &apos;scanuser&apos; via ssh")
    const ids = pluginIds(xml)
    assert.isTrue(ids.has(110385))
    assert.isTrue(ids.has(102094))
    assert.isTrue(ids.has(141118))
    assert.isFalse(ids.has(110095))
    assert.include(xml, "did not have sufficient privileges")
  })

  it("no credentials → no, and no authentication evidence", async () => {
    const { xml } = await run("nocreds", "10.9.0.1")
    assert.include(xml, "Credentialed checks : no")
    const ids = pluginIds(xml)
    for (const p of [141118, 110095, 21745, 104410, 110385]) assert.isFalse(ids.has(p))
  })

  it("Windows credentials → yes, as 'CORP\\winadmin' via SMB", async () => {
    const creds = { add: { Host: { Windows: [{ auth_method: "Password", username: "winadmin", password: "W1n!", domain: "CORP" }] } } }
    const { xml } = await run("windows", "10.9.0.1", creds)
    assert.include(xml, "Credentialed checks : yes, as &apos;CORP\\winadmin&apos; via SMB")
    assert.include(xml, "<tag name=\"smb-login-used\">CORP\\winadmin</tag>")
  })

  it("an account limited to some hosts gives a mixed result per host", async () => {
    const { xml } = await run("mixed", "10.9.0.1-2", ssh({ username: "onlyb", password: "pb" }))
    const lines = [...xml.matchAll(/Credentialed checks : ([^\n]*)/g)].map((m) => m[1])
    assert.deepStrictEqual(lines, ["no", "yes, as &apos;onlyb&apos; via ssh"])
  })
})
