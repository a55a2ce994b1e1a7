/**
 * End-to-end helpers: real processes (the built `nessus-mcp` and `nessus-mcp-worker` executables) with their
 * output captured for leak checks, SDK clients over real stdio and HTTP, a generated scanners.yaml for a
 * simulator on free ports, and a Redis reader that walks every key.
 */
import { Client, StreamableHTTPClientTransport } from "@modelcontextprotocol/client"
import { StdioClientTransport } from "@modelcontextprotocol/client/stdio"
import { type ChildProcess, spawn } from "node:child_process"
import { existsSync } from "node:fs"
import { createServer } from "node:net"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { Redis as IORedis } from "ioredis"
import { dumpKeys } from "../../../../config/testing/redis.js"

/** A port that was free a moment ago on 127.0.0.1. */
export const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = createServer()
    server.once("error", reject)
    server.listen(0, "127.0.0.1", () => {
      const address = server.address()
      server.close(() => resolve(typeof address === "object" && address !== null ? address.port : 0))
    })
  })

/** Repository root. */
export const repoRoot = fileURLToPath(new URL("../../../../", import.meta.url))
/** The built `nessus-mcp` executable. */
export const serverBin = join(repoRoot, "apps", "mcp-server", "bin", "nessus-mcp.js")
/** The built `nessus-mcp-all-in-one` executable. */
export const allInOneBin = join(repoRoot, "apps", "mcp-server", "bin", "nessus-mcp-all-in-one.js")
/** The built `nessus-mcp-worker` executable. */
export const workerBin = join(repoRoot, "apps", "worker", "bin", "nessus-mcp-worker.js")

/** Fails fast with the build command when an executable's `dist/` is missing. */
export const requireBuilt = (): void => {
  for (const [pkg, file] of [["mcp-server", "bin.js"], ["mcp-server", "binAllInOne.js"], ["worker", "bin.js"]] as const) {
    if (!existsSync(join(repoRoot, "apps", pkg, "dist", file))) {
      throw new Error(`build first: pnpm --filter @nessus-mcp/${pkg} build (missing apps/${pkg}/dist/${file})`)
    }
  }
}

/** A spawned process with everything it printed. */
export interface Proc {
  readonly child: ChildProcess
  readonly output: () => string
  readonly stop: (signal?: NodeJS.Signals) => Promise<void>
}

/** Spawns `node <bin> ...args` with exactly `env` (plus PATH), capturing stdout and stderr. */
export const spawnNode = (bin: string, args: ReadonlyArray<string>, env: Record<string, string>, cwd: string = repoRoot): Proc => {
  const chunks: Array<string> = []
  const child = spawn(process.execPath, [bin, ...args], {
    cwd,
    env: { PATH: process.env["PATH"] ?? "", ...env },
    stdio: ["ignore", "pipe", "pipe"]
  })
  child.stdout?.on("data", (c: Buffer) => chunks.push(c.toString("utf8")))
  child.stderr?.on("data", (c: Buffer) => chunks.push(c.toString("utf8")))
  const stop = (signal: NodeJS.Signals = "SIGTERM") =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve()
      const timer = setTimeout(() => child.kill("SIGKILL"), 15_000)
      child.once("exit", () => {
        clearTimeout(timer)
        resolve()
      })
      child.kill(signal)
    })
  return { child, output: () => chunks.join(""), stop }
}

/** Polls `check` every `everyMs` until it returns a value (not undefined) or `timeoutMs` passes. */
export const waitFor = async <A>(what: string, check: () => Promise<A | undefined>, timeoutMs = 30_000, everyMs = 150): Promise<A> => {
  const start = Date.now()
  let last: unknown
  while (Date.now() - start < timeoutMs) {
    try {
      const value = await check()
      if (value !== undefined) return value
    } catch (error) {
      last = error
    }
    await new Promise((r) => setTimeout(r, everyMs))
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last === undefined ? "" : ` (last error: ${String(last)})`}`)
}

/** A connected SDK client plus everything that went over the wire into tool results. */
export interface McpClient {
  readonly client: Client
  /** Calls a tool; returns the structured content, or throws with the error text. */
  readonly call: (name: string, args?: Record<string, unknown>) => Promise<any>
  /** Calls a tool and returns the raw result (for isError results). */
  readonly raw: (name: string, args?: Record<string, unknown>) => Promise<any>
  /** Every tool result seen so far, as JSON text. */
  readonly transcript: Array<string>
  readonly close: () => Promise<void>
}

const wrap = (client: Client, close: () => Promise<void>): McpClient => {
  const transcript: Array<string> = []
  const raw = async (name: string, args: Record<string, unknown> = {}) => {
    const result = await client.callTool({ name, arguments: args })
    transcript.push(JSON.stringify(result))
    return result
  }
  return {
    client,
    raw,
    call: async (name, args) => {
      const result = await raw(name, args)
      if (result.isError) throw new Error(`${name} failed: ${(result.content as Array<{ text: string }>)[0]?.text}`)
      return result.structuredContent
    },
    transcript,
    close
  }
}

/** `nessus-mcp --transport stdio` launched by the SDK's stdio client transport, as an MCP client config does. */
export const connectStdio = async (
  env: Record<string, string>,
  bin: string = serverBin
): Promise<McpClient & { readonly stderr: () => string }> => {
  const stderr: Array<string> = []
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [bin, "--transport", "stdio"],
    cwd: repoRoot,
    env: { PATH: process.env["PATH"] ?? "", ...env },
    stderr: "pipe"
  })
  transport.stderr?.on("data", (c: Buffer) => stderr.push(c.toString("utf8")))
  const client = new Client({ name: "e2e-stdio", version: "1.0.0" })
  await client.connect(transport)
  return { ...wrap(client, () => client.close().catch(() => undefined)), stderr: () => stderr.join("") }
}

/** An SDK client over Streamable HTTP with a bearer token. */
export const connectHttp = async (url: string, token: string): Promise<McpClient> => {
  const client = new Client({ name: "e2e-http", version: "1.0.0" }, { versionNegotiation: { mode: "auto" } })
  await client.connect(new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers: { authorization: `Bearer ${token}` } } }))
  return wrap(client, () => client.close().catch(() => undefined))
}

/** Every key and value in the Redis database, as text (for secret-leak checks). */
export const dumpRedis = async (url: string): Promise<string> => {
  const redis = new IORedis(url, { lazyConnect: true })
  await redis.connect()
  try {
    return await dumpKeys(redis)
  } finally {
    redis.disconnect()
  }
}

/** A scanners.yaml for two simulated scanners (capacity 2 each) and the simulator's target account. */
export const scannersYaml = (urls: ReadonlyArray<string>): string => `
default_pool: nessus
pools:
  nessus:
    allowed_targets: [192.0.2.0/24, 198.51.100.0/24]
    max_targets: 256
    scanners:
${urls.map((url, i) => `      - { instance_id: scanner${i + 1}, name: "Simulator ${i + 1}", url: "${url}", username: nessus, password: nessus, max_concurrent_scans: 2 }`).join("\n")}
credentials:
  linux-admin: { type: ssh, username: scanuser, password: scanpass, elevate_privileges_with: sudo, escalation_password: sudopass }
`
