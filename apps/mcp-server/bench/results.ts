/**
 * `pnpm bench:results`: `get_scan_results` pages of a 100 000-finding scan through the MCP HTTP transport,
 * side by side with re-parsing the `.nessus` XML for each page (the validator's streaming `Report` parser +
 * the same filter + slice), which is what a server without an index would do.
 *
 * The scan is generated once with the simulator's `Generator.writeExport` (1 000 hosts × 100 findings, cached
 * in the OS temp directory) and indexed by `bench/serve.ts ours <export>` the way a worker does it
 * (`FindingsIndex.build` into `DATA_DIR/<task>/index`, task completed in the **in-memory** scheduler of that
 * server process). The client here is the MCP SDK client over Streamable HTTP (2026-07-28 era), one call at a
 * time, following `next_cursor` like an agent.
 *
 * Target: p50 < 20 ms per page through MCP.
 */
import { Client, StreamableHTTPClientTransport } from "@modelcontextprotocol/client"
import { Generator } from "@nessus-mcp/nessus-simulator"
import { Findings, Report } from "@nessus-mcp/validator"
import { Effect } from "effect"
import { existsSync, statSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { benchToken, fmt, machine, quantile, serve, table } from "./common.ts"

const hosts = 1_000
const findingsPerHost = 100
const mcpPages = Number(process.env["BENCH_PAGES"] ?? 200)
const xmlPages = Number(process.env["BENCH_XML_PAGES"] ?? 3)

interface Variant {
  readonly label: string
  readonly args: Record<string, unknown>
  readonly profile: Findings.Profile
  readonly pageSize: number
  readonly filters?: Findings.Filters
}

const variants: ReadonlyArray<Variant> = [
  { label: "no filter (brief, 20/page)", args: {}, profile: "brief", pageSize: 20 },
  { label: "severity >= 3 (brief, 20/page)", args: { filters: { severity: ">=3" } }, profile: "brief", pageSize: 20, filters: { severity: ">=3" } },
  {
    label: "host CIDR + text (summary, 50/page)",
    args: { profile: "summary", page_size: 50, filters: { host: "10.0.0.0/24", plugin_name: "ssh" } },
    profile: "summary",
    pageSize: 50,
    filters: { host: "10.0.0.0/24", plugin_name: "ssh" }
  },
  { label: "full profile (10/page)", args: { profile: "full" }, profile: "full", pageSize: 10 }
]

/** One page by re-parsing the XML: stream every finding, filter, skip to the page, project. */
const xmlPage = (file: string, v: Variant, page: number) =>
  Effect.gen(function*() {
    const compiled = yield* Findings.compileFilters(v.filters)
    const fields = Findings.fieldsOf(v.profile)
    const start = (page - 1) * v.pageSize
    const out: Array<Record<string, unknown>> = []
    let total = 0
    let host: { name: string; ip: string | null; fqdn: string | null } | undefined
    yield* Report.forEachEvent(file, (e) => {
      if (e._tag === "HostStarted") host = { name: e.host.name, ip: e.host.ip, fqdn: e.host.fqdn }
      if (e._tag !== "Finding" || !Findings.matches(e.finding, compiled, host)) return
      if (total >= start && total < start + v.pageSize) out.push(Findings.project(e.finding, fields))
      total++
    })
    return { total, findings: out }
  })

const time = async <A>(f: () => Promise<A>): Promise<[number, A]> => {
  const started = performance.now()
  const a = await f()
  return [performance.now() - started, a]
}

const main = async () => {
  const file = join(tmpdir(), `nessus-bench-results-${hosts}x${findingsPerHost}.nessus`)
  if (!existsSync(file)) {
    process.stdout.write(`generating ${file} ... `)
    const truth = await Generator.writeExport(file, { hosts, findingsPerHost, seed: 8 })
    console.log(`${truth.findings} findings`)
  }
  const megabytes = statSync(file).size / 1048576
  console.log(`Results benchmark: ${file} (${fmt(megabytes, 0)} MB); ${machine()}`)
  const server = await serve(["ours", file], 300_000)
  console.log(`index built by the server in ${fmt(Number(server.facts["indexMs"]) / 1000, 1)} s: ${server.facts["findings"]} findings, ` +
    `${fmt(Number(server.facts["indexBytes"]) / 1048576, 1)} MB index`)
  const client = new Client({ name: "bench", version: "1.0.0" }, { versionNegotiation: { mode: "auto" } })
  await client.connect(new StreamableHTTPClientTransport(new URL(server.url), { requestInit: { headers: { authorization: `Bearer ${benchToken}` } } }))
  const taskId = String(server.facts["taskId"])
  const rows: Array<Array<string>> = []
  const verdicts: Array<string> = []
  try {
    for (const v of variants) {
      // Through MCP: follow next_cursor page after page; one warm-up call first.
      await client.callTool({ name: "get_scan_results", arguments: { task_id: taskId, ...v.args } })
      const latencies: Array<number> = []
      let cursor: string | null = null
      let total = 0
      let firstPage: ReadonlyArray<unknown> = []
      for (let i = 0; i < mcpPages; i++) {
        const args: Record<string, unknown> = { task_id: taskId, ...v.args, ...(cursor === null ? {} : { cursor }) }
        const [ms, result] = await time(() => client.callTool({ name: "get_scan_results", arguments: args }))
        if (result.isError === true) throw new Error(`get_scan_results failed: ${JSON.stringify(result.content)}`)
        const page = result.structuredContent as { total: number; next_cursor: string | null; findings: ReadonlyArray<unknown> }
        if (i === 0) firstPage = page.findings
        latencies.push(ms)
        total = page.total
        cursor = page.next_cursor
        if (cursor === null) break
      }
      // Re-parsing the XML per page: the first page and a few further ones (each costs a full parse).
      const xmlLatencies: Array<number> = []
      let xmlTotal = 0
      let xmlFirst: ReadonlyArray<unknown> = []
      for (let i = 0; i < xmlPages; i++) {
        const page = 1 + Math.floor((i * Math.max(1, Math.ceil(total / v.pageSize) - 1)) / Math.max(1, xmlPages - 1))
        const [ms, r] = await time(() => Effect.runPromise(xmlPage(file, v, page)))
        if (i === 0) xmlFirst = r.findings
        xmlLatencies.push(ms)
        xmlTotal = r.total
      }
      if (xmlTotal !== total) throw new Error(`${v.label}: the XML re-parse counted ${xmlTotal} findings, MCP ${total}`)
      if (xmlFirst.length !== firstPage.length) throw new Error(`${v.label}: first pages differ in length (${xmlFirst.length} vs ${firstPage.length})`)
      latencies.sort((a, b) => a - b)
      xmlLatencies.sort((a, b) => a - b)
      const [p50, p99] = [quantile(latencies, 0.5), quantile(latencies, 0.99)]
      const [x50, x99] = [quantile(xmlLatencies, 0.5), quantile(xmlLatencies, 0.99)]
      rows.push([v.label, fmt(total, 0), "MCP get_scan_results (index)", String(latencies.length), fmt(p50, 1), fmt(p99, 1)])
      rows.push(["", "", "re-parse XML per page", String(xmlLatencies.length), fmt(x50, 0), fmt(x99, 0)])
      rows.push(["", "", "**ratio** (re-parse / MCP)", "", `${fmt(x50 / p50, 0)}×`, `${fmt(x99 / p99, 0)}×`])
      verdicts.push(`${v.label}: p50 ${fmt(p50, 1)} ms (target < 20 ms: ${p50 < 20 ? "met" : "MISSED"}), p99 ${fmt(p99, 1)} ms`)
    }
  } finally {
    await client.close().catch(() => undefined)
    await server.stop()
  }
  console.log("")
  table(["query", "matching", "how", "pages", "p50 (ms)", "p99 (ms)"], rows, ["l", "r", "l", "r", "r", "r"])
  console.log("")
  for (const v of verdicts) console.log(v)
  console.log(`(after the run: ${machine()})`)
}

await main()
