import { type ChildProcess, spawn } from "node:child_process"
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { afterAll, onTestFinished } from "vitest"
import { repoRoot } from "./helpers.js"
import { selfSigned } from "./tls.js"

const bin = join(repoRoot, "packages", "nessus-simulator", "dist", "bin.js")

interface Started {
  readonly child: ChildProcess
  readonly lines: Array<string>
}

/** Starts the built CLI and resolves once it printed `expected` URL lines (or exited). */
const startCli = (args: ReadonlyArray<string>, expected: number): Promise<Started & { code: number | null; stderr: string }> =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], { stdio: ["ignore", "pipe", "pipe"] })
    const lines: Array<string> = []
    let stderr = ""
    let out = ""
    const timer = setTimeout(() => reject(new Error(`CLI did not start: ${stderr}`)), 15_000)
    child.stdout!.on("data", (d) => {
      out += d
      const all = out.split("\n").filter((l) => l !== "")
      if (all.length >= expected) {
        clearTimeout(timer)
        lines.push(...all)
        resolve({ child, lines, code: null, stderr })
      }
    })
    child.stderr!.on("data", (d) => (stderr += d))
    child.on("exit", (code) => {
      clearTimeout(timer)
      resolve({ child, lines, code, stderr })
    })
  })

const exited = (child: ChildProcess): Promise<number | null> =>
  new Promise((resolve) => {
    if (child.exitCode !== null) return resolve(child.exitCode)
    child.on("exit", (code) => resolve(code))
  })

describe("nessus-simulator CLI (built dist)", () => {
  const dir = mkdtempSync(join(tmpdir(), "nessus-sim-cli-"))
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  it("the bin entry exists", () => {
    assert.isTrue(existsSync(bin), `build the package first: ${bin}`)
  })

  it("starts one scanner, prints its URL, serves it, exits 0 on SIGTERM", async () => {
    const s = await startCli(["--port", "0"], 1)
    onTestFinished(() => void s.child.kill("SIGKILL"))
    const url = /(http:\/\/127\.0\.0\.1:\d+)/.exec(s.lines[0]!)?.[1]
    assert.isDefined(url, s.lines.join("\n"))
    const r = await fetch(`${url}/session`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ username: "nessus", password: "nessus" })
    })
    assert.strictEqual(r.status, 200)
    s.child.kill("SIGTERM")
    assert.strictEqual(await exited(s.child), 0)
  })

  it("serves several scanners from a YAML config, HTTPS via --tls-cert/--tls-key, exits 0 on SIGINT", async () => {
    const tls = selfSigned()
    onTestFinished(() => rmSync(tls.dir, { recursive: true, force: true }))
    const config = join(dir, "sim.yaml")
    writeFileSync(
      config,
      [
        "scanners:",
        "  - id: pro",
        "    port: 0",
        "    scanDurationMs: 100",
        "  - id: essentials",
        "    port: 0",
        "    scanApi: false",
        "    edition: essentials",
        "    users: [{ username: admin, password: secret }]",
        ""
      ].join("\n")
    )
    const s = await startCli(["--config", config, "--tls-cert", tls.certFile, "--tls-key", tls.keyFile], 2)
    onTestFinished(() => void s.child.kill("SIGKILL"))
    assert.strictEqual(s.lines.length, 2, s.stderr)
    assert.match(s.lines[0]!, /pro .*https:\/\/127\.0\.0\.1:\d+ \(scan_api: true\)/)
    assert.match(s.lines[1]!, /essentials .*https:\/\/127\.0\.0\.1:\d+ \(scan_api: false\)/)
    s.child.kill("SIGINT")
    assert.strictEqual(await exited(s.child), 0)
  })

  it("a bad config exits 2 with an error naming the key", async () => {
    const config = join(dir, "bad.yaml")
    writeFileSync(config, "scanners:\n  - id: x\n    port: 99999\n")
    const s = await startCli(["--config", config], 1)
    assert.strictEqual(s.code, 2)
    assert.include(s.stderr, "scanners[0].port")
    const typo = join(dir, "typo.yaml")
    writeFileSync(typo, "scanners:\n  - id: x\n    scanAPI: false\n")
    const t = await startCli(["--config", typo], 1)
    assert.strictEqual(t.code, 2)
    assert.include(t.stderr, "scanners[0].scanAPI is not a known key")
  })
})
