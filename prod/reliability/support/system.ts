/**
 * Real processes for the reliability suite: the built `nessus-mcp` and `nessus-mcp-worker` executables and
 * the `nessus-simulator` CLI, each with everything it printed kept for the secret checks; an MCP SDK client
 * over Streamable HTTP; a Redis reader that walks every key of every type; and a reader of a simulated
 * scanner's exports (the ground truth the findings are compared with). Everything listens on 127.0.0.1.
 */
import { Client, StreamableHTTPClientTransport } from "@modelcontextprotocol/client"
import { Redis as IORedis } from "ioredis"
import { dumpKeys } from "../../../config/testing/redis.js"
import { type ChildProcess, spawn } from "node:child_process"
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs"
import { join } from "node:path"
import { fileURLToPath } from "node:url"

/** Repository root. */
export const repoRoot = fileURLToPath(new URL("../../../", import.meta.url))
/** The built `nessus-mcp` executable. */
export const serverBin = join(repoRoot, "apps", "mcp-server", "bin", "nessus-mcp.js")
/** The built `nessus-mcp-worker` executable. */
export const workerBin = join(repoRoot, "apps", "worker", "bin", "nessus-mcp-worker.js")
/** The built `nessus-simulator` CLI. */
export const simulatorBin = join(repoRoot, "packages", "nessus-simulator", "dist", "bin.js")

/** Fails fast with the build command when an executable is not built. */
export const requireBuilt = (): void => {
  const needed = [
    join(repoRoot, "apps", "mcp-server", "dist", "bin.js"),
    join(repoRoot, "apps", "worker", "dist", "bin.js"),
    simulatorBin
  ]
  for (const file of needed) {
    if (!existsSync(file)) throw new Error(`build first: pnpm build (from the repository root); missing ${file}`)
  }
}

/** A spawned process with everything it printed. */
export interface Proc {
  readonly name: string
  readonly child: ChildProcess
  /** stdout and stderr, interleaved as they arrived. */
  readonly output: () => string
  /** Sends `signal` and waits for the exit (SIGKILL after 15 s). */
  readonly stop: (signal?: NodeJS.Signals) => Promise<void>
  readonly exited: () => boolean
}

/** Spawns `node <bin> ...args` with exactly `env` (plus PATH), capturing stdout and stderr. */
export const spawnNode = (name: string, bin: string, args: ReadonlyArray<string>, env: Record<string, string>): Proc => {
  const chunks: Array<string> = []
  const child = spawn(process.execPath, [bin, ...args], {
    cwd: repoRoot,
    env: { PATH: process.env["PATH"] ?? "", ...env },
    stdio: ["ignore", "pipe", "pipe"]
  })
  child.stdout?.on("data", (c: Buffer) => chunks.push(c.toString("utf8")))
  child.stderr?.on("data", (c: Buffer) => chunks.push(c.toString("utf8")))
  const exited = () => child.exitCode !== null || child.signalCode !== null
  const stop = (signal: NodeJS.Signals = "SIGTERM") =>
    new Promise<void>((resolve) => {
      if (exited()) return resolve()
      const timer = setTimeout(() => child.kill("SIGKILL"), 15_000)
      child.once("exit", () => {
        clearTimeout(timer)
        resolve()
      })
      child.kill(signal)
    })
  return { name, child, output: () => chunks.join(""), stop, exited }
}

