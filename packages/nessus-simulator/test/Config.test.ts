import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { afterAll } from "vitest"
import { Simulator, SimulatorConfig, SimulatorError } from "../src/index.js"

const errorOf = (f: () => unknown): SimulatorError.SimulatorError => {
  try {
    f()
  } catch (e) {
    if (SimulatorError.isSimulatorError(e)) return e
    throw e
  }
  throw new Error("expected a SimulatorError")
}

describe("configuration", () => {
  const dir = mkdtempSync(join(tmpdir(), "nessus-sim-cfg-"))
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  it("errors name the offending key", () => {
    const cases: Array<[unknown, string]> = [
      [{ scanners: [{ port: "8834" }] }, "scanners[0].port"],
      [{ scanners: [{}, { users: [{ username: "a" }] }] }, "scanners[1].users[0].password"],
      [{ scanners: [{ targetAccounts: [{ username: "u", escalation: { method: "doas" } }] }] }, "scanners[0].targetAccounts[0].escalation.method"],
      [{ scanners: [{ faults: { rateLimit: { count: -1 } } }] }, "scanners[0].faults.rateLimit.count"],
      [{ scanners: [{ id: "x" }, { id: "x" }] }, "scanners[1].id"],
      [{ scanners: [{ port: 9000 }, { port: 9000 }] }, "scanners[1].port"],
      [{ hots: "127.0.0.1" }, "hots is not a known key"]
    ]
    for (const [input, key] of cases) {
      const e = errorOf(() => SimulatorConfig.parse(input))
      assert.strictEqual(e.reason, "InvalidConfig")
      assert.include(e.message, key)
    }
  })

  it("loads YAML with relative paths resolved against the file", () => {
    const file = join(dir, "sim.yaml")
    writeFileSync(file, "host: 127.0.0.1\nscanners:\n  - id: one\n    port: 0\n    fixture: ./nowhere.nessus\n")
    const c = SimulatorConfig.loadFile(file)
    assert.strictEqual(c.scanners?.[0]?.fixture, join(dir, "nowhere.nessus"))
    const bad = join(dir, "bad.yaml")
    writeFileSync(bad, "scanners: [unclosed\n")
    assert.include(errorOf(() => SimulatorConfig.loadFile(bad)).message, bad)
  })

  it("Simulator.start rejects an unreadable fixture with a Fixture error", async () => {
    let error: unknown
    try {
      await Simulator.start({ scanners: [{ fixture: join(dir, "missing.nessus") }] })
    } catch (e) {
      error = e
    }
    assert.strictEqual((error as SimulatorError.SimulatorError).reason, "Fixture")
  })

  it("a port in use gives a Listen error", async () => {
    const first = await Simulator.start()
    let error: unknown
    try {
      await Simulator.start({ scanners: [{ port: first.scanners[0]!.port }] })
    } catch (e) {
      error = e
    } finally {
      await first.close()
    }
    assert.strictEqual((error as SimulatorError.SimulatorError).reason, "Listen")
    assert.include((error as Error).message, "EADDRINUSE")
  })

  it.effect("Simulator.make starts in a scope and closes on scope exit", () =>
    Effect.gen(function*() {
      const url = yield* Effect.scoped(
        Effect.gen(function*() {
          const sim = yield* Simulator.make({ scanners: [{ id: "scoped" }] })
          const r = yield* Effect.promise(() => fetch(`${sim.scanner("scoped").url}/server/status`))
          assert.strictEqual(r.status, 200)
          return sim.scanners[0]!.url
        })
      )
      const after = yield* Effect.promise(() => fetch(`${url}/server/status`).then(() => "open", () => "closed"))
      assert.strictEqual(after, "closed")
    }))
})
