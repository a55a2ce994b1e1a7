/**
 * Shared pieces of the MCP server benchmarks: starting `bench/serve.ts` children, raw MCP HTTP requests
 * (the bytes the SDK client sends, without its per-call client-side cost), percentiles, CPU time of a child
 * from `/proc` (Linux), and the side-by-side table.
 */
import { type ChildProcess, spawn } from "node:child_process"
import { readFileSync } from "node:fs"
import * as http from "node:http"
import { availableParallelism, loadavg } from "node:os"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"

const here = dirname(fileURLToPath(import.meta.url))

/** Bearer token of the `ours` server (the load generator sends it). */
export const benchToken = "bench-token-0123456789abcdef"

/** A server child and what it announced. */
export interface Served {
  readonly child: ChildProcess
  readonly url: string
  readonly facts: Record<string, unknown>
  readonly stop: () => Promise<void>
}

/**
 * Starts `bench/serve.ts <args>` and waits for its JSON line. `nodeFlags` go to the child's `node` (e.g.
 * `--cpu-prof` for `bench/profile.ts`).
 */
export const serve = (args: ReadonlyArray<string>, timeoutMs = 120_000, nodeFlags: ReadonlyArray<string> = []): Promise<Served> =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...nodeFlags, join(here, "serve.ts"), ...args], { stdio: ["ignore", "pipe", "ignore"] })
    let buffer = ""
    const timer = setTimeout(() => {
      child.kill("SIGKILL")
      reject(new Error(`serve ${args.join(" ")} did not start within ${timeoutMs} ms`))
    }, timeoutMs)
    child.once("exit", (code) => reject(new Error(`serve ${args.join(" ")} exited with ${code}`)))
    child.stdout!.on("data", (chunk: Buffer) => {
      buffer += chunk.toString()
      const nl = buffer.indexOf("\n")
      if (nl === -1) return
      clearTimeout(timer)
      const facts = JSON.parse(buffer.slice(0, nl)) as Record<string, unknown>
      resolve({
        child,
        url: String(facts["url"]),
        facts,
        stop: () =>
          new Promise<void>((done) => {
            child.removeAllListeners("exit")
            child.once("exit", () => done())
            child.kill("SIGTERM")
          })
      })
    })
  })

/** CPU seconds (user + system) a process has used so far, from /proc/<pid>/stat. */
export const cpuSeconds = (pid: number): number => {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8")
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ")
  // utime and stime are fields 14 and 15 of the whole line, i.e. 12 and 13 after "(comm) state".
  return (Number(fields[11]) + Number(fields[12])) / 100
}

/** The protocol era of a raw request: the stateless 2026-07-28 revision, or 2025-11-25 (answers as SSE). */
export type Era = "2026-07-28" | "2025-11-25"

/** The JSON-RPC `tools/call` body and headers the SDK client sends for `era`. */
export const toolsCall = (era: Era, name: string, args: Record<string, unknown>, token?: string) => {
  const meta = era === "2026-07-28"
    ? {
      _meta: {
        "io.modelcontextprotocol/protocolVersion": era,
        "io.modelcontextprotocol/clientInfo": { name: "bench", version: "1.0.0" },
        "io.modelcontextprotocol/clientCapabilities": {}
      }
    }
    : {}
  const body = JSON.stringify({ method: "tools/call", params: { name, arguments: args, ...meta }, jsonrpc: "2.0", id: 1 })
  const headers: Record<string, string> = {
    "content-type": "application/json",
    accept: "application/json, text/event-stream",
    "mcp-protocol-version": era,
    "content-length": String(Buffer.byteLength(body)),
    ...(era === "2026-07-28" ? { "mcp-method": "tools/call", "mcp-name": name } : {}),
    ...(token === undefined ? {} : { authorization: `Bearer ${token}` })
  }
  return { body, headers }
}

/** Extracts the JSON-RPC message from a plain JSON or single-SSE-event answer. */
export const rpcResult = (text: string): { result?: any; error?: any } => {
  const data = text.startsWith("event:") || text.startsWith("data:")
    ? text.split("\n").filter((l) => l.startsWith("data: ")).map((l) => l.slice(6)).join("")
    : text
  return JSON.parse(data) as { result?: any; error?: any }
}

