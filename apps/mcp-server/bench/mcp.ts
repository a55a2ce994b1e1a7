/**
 * `pnpm bench:mcp`: tool calls per second and latency of `get_scan_status` under 50 concurrent HTTP clients,
 * side by side with a bare MCP SDK server answering a trivial tool on the same transport (`bench/serve.ts`).
 *
 * Both servers run as child processes (one event loop each, like production); the load generator here keeps
 * 50 keep-alive connections busy with raw `tools/call` POSTs (the bytes the SDK client sends, in both protocol
 * eras), so the numbers measure the servers rather than the client library. Windows alternate between the two
 * servers (ours, bare, ours, bare, ... per era) so that machine noise hits both; each row is the best of its
 * windows, and the spread of all windows is printed below the table. Server CPU per call comes from /proc and is
 * steadier than wall time on a shared machine. `BENCH_ERAS` (comma-separated) restricts the protocol eras.
 *
 * Target: ours ≥ 70 % of the bare server's calls per second.
 */
import { benchToken, type Era, fmt, load, machine, rpcResult, serve, table, toolsCall, type Window } from "./common.ts"

const concurrency = Number(process.env["BENCH_CONCURRENCY"] ?? 50)
const warmupMs = Number(process.env["BENCH_WARMUP_MS"] ?? 1_000)
const windowMs = Number(process.env["BENCH_WINDOW_MS"] ?? 4_000)
const rounds = Number(process.env["BENCH_ROUNDS"] ?? 3)
const options = { concurrency, warmupMs, windowMs }

const best = (windows: ReadonlyArray<Window>): Window => windows.reduce((a, b) => (a.perSecond >= b.perSecond ? a : b))
const median = (values: ReadonlyArray<number>): number => {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted.length % 2 === 1 ? sorted[(sorted.length - 1) / 2]! : (sorted[sorted.length / 2 - 1]! + sorted[sorted.length / 2]!) / 2
}
const range = (values: ReadonlyArray<number>, digits: number): string =>
  `${fmt(Math.min(...values), digits)}–${fmt(Math.max(...values), digits)} (median ${fmt(median(values), digits)})`

const eras = (process.env["BENCH_ERAS"] ?? "2026-07-28,2025-11-25").split(",").map((e) => e.trim()) as Array<Era>

const main = async () => {
  console.log(`MCP benchmark: ${concurrency} concurrent HTTP clients (keep-alive), best of ${rounds} alternating ${windowMs / 1000} s windows after ${warmupMs / 1000} s warm-up; ${machine()}`)
  if (rounds < 1) throw new Error("BENCH_ROUNDS must be at least 1")
  const ours = await serve(["ours"])
  const bare = await serve(["bare"])
  const taskId = String(ours.facts["taskId"])
  const rows: Array<Array<string>> = []
  const verdicts: Array<string> = []
  const spreads: Array<string> = []
  try {
    for (const era of eras) {
      const oursRequest = toolsCall(era, "get_scan_status", { task_id: taskId }, benchToken)
      const bareRequest = toolsCall(era, "ping", {})
      const oursCheck = (text: string) => rpcResult(text).result?.structuredContent?.status === "completed"
      const bareCheck = (text: string) => rpcResult(text).result?.content?.[0]?.text === "ok"
      const os: Array<Window> = []
      const bs: Array<Window> = []
      for (let round = 0; round < rounds; round++) {
        os.push(await load(ours.url, ours.child.pid!, oursRequest, oursCheck, options))
        bs.push(await load(bare.url, bare.child.pid!, bareRequest, bareCheck, options))
      }
      const o = best(os)
      const b = best(bs)
      const ratio = o.perSecond / b.perSecond
      const row = (label: string, w: Window) => [era, label, fmt(w.perSecond, 0), fmt(w.p50, 2), fmt(w.p99, 2), fmt(w.cpuMsPerCall, 3), String(w.calls), String(w.errors)]
      rows.push(row("nessus-mcp get_scan_status", o), row("bare SDK server, trivial tool", b))
      rows.push([era, "**ratio** (ours / bare)", `${fmt(ratio, 2)}×`, `${fmt(o.p50 / b.p50, 2)}×`, `${fmt(o.p99 / b.p99, 2)}×`, `${fmt(o.cpuMsPerCall / b.cpuMsPerCall, 2)}×`, "", ""])
      const cpuRatio = median(os.map((w) => w.cpuMsPerCall)) / median(bs.map((w) => w.cpuMsPerCall))
      verdicts.push(
        `${era}: ${fmt(ratio * 100, 0)} % of the bare server's throughput (target ≥ 70 %: ${ratio >= 0.7 ? "met" : "MISSED"}); ` +
          `p99 ${fmt(o.p99, 1)} ms (bare ${fmt(b.p99, 1)} ms); median server CPU per call ${fmt(cpuRatio, 2)}× the bare server's`
      )
      for (const [label, ws] of [["ours", os], ["bare", bs]] as const) {
        spreads.push(`${era} ${label}: calls/s ${range(ws.map((w) => w.perSecond), 0)}; p99 ms ${range(ws.map((w) => w.p99), 1)}; server CPU ms/call ${range(ws.map((w) => w.cpuMsPerCall), 3)}`)
      }
    }
  } finally {
    await Promise.all([ours.stop(), bare.stop()])
  }
  console.log("")
  table(["protocol", "server", "calls/s", "p50 (ms)", "p99 (ms)", "server CPU ms/call", "calls", "errors"], rows, ["l", "l", "r", "r", "r", "r", "r", "r"])
  console.log("")
  for (const v of verdicts) console.log(v)
  console.log(`all ${rounds} windows per row:`)
  for (const line of spreads) console.log(`  ${line}`)
  console.log(`(after the run: ${machine()})`)
}

await main()
