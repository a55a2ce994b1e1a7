/**
 * `node bench/profile.ts [ours|bare|compare] [2026-07-28|2025-11-25] [seconds]`: runs one `bench:mcp` load
 * window against a `bench/serve.ts` child started with `node --cpu-prof` and prints where the server's CPU went
 * during the measured window (not startup or warm-up), per call: the functions with the most self time and
 * the frames with the most inclusive time. `compare` profiles both servers one after the other and prints, per
 * function, ours − bare: the list of what our server does more per call than the bare SDK server.
 *
 * The profiler's own overhead inflates every figure (compare the two servers, not absolute values). The
 * `.cpuprofile` files stay in the printed directories for Chrome DevTools / speedscope. This is the tool
 * behind the "where the time goes" notes of `docs/performance.md`; it measures, it does not judge.
 */
import { mkdtempSync, readdirSync, readFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { basename, join } from "node:path"
import { benchToken, fmt, load, machine, rpcResult, serve, toolsCall } from "./common.ts"

interface ProfileNode {
  readonly id: number
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number }
  readonly children?: ReadonlyArray<number>
}

interface Profile {
  readonly startTime: number
  readonly nodes: ReadonlyArray<ProfileNode>
  readonly samples: ReadonlyArray<number>
  readonly timeDeltas: ReadonlyArray<number>
}

/** µs per call by frame name, over the measured window. */
interface Breakdown {
  readonly calls: number
  readonly busyUs: number
  readonly self: ReadonlyMap<string, number>
  readonly inclusive: ReadonlyMap<string, number>
}

const [mode = "compare", era = "2026-07-28", seconds = "8"] = process.argv.slice(2)
if ((mode !== "ours" && mode !== "bare" && mode !== "compare") || (era !== "2026-07-28" && era !== "2025-11-25")) {
  process.stderr.write("usage: node bench/profile.ts [ours|bare|compare] [2026-07-28|2025-11-25] [seconds]\n")
  process.exit(2)
}

const frameName = (node: ProfileNode): string => {
  const { functionName, lineNumber, url } = node.callFrame
  const file = url === "" ? "" : basename(url.replace(/\?.*$/, ""))
  return `${functionName || "(anonymous)"} ${file}${file === "" ? "" : `:${lineNumber + 1}`}`
}

/** Self and inclusive time per frame over the samples taken between `from` and `to` (µs, monotonic clock). */
const breakdown = (profile: Profile, calls: number, from: number, to: number): Breakdown => {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]))
  const parent = new Map<number, number>()
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id)
  const selfUs = new Map<number, number>()
  let at = profile.startTime
  profile.samples.forEach((id, i) => {
    const dt = profile.timeDeltas[i] ?? 0
    at += dt
    if (at >= from && at <= to) selfUs.set(id, (selfUs.get(id) ?? 0) + dt)
  })
  const self = new Map<string, number>()
  const inclusive = new Map<string, number>()
  let busyUs = 0
  for (const [id, us] of selfUs) {
    const name = frameName(byId.get(id)!)
    if (name === "(idle) ") continue
    busyUs += us
    self.set(name, (self.get(name) ?? 0) + us / calls)
    // Each distinct frame name on the stack gets the sample once (recursion is not double-counted).
    const seen = new Set<string>()
    for (let up: number | undefined = id; up !== undefined; up = parent.get(up)) {
      const n = frameName(byId.get(up)!)
      if (seen.has(n)) continue
      seen.add(n)
      inclusive.set(n, (inclusive.get(n) ?? 0) + us / calls)
    }
  }
  return { calls, busyUs: busyUs / calls, self, inclusive }
}

const profileOne = async (which: "ours" | "bare"): Promise<Breakdown> => {
  const dir = mkdtempSync(join(tmpdir(), "nessus-mcp-prof-"))
  const server = await serve([which], 120_000, ["--cpu-prof", `--cpu-prof-dir=${dir}`])
  const request = which === "ours"
    ? toolsCall(era, "get_scan_status", { task_id: String(server.facts["taskId"]) }, benchToken)
    : toolsCall(era, "ping", {})
  const check = (text: string) => rpcResult(text).result !== undefined
  // The V8 profiler and hrtime share the monotonic clock, so the window can be cut out of the profile.
  const warmupMs = 1_000
  const from = Number(process.hrtime.bigint() / 1000n) + warmupMs * 1000
  const window = await load(server.url, server.child.pid!, request, check, { concurrency: 50, warmupMs, windowMs: Number(seconds) * 1000 })
  const to = Number(process.hrtime.bigint() / 1000n)
  await server.stop()
  const file = readdirSync(dir).find((f) => f.endsWith(".cpuprofile"))
  if (file === undefined) throw new Error(`no .cpuprofile written to ${dir}`)
  console.log(`${which}: ${fmt(window.perSecond, 0)} calls/s, p99 ${fmt(window.p99, 1)} ms, server CPU ${fmt(window.cpuMsPerCall, 3)} ms/call (unprofiled figures are lower); profile ${join(dir, file)}`)
  return breakdown(JSON.parse(readFileSync(join(dir, file), "utf8")) as Profile, window.calls, from, to)
}

const top = (entries: ReadonlyMap<string, number>, n: number): Array<[string, number]> => [...entries].sort((a, b) => b[1] - a[1]).slice(0, n)

const main = async () => {
  console.log(`profiling ${mode} (${era}), ${seconds} s window; ${machine()}`)
  if (mode === "compare") {
    const ours = await profileOne("ours")
    const bare = await profileOne("bare")
    console.log(`\nbusy CPU per call while profiled: ours ${fmt(ours.busyUs, 1)} µs, bare ${fmt(bare.busyUs, 1)} µs`)
    console.log("\nself time per call, ours − bare (µs), largest differences first:")
    const names = new Set([...ours.self.keys(), ...bare.self.keys()])
    const rows = [...names].map((n) => [n, ours.self.get(n) ?? 0, bare.self.get(n) ?? 0] as const).sort((a, b) => b[1] - b[2] - (a[1] - a[2]))
    for (const [name, o, b] of rows.slice(0, 50)) console.log(`  ${fmt(o - b, 2).padStart(8)}  (${fmt(o, 2).padStart(7)} vs ${fmt(b, 2).padStart(7)})  ${name}`)
    return
  }
  const result = await profileOne(mode)
  console.log(`\nbusy CPU per call while profiled: ${fmt(result.busyUs, 1)} µs`)
  console.log("\ntop self time per call:")
  for (const [name, us] of top(result.self, 45)) console.log(`  ${fmt(us, 2).padStart(8)} µs  ${name}`)
  console.log("\ntop inclusive time per call:")
  for (const [name, us] of top(result.inclusive, 60)) console.log(`  ${fmt(us, 2).padStart(8)} µs  ${name}`)
}

await main()