/** One POST on a keep-alive agent; resolves with status and body text. */
export const post = (agent: http.Agent, url: URL, request: { body: string; headers: Record<string, string> }) =>
  new Promise<{ status: number; text: string }>((resolve, reject) => {
    const req = http.request({ agent, host: url.hostname, port: url.port, path: url.pathname, method: "POST", headers: request.headers }, (res) => {
      const chunks: Array<Buffer> = []
      res.on("data", (c: Buffer) => chunks.push(c))
      res.once("end", () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString("utf8") }))
      res.once("error", reject)
    })
    req.once("error", reject)
    req.end(request.body)
  })

/** What one load window measured. */
export interface Window {
  readonly calls: number
  readonly perSecond: number
  readonly p50: number
  readonly p99: number
  /** Server CPU (user + system, from /proc) per call in the window. */
  readonly cpuMsPerCall: number
  readonly errors: number
}

/** Options of {@link load}. */
export interface LoadOptions {
  readonly concurrency: number
  readonly warmupMs: number
  readonly windowMs: number
}

/**
 * Keeps `concurrency` keep-alive loops posting `request` to `url` for warm-up + window and measures the window
 * only (`pid` is the server process, for its CPU time). `check` validates the first answer's body.
 */
export const load = async (
  url: string,
  pid: number,
  request: { body: string; headers: Record<string, string> },
  check: (text: string) => boolean,
  options: LoadOptions
): Promise<Window> => {
  const agent = new http.Agent({ keepAlive: true, maxSockets: options.concurrency })
  const target = new URL(url)
  const latencies: Array<number> = []
  let errors = 0
  let measuring = false
  let stop = false
  let checked = false
  const loop = async () => {
    while (!stop) {
      const started = performance.now()
      const { status, text } = await post(agent, target, request)
      const elapsed = performance.now() - started
      if (status !== 200 || (!checked && !check(text))) {
        errors++
        if (errors === 1) console.error(`unexpected answer (${status}): ${text.slice(0, 300)}`)
      }
      checked = true
      if (measuring) latencies.push(elapsed)
    }
  }
  const loops = Array.from({ length: options.concurrency }, loop)
  await new Promise((r) => setTimeout(r, options.warmupMs))
  const cpu0 = cpuSeconds(pid)
  const t0 = performance.now()
  measuring = true
  await new Promise((r) => setTimeout(r, options.windowMs))
  measuring = false
  const seconds = (performance.now() - t0) / 1000
  const cpu = cpuSeconds(pid) - cpu0
  stop = true
  await Promise.all(loops)
  agent.destroy()
  latencies.sort((a, b) => a - b)
  return {
    calls: latencies.length,
    perSecond: latencies.length / seconds,
    p50: quantile(latencies, 0.5),
    p99: quantile(latencies, 0.99),
    cpuMsPerCall: (cpu * 1000) / Math.max(1, latencies.length),
    errors
  }
}

/** The value at quantile `q` (0–1) of sorted numbers. */
export const quantile = (sorted: ReadonlyArray<number>, q: number): number =>
  sorted.length === 0 ? Number.NaN : sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!

/** Formats a number with `digits` decimals ("n/a" for NaN). */
export const fmt = (n: number, digits = 1): string => (Number.isFinite(n) ? n.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits }) : "n/a")

/** Prints a Markdown table. */
export const table = (header: ReadonlyArray<string>, rows: ReadonlyArray<ReadonlyArray<string>>, align?: ReadonlyArray<"l" | "r">): void => {
  const a = align ?? header.map((_, i) => (i === 0 ? "l" : "r"))
  console.log(`| ${header.join(" | ")} |`)
  console.log(`| ${a.map((x) => (x === "l" ? "---" : "---:")).join(" | ")} |`)
  for (const r of rows) console.log(`| ${r.join(" | ")} |`)
}

/** One line about the machine: load average, cores, Node version. */
export const machine = (): string =>
  `load average ${loadavg().map((l) => l.toFixed(2)).join(" ")} on ${availableParallelism()} cores, node ${process.version}`
