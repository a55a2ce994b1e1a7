/**
 * `node bench/profile.ts [ours|bare] [2026-07-28|2025-11-25] [seconds]`: runs one `bench:mcp` load window
 * against a `bench/serve.ts` child started with `node --cpu-prof`, then prints where the server's CPU went:
 * the functions with the most self time, and the inclusive time of the frames that matter for a tool call
 * (our handler, the SDK's per-request server, the transport). The `.cpuprofile` stays in the printed
 * directory for Chrome DevTools / speedscope.
 *
 * This is the tool behind the "where the time goes" notes of `docs/performance.md`; it measures, it does not
 * judge (no target).
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
  readonly nodes: ReadonlyArray<ProfileNode>
  readonly samples: ReadonlyArray<number>
  readonly timeDeltas: ReadonlyArray<number>
}

const [mode = "ours", era = "2026-07-28", seconds = "8"] = process.argv.slice(2)
if ((mode !== "ours" && mode !== "bare") || (era !== "2026-07-28" && era !== "2025-11-25")) {
  process.stderr.write("usage: node bench/profile.ts [ours|bare] [2026-07-28|2025-11-25] [seconds]\n")
  process.exit(2)
}

const frameName = (node: ProfileNode): string => {
  const { functionName, lineNumber, url } = node.callFrame
  const file = url === "" ? "" : basename(url.replace(/\?.*$/, ""))
  return `${functionName || "(anonymous)"} ${file}${file === "" ? "" : `:${lineNumber + 1}`}`
}

const report = (profile: Profile, calls: number) => {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]))
  const parent = new Map<number, number>()
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id)
  const selfUs = new Map<number, number>()
  let total = 0
  profile.samples.forEach((id, i) => {
    const dt = profile.timeDeltas[i] ?? 0
    selfUs.set(id, (selfUs.get(id) ?? 0) + dt)
    total += dt
  })
  const self = new Map<string, number>()
  const inclusive = new Map<string, number>()
  for (const [id, us] of selfUs) {
    const name = frameName(byId.get(id)!)
    self.set(name, (self.get(name) ?? 0) + us)
    // Each distinct frame name on the stack gets the sample once (recursion is not double-counted).
    const seen = new Set<string>()
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const n = frameName(byId.get(at)!)
      if (seen.has(n)) continue
      seen.add(n)
      inclusive.set(n, (inclusive.get(n) ?? 0) + us)
    }
  }
  const busy = total - (self.get("(idle) ") ?? 0)
  const perCall = (us: number) => `${fmt(us / Math.max(1, calls), 1)} µs/call`
  console.log(`\nprofiled ${fmt(total / 1e6, 2)} s, busy ${fmt(busy / 1e6, 2)} s, ${calls} calls (${perCall(busy)} busy overall; startup is included)`)
  console.log("\ntop self time:")
  for (const [name, us] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 45)) {
    console.log(`  ${fmt((100 * us) / busy, 1).padStart(5)} %  ${perCall(us).padStart(16)}  ${name}`)
  }
  console.log("\ntop inclusive time:")
  for (const [name, us] of [...inclusive].sort((a, b) => b[1] - a[1]).slice(0, 60)) {
    console.log(`  ${fmt((100 * us) / busy, 1).padStart(5)} %  ${perCall(us).padStart(16)}  ${name}`)
  }
}

const main = async () => {
  const dir = mkdtempSync(join(tmpdir(), "nessus-mcp-prof-"))
  console.log(`profiling ${mode} (${era}) for ${seconds} s; ${machine()}`)
  const server = await serve([mode], 120_000, ["--cpu-prof", `--cpu-prof-dir=${dir}`])
  const request = mode === "ours"
    ? toolsCall(era, "get_scan_status", { task_id: String(server.facts["taskId"]) }, benchToken)
    : toolsCall(era, "ping", {})
  const check = (text: string) => rpcResult(text).result !== undefined
  const window = await load(server.url, server.child.pid!, request, check, { concurrency: 50, warmupMs: 1_000, windowMs: Number(seconds) * 1000 })
  await server.stop()
  console.log(`${fmt(window.perSecond, 0)} calls/s, p99 ${fmt(window.p99, 1)} ms, server CPU ${fmt(window.cpuMsPerCall, 3)} ms/call, errors ${window.errors}`)
  const file = readdirSync(dir).find((f) => f.endsWith(".cpuprofile"))
  if (file === undefined) throw new Error(`no .cpuprofile written to ${dir}`)
  console.log(`profile: ${join(dir, file)}`)
  report(JSON.parse(readFileSync(join(dir, file), "utf8")) as Profile, window.allCalls)
}

await main()