/** Polls `check` every `everyMs` until it returns a value (not undefined) or `timeoutMs` passes. */
export const waitFor = async <A>(what: string, check: () => Promise<A | undefined>, timeoutMs = 30_000, everyMs = 200): Promise<A> => {
  const start = Date.now()
  let last: unknown
  while (Date.now() - start < timeoutMs) {
    try {
      const value = await check()
      if (value !== undefined) return value
    } catch (error) {
      last = error
    }
    await sleep(everyMs)
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last === undefined ? "" : ` (last error: ${String(last)})`}`)
}

/** A real-time pause (the suite drives real processes; there is no clock to move). */
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

/** The simulator CLI on free ports; resolves with each scanner's URL by id once all of them listen. */
export const startSimulator = async (configFile: string): Promise<{ proc: Proc; urls: Record<string, string> }> => {
  const proc = spawnNode("simulator", simulatorBin, ["--config", configFile], {})
  const urls = await waitFor("the simulator to listen", async () => {
    if (proc.exited()) throw new Error(`the simulator exited: ${proc.output()}`)
    const found: Record<string, string> = {}
    for (const m of proc.output().matchAll(/nessus-simulator (\S+) listening on (http:\/\/127\.0\.0\.1:\d+)/g)) found[m[1]!] = m[2]!
    const expected = (readFileSync(configFile, "utf8").match(/^\s+- id: /gm) ?? []).length
    return Object.keys(found).length === expected ? found : undefined
  }, 20_000, 100)
  return { proc, urls }
}

/** A connected SDK client plus every tool result it received (for the secret checks). */
export interface McpClient {
  /** Calls a tool; returns the structured content, or throws with the error text. */
  readonly call: (name: string, args?: Record<string, unknown>) => Promise<any>
  /** Calls a tool and returns the raw result (for `isError` results). */
  readonly raw: (name: string, args?: Record<string, unknown>) => Promise<any>
  /** Every tool result so far, as JSON text. */
  readonly transcript: Array<string>
  readonly close: () => Promise<void>
}

/** An SDK client (`@modelcontextprotocol/client`) over Streamable HTTP with a bearer token. */
export const connectHttp = async (url: string, token: string): Promise<McpClient> => {
  const client = new Client({ name: "reliability-driver", version: "1.0.0" }, { versionNegotiation: { mode: "auto" } })
  await client.connect(new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers: { authorization: `Bearer ${token}` } } }))
  const transcript: Array<string> = []
  const raw = async (name: string, args: Record<string, unknown> = {}) => {
    const result = await client.callTool({ name, arguments: args })
    transcript.push(JSON.stringify(result))
    return result
  }
  return {
    raw,
    call: async (name, args) => {
      const result = await raw(name, args)
      if (result.isError) throw new Error(`${name} failed: ${(result.content as Array<{ text: string }>)[0]?.text}`)
      return result.structuredContent
    },
    transcript,
    close: () => client.close().catch(() => undefined)
  }
}

/** Every key of the Redis database with its value, whatever its type, as text lines `key value`. */
export const dumpRedis = async (url: string): Promise<string> => {
  const redis = new IORedis(url, { lazyConnect: true })
  await redis.connect()
  try {
    return await dumpKeys(redis)
  } finally {
    redis.disconnect()
  }
}

/** Every file under `dir` (recursively) with its content as text. */
export const readTree = (dir: string): Array<{ path: string; text: string }> => {
  if (!existsSync(dir)) return []
  const out: Array<{ path: string; text: string }> = []
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry)
    if (statSync(path).isDirectory()) out.push(...readTree(path))
    else out.push({ path, text: readFileSync(path).toString("latin1") })
  }
  return out
}

/** One finding as the comparison sees it. */
export interface FindingKey {
  readonly host: string
  readonly pluginId: number
  readonly port: number
  readonly severity: number
}

/** Hosts and findings of a `.nessus` v2 document (one `ReportItem` = one finding). */
export const findingsOfExport = (xml: string): { hosts: Array<string>; findings: Array<FindingKey> } => {
  const hosts: Array<string> = []
  const findings: Array<FindingKey> = []
  for (const block of xml.split(/<ReportHost /).slice(1)) {
    const host = /^name="([^"]*)"/.exec(block)?.[1] ?? "?"
    hosts.push(host)
    for (const m of block.matchAll(/<ReportItem ([^>]*)>/g)) {
      const attr = (name: string) => new RegExp(`\\b${name}="([^"]*)"`).exec(m[1]!)?.[1]
      findings.push({ host, pluginId: Number(attr("pluginID")), port: Number(attr("port")), severity: Number(attr("severity")) })
    }
  }
  return { hosts, findings }
}

/** The `.nessus` export of a scan, fetched from a simulated scanner through its REST API. */
export const exportFromScanner = async (url: string, scanId: number): Promise<string> => {
  const json = async (path: string, init: RequestInit = {}, token?: string) => {
    const res = await fetch(`${url}${path}`, {
      ...init,
      headers: { "content-type": "application/json", ...(token ? { "x-cookie": `token=${token}` } : {}) }
    })
    if (!res.ok) throw new Error(`${init.method ?? "GET"} ${path} on ${url}: HTTP ${res.status} ${await res.text()}`)
    return res
  }
  const login = await (await json("/session", { method: "POST", body: JSON.stringify({ username: "nessus", password: "nessus" }) })).json() as {
    token: string
  }
  const { file } = await (await json(`/scans/${scanId}/export`, { method: "POST", body: JSON.stringify({ format: "nessus" }) }, login.token))
    .json() as { file: number }
  await waitFor(`export ${file} of scan ${scanId}`, async () => {
    const s = await (await json(`/scans/${scanId}/export/${file}/status`, {}, login.token)).json() as { status: string }
    return s.status === "ready" ? true : undefined
  }, 20_000, 50)
  return (await json(`/scans/${scanId}/export/${file}/download`, {}, login.token)).text()
}

/** A small deterministic PRNG (mulberry32), so the chaos schedule can be replayed from its seed. */
export const prng = (seed: number): () => number => {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** Runs `f` over `items` with at most `limit` calls in flight. */
export const mapLimit = async <A, B>(items: ReadonlyArray<A>, limit: number, f: (a: A, i: number) => Promise<B>): Promise<Array<B>> => {
  const out = new Array<B>(items.length)
  let next = 0
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++
      out[i] = await f(items[i]!, i)
    }
  })
  await Promise.all(lanes)
  return out
}

/** A plain-text table (GitHub markdown). */
export const table = (head: ReadonlyArray<string>, rows: ReadonlyArray<ReadonlyArray<string | number>>): string => {
  const cells = [head, ...rows.map((r) => r.map(String))]
  const widths = head.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? "").length)))
  const line = (r: ReadonlyArray<string>) => `| ${r.map((c, i) => c.padEnd(widths[i]!)).join(" | ")} |`
  return [line(cells[0]!), `| ${widths.map((w) => "-".repeat(w)).join(" | ")} |`, ...cells.slice(1).map(line)].join("\n")
}
