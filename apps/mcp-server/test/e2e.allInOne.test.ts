/**
 * The product's main command and the single-process modes, end to end: `nessus-mcp-all-in-one` (what
 * `pnpm start` runs) from the repository root with the repository's config/scanners.yaml, in memory and on
 * Redis, over HTTP (its printed URL, token and client lines are used as printed) and over stdio; and
 * `nessus-mcp --transport stdio` without REDIS_URL, which runs its own worker. Scanner ports come from
 * NESSUS_URL_1/2 (free ports) so the tests never collide with a running `pnpm start`.
 */
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { Simulator } from "@nessus-mcp/nessus-simulator"
import { randomBytes } from "node:crypto"
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import {
  allInOneBin,
  connectHttp,
  connectStdio,
  dumpRedis,
  freePort,
  type McpClient,
  type Proc,
  requireBuilt,
  scannersYaml,
  spawnNode,
  waitFor
} from "./support/e2e.js"

let dir: string
const procs: Array<Proc> = []
const clients: Array<McpClient> = []

beforeAll(() => {
  requireBuilt()
  dir = mkdtempSync(join(tmpdir(), "nessus-mcp-aio-"))
})

afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()))
  await Promise.all(procs.map((p) => p.stop()))
  if (dir) rmSync(dir, { recursive: true, force: true })
}, 30_000)

/** The environment of a fresh `pnpm start` with scanner and MCP ports moved to free ones. */
const startEnv = async (name: string, extra: Record<string, string> = {}) => ({
  NESSUS_URL_1: `http://127.0.0.1:${await freePort()}`,
  NESSUS_URL_2: `http://127.0.0.1:${await freePort()}`,
  MCP_PORT: String(await freePort()),
  DATA_DIR: join(dir, name),
  SIMULATOR_SCAN_DURATION_MS: "600",
  LOG_LEVEL: "info",
  ...extra
})

/** Submits an untrusted scan and waits for it to complete. */
const scanToCompletion = async (client: McpClient) => {
  const submitted = await client.call("run_untrusted_scan", { targets: "192.0.2.10", name: "first run" })
  assert.strictEqual(submitted.status, "queued")
  const done = await waitFor("the scan to complete", async () => {
    const s = await client.call("get_scan_status", { task_id: submitted.task_id })
    return ["completed", "failed", "cancelled", "timeout"].includes(s.status) ? s : undefined
  }, 30_000, 200)
  assert.strictEqual(done.status, "completed")
  const page = await client.call("get_scan_results", { task_id: submitted.task_id, filters: { severity: ">=2" } })
  assert.strictEqual(page.total, done.results_summary.severity_breakdown.critical + done.results_summary.severity_breakdown.high + done.results_summary.severity_breakdown.medium)
  return done
}

describe("e2e: the main command (nessus-mcp-all-in-one)", () => {
  it("starts simulator, worker and MCP server in one process and prints usable connection details", async () => {
    const proc = spawnNode(allInOneBin, [], await startEnv("memory"))
    procs.push(proc)
    const printed = await waitFor("the banner", async () => (proc.output().includes("Ctrl-C stops everything") ? proc.output() : undefined), 30_000)
    const url = /MCP URL\s+(http:\/\/127\.0\.0\.1:\d+\/mcp)/.exec(printed)?.[1]
    const token = /Bearer token\s+([0-9a-f]{64})/.exec(printed)?.[1]
    assert.isDefined(url, printed)
    assert.isDefined(token, printed)
    assert.include(printed, `claude mcp add --transport http nessus ${url} --header "Authorization: Bearer ${token}"`)
    const json = JSON.parse(/^\s*(\{"mcpServers".*\})\s*$/m.exec(printed)?.[1] ?? "null")
    assert.deepStrictEqual(json, { mcpServers: { nessus: { type: "http", url, headers: { Authorization: `Bearer ${token}` } } } })
    assert.include(printed, "in memory")
    assert.match(printed, /scanner1 http:\/\/127\.0\.0\.1:\d+ \(simulator\), scanner2/)

    const unauthenticated = await fetch(url!, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" })
    assert.strictEqual(unauthenticated.status, 401)
    const client = await connectHttp(url!, token!)
    clients.push(client)
    assert.strictEqual((await client.call("list_pools")).default_pool, "nessus")
    await scanToCompletion(client)
    // the simulator's default target account works with the repository's stored credential
    const auth = await client.call("run_authenticated_scan", {
      targets: "192.0.2.20",
      name: "first authenticated",
      scan_type: "authenticated_privileged",
      credential: "linux-admin"
    })
    const done = await waitFor("the authenticated scan", async () => {
      const s = await client.call("get_scan_status", { task_id: auth.task_id })
      return s.status === "completed" ? s : undefined
    }, 30_000, 200)
    assert.strictEqual(done.authentication_status, "success")
  }, 90_000)

  it("uses Redis when REDIS_URL is set", async () => {
    const prefix = `{aio-${randomBytes(4).toString("hex")}}:`
    const proc = spawnNode(allInOneBin, [], await startEnv("redis", { REDIS_URL: process.env["REDIS_URL"] ?? "", REDIS_KEY_PREFIX: prefix }))
    procs.push(proc)
    const printed = await waitFor("the banner", async () => (proc.output().includes("Ctrl-C stops everything") ? proc.output() : undefined), 30_000)
    assert.include(printed, "Redis (REDIS_URL)")
    const url = /MCP URL\s+(\S+)/.exec(printed)![1]!
    const token = /Bearer token\s+(\S+)/.exec(printed)![1]!
    const client = await connectHttp(url, token)
    clients.push(client)
    const done = await scanToCompletion(client)
    assert.include(await dumpRedis(process.env["REDIS_URL"] ?? ""), `${prefix}task:${done.task_id}`)
    await proc.stop()
    assert.strictEqual(proc.child.exitCode, 0, proc.output().slice(-2000))
  }, 90_000)

  it("serves an MCP client over stdio: the all-in-one, and nessus-mcp alone with its in-process worker", async () => {
    const aio = await connectStdio(await startEnv("stdio-aio"), allInOneBin)
    clients.push(aio)
    await scanToCompletion(aio)
    assert.include(aio.stderr(), "serving MCP on stdio")

    // nessus-mcp --transport stdio without REDIS_URL, as a Claude Desktop config would launch it
    const sim = await Simulator.start({ scanners: [{ id: "scanner1", port: 0, scanDurationMs: 400 }, { id: "scanner2", port: 0, scanDurationMs: 400 }] })
    try {
      const file = join(dir, "scanners.yaml")
      writeFileSync(file, scannersYaml(sim.scanners.map((s) => s.url)))
      const alone = await connectStdio({ SCANNER_CONFIG: file, DATA_DIR: join(dir, "stdio-alone"), LOG_LEVEL: "info" })
      clients.push(alone)
      await scanToCompletion(alone)
      assert.include(alone.stderr(), "in-process worker")
      await alone.close()
    } finally {
      await sim.close()
    }
  }, 90_000)
})
