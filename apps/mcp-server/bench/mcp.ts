/**
 * `pnpm bench:mcp`: tool calls per second and latency of `get_scan_status` under 50 concurrent HTTP clients,
 * side by side with a bare MCP SDK server answering a trivial tool on the same transport (`bench/serve.ts`).
 *
 * Both servers run as child processes (one event loop each, like production); the load generator here keeps
 * 50 keep-alive connections busy with raw `tools/call` POSTs (the bytes the SDK client sends, in both protocol
 * eras), so the numbers measure the servers rather than the client library. Windows alternate between the two
 * servers (ours, bare, ours, bare, ... per era) so that machine noise hits both; each row is the best of its
 * windows. Server CPU per call comes from /proc and is steadier than wall time on a shared machine.
 *
 * Target: ours ≥ 70 % of the bare server's calls per second.
 */
import * as http from "node:http"
import { benchToken, cpuSeconds, type Era, fmt, machine, post, quantile, rpcResult, serve, table, toolsCall } from "./common.ts"

const concurrency = Number(process.env["BENCH_CONCURRENCY"] ?? 50)
const warmupMs = Number(process.env["BENCH_WARMUP_MS"] ?? 1_000)
const windowMs = Number(process.env["BENCH_WINDOW_MS"] ?? 4_000)
const rounds = Number(process.env["BENCH_ROUNDS"] ?? 3)

interface Window {
  readonly calls: number
  readonly perSecond: number
  readonly p50: number
  readonly p99: number
  readonly cpuMsPerCall: number
  readonly errors: number
}

/** Runs `concurrency` loops against `url` for warm-up + window; measures the window only. */
const load = async (url: string, pid: number, request: { body: string; headers: Record<string, string> }, check: (text: string) => boolean): Promise<Window> => {
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency })
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
  const loops = Array.from({ length: concurrency }, loop)
  await new Promise((r) => setTimeout(r, warmupMs))
  const cpu0 = cpuSeconds(pid)
  const t0 = performance.now()
  measuring = true
  await new Promise((r) => setTimeout(r, windowMs))
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

const best = (a: Window, b: Window): Window => (a.perSecond >= b.perSecond ? a : b)

const main = async () => {
  console.log(`MCP benchmark: ${concurrency} concurrent HTTP clients (keep-alive), best of ${rounds} alternating ${windowMs / 1000} s windows after ${warmupMs / 1000} s warm-up; ${machine()}`)
  const ours = await serve(["ours"])
  const bare = await serve(["bare"])
  const taskId = String(ours.facts["taskId"])
  const rows: Array<Array<string>> = []
  const verdicts: Array<string> = []
  try {
    for (const era of ["2026-07-28", "2025-11-25"] as const satisfies ReadonlyArray<Era>) {
      const oursRequest = toolsCall(era, "get_scan_status", { task_id: taskId }, benchToken)
      const bareRequest = toolsCall(era, "ping", {})
      const oursCheck = (text: string) => rpcResult(text).result?.structuredContent?.status === "completed"
      const bareCheck = (text: string) => rpcResult(text).result?.content?.[0]?.text === "ok"
      let o: Window | undefined
      let b: Window | undefined
      for (let round = 0; round < rounds; round++) {
        const ow = await load(ours.url, ours.child.pid!, oursRequest, oursCheck)
        o = o === undefined ? ow : best(o, ow)
        const bw = await load(bare.url, bare.child.pid!, bareRequest, bareCheck)
        b = b === undefined ? bw : best(b, bw)
      }
      if (o === undefined || b === undefined) throw new Error("BENCH_ROUNDS must be at least 1")
      const ratio = o.perSecond / b.perSecond
      const row = (label: string, w: Window) => [era, label, fmt(w.perSecond, 0), fmt(w.p50, 2), fmt(w.p99, 2), fmt(w.cpuMsPerCall, 3), String(w.calls), String(w.errors)]
      rows.push(row("nessus-mcp get_scan_status", o), row("bare SDK server, trivial tool", b))
      rows.push([era, "**ratio** (ours / bare)", `${fmt(ratio, 2)}×`, `${fmt(o.p50 / b.p50, 2)}×`, `${fmt(o.p99 / b.p99, 2)}×`, `${fmt(o.cpuMsPerCall / b.cpuMsPerCall, 2)}×`, "", ""])
      verdicts.push(`${era}: ${fmt(ratio * 100, 0)} % of the bare server's throughput (target ≥ 70 %: ${ratio >= 0.7 ? "met" : "MISSED"}); p99 ${fmt(o.p99, 1)} ms`)
    }
  } finally {
    await Promise.all([ours.stop(), bare.stop()])
  }
  console.log("")
  table(["protocol", "server", "calls/s", "p50 (ms)", "p99 (ms)", "server CPU ms/call", "calls", "errors"], rows, ["l", "l", "r", "r", "r", "r", "r", "r"])
  console.log("")
  for (const v of verdicts) console.log(v)
  console.log(`(after the run: ${machine()})`)
}

await main()
